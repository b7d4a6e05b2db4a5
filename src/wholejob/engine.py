"""Engines: where a workspace's records live and where its analysis runs.

Every analysis in wholejob is an Ibis expression, so it runs wherever an Ibis
backend runs. A workspace names its engine with a URL (``[engine] url`` in
``wholejob.toml``, ``$WHOLEJOB_ENGINE`` or ``--engine``):

``duckdb`` (default)
    The entity tables live in the workspace's DuckDB file.
``spark://local[N]``, ``spark://HOST:PORT``
    Apache Spark, in local mode with N cores or on a standalone master. The
    entity tables are Parquet datasets under the workspace's ``spark-tables``
    folder, one immutable version per import; ``manifest.json`` names the current
    version of each, and replacing it (an atomic rename) is the commit of an
    import. A killed import leaves at most unreferenced versions behind, which
    the next writer removes.

On either engine ``[engine.tables]`` can map an entity to a table that already
exists where the engine can read it: such an entity is read from there, cast to
the canonical contract, and never imported (docs/scaling.md).

The workspace's DuckDB file always holds what is not a sales record: schema
version, users and tokens, the import log. Its write lock is the workspace's
single-writer lock on every engine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import ibis
import ibis.expr.types as ir

from wholejob.errors import ConfigError, WorkspaceError
from wholejob.schema import ENTITIES, ENTITY_ORDER

if TYPE_CHECKING:
    import pyarrow as pa
    from ibis.backends import BaseBackend
    from pyspark.sql import SparkSession

__all__ = [
    "DUCKDB_MEMORY_CAP",
    "DUCKDB_SETTINGS",
    "ENGINE_ENV",
    "DuckDBEngine",
    "Engine",
    "EngineSpec",
    "SparkEngine",
    "parse_engine_url",
]

ENGINE_ENV = "WHOLEJOB_ENGINE"
SPARK_DIR = "spark-tables"
MANIFEST = "manifest.json"

_LOCAL = re.compile(r"^local(\[(\d+|\*)\])?$")
_MASTER = re.compile(r"^[A-Za-z0-9.\-]+:\d+$")
_ACCEPTED = "duckdb, spark://local, spark://local[N], spark://local[*] or spark://HOST:PORT"


@dataclass(frozen=True)
class EngineSpec:
    """A parsed engine URL: the kind of engine and, for Spark, its master."""

    kind: Literal["duckdb", "spark"]
    master: str | None = None


def parse_engine_url(url: str) -> EngineSpec:
    """Parse an engine URL (see the module doc); raise ConfigError naming the accepted forms."""
    u = url.strip()
    if u in ("duckdb", "duckdb://"):
        return EngineSpec("duckdb")
    if u in ("spark", "spark://"):
        return EngineSpec("spark", "local[*]")
    if u.startswith("spark://"):
        rest = u[len("spark://"):]
        if _LOCAL.match(rest):
            return EngineSpec("spark", rest)
        if _MASTER.match(rest):
            return EngineSpec("spark", u)
    raise ConfigError(f"unknown engine URL {url!r}: use {_ACCEPTED}")


def _contract(entity: str, t: ir.Table, ref: str) -> ir.Table:
    """Select and cast an external table to the entity's canonical columns."""
    ent = ENTITIES[entity]
    missing = [c for c in ent.column_names if c not in t.columns]
    required = [c for c in missing if c in ent.required]
    if required:
        raise ConfigError(
            f"engine.tables.{entity} = {ref!r} lacks required column(s) "
            f"{', '.join(required)} (the {entity} contract: docs/importing.md)"
        )
    return t.select(**{
        c.name: (t[c.name].cast(c.ibis_type) if c.name in t.columns
                 else ibis.null(c.ibis_type))
        for c in ent.columns
    })


class Engine:
    """Base of the engines: the Ibis backend analysis runs on, and its entity tables."""

    kind: str = ""

    def __init__(self, con: BaseBackend, tables: Mapping[str, str]) -> None:
        self.con = con
        self.external = dict(tables)

    def table(self, name: str) -> ir.Table:
        """The entity ``name`` as an Ibis table on this engine."""
        ref = self.external.get(name)
        if ref is not None:
            try:
                t = self.con.sql(f"SELECT * FROM {ref}")
            except Exception as e:  # the engine's own error type varies
                raise ConfigError(
                    f"engine.tables.{name} = {ref!r} cannot be read: {_first_line(e)}"
                ) from None
            return _contract(name, t, ref)
        return self.con.table(name)

    def check_writable(self, entities: list[str]) -> None:
        """Refuse to import entities that are read from existing tables."""
        mapped = [e for e in entities if e in self.external]
        if mapped:
            raise WorkspaceError(
                f"{', '.join(mapped)} {'is' if len(mapped) == 1 else 'are'} read from "
                "existing tables ([engine.tables] in wholejob.toml), not imported; "
                "load them where they live, or remove the mapping"
            )

    def materialize(self, expr: ir.Table) -> ir.Table:
        """Evaluate ``expr`` once on the engine and return the result as a table."""
        return expr.cache()

    def release(self, table: ir.Table) -> None:
        """Free what :meth:`materialize` holds for ``table`` once nothing will query it.

        Tables materialised from it stay valid: they hold their own rows. A table
        that is not an Ibis cache (Spark's cached views, which a view materialised
        from it may still be planned over) is kept.
        """
        if isinstance(table, ir.CachedTable):
            table.release()

    def close(self) -> None:
        """Release what this engine holds for the workspace."""


class DuckDBEngine(Engine):
    """The workspace's own DuckDB file (the default engine)."""

    kind = "duckdb"


# DuckDB settings a workspace takes from ``[engine.options]`` (DuckDB engine only).
DUCKDB_SETTINGS = ("memory_limit", "temp_directory")
# The default memory limit: half the machine's RAM, at most this. DuckDB's own
# default (80 % of RAM) lets an import of millions of rows hold everything in
# memory; under a limit it spills to the temporary directory instead. 2 GiB keeps
# a 10 M-activity analysis (DuckDB, Python and the text model's workers) under
# 4 GB in all; at 3 GiB it peaked at 4.2 GiB (docs/benchmarks.md).
DUCKDB_MEMORY_CAP = 2 * 1024**3
DUCKDB_TEMP_DIR = "duckdb-tmp"


def _physical_memory() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):  # not available on this platform
        return None


def default_duckdb_memory_limit() -> str:
    """Half the physical memory, capped at :data:`DUCKDB_MEMORY_CAP`, in DuckDB's syntax."""
    ram = _physical_memory()
    limit = DUCKDB_MEMORY_CAP if ram is None else min(DUCKDB_MEMORY_CAP, ram // 2)
    return f"{max(limit // 1024**2, 256)}MiB"


def duckdb_settings(root: Path, kind: str, options: Mapping[str, str]) -> dict[str, str]:
    """The DuckDB settings of a workspace's connection.

    ``memory_limit`` defaults to :func:`default_duckdb_memory_limit` and
    ``temp_directory`` (where DuckDB spills what does not fit) to the workspace's
    ``duckdb-tmp`` folder. On the DuckDB engine ``[engine.options]`` overrides
    either; on Spark those options are Spark's, and the defaults apply.
    """
    out = {"memory_limit": default_duckdb_memory_limit(),
           "temp_directory": str(root / DUCKDB_TEMP_DIR)}
    if kind == "duckdb":
        out.update({k: str(v) for k, v in options.items() if k in DUCKDB_SETTINGS})
    return out


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def _literal_path(path: Path) -> str:
    """A path Spark's reader takes literally (it expands glob characters such as ``[``)."""
    return re.sub(r"([\\\[\]{}*?])", r"\\\1", str(path))


def _spark_compiler() -> Any:
    """Ibis's Spark SQL compiler, with whitespace trimming that Spark reads correctly.

    Ibis 12 trims with ``TRIM(' \\t\\n\\r\\x0b\\x0c' FROM s)``; Spark reads the
    escaped form feed as the letter ``f``, so ``'staff'`` became ``'sta'``. The
    regular expression ``\\s`` means the same whitespace to Java as
    :data:`string.whitespace` does to Python.
    """
    from ibis.backends.sql.compilers.pyspark import PySparkCompiler

    class Compiler(PySparkCompiler):  # type: ignore[misc]
        def visit_Strip(self, op: Any, *, arg: Any) -> Any:
            return self.f.regexp_replace(arg, r"^\s+|\s+$", "")

        def visit_LStrip(self, op: Any, *, arg: Any) -> Any:
            return self.f.regexp_replace(arg, r"^\s+", "")

        def visit_RStrip(self, op: Any, *, arg: Any) -> Any:
            return self.f.regexp_replace(arg, r"\s+$", "")

    return Compiler()


_BASE_SESSIONS: dict[str, SparkSession] = {}


def _spark_session(master: str, options: Mapping[str, str]) -> SparkSession:
    """A session of its own on the process's Spark context for ``master``."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError(
            "the Spark engine needs pyspark: pip install 'wholejob[spark]' "
            "(and Java 17 or newer)"
        ) from None
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise ConfigError("the Spark engine needs Java 17 or newer; `java` is not on PATH")
    base = _BASE_SESSIONS.get(master)
    if base is None:
        builder = (
            SparkSession.builder.master(master).appName("wholejob")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.sql.ansi.enabled", "false")
        )
        for k, v in options.items():
            builder = builder.config(k, v)
        base = builder.getOrCreate()
        base.sparkContext.setLogLevel("ERROR")
        _BASE_SESSIONS[master] = base
    # A new session shares the context but has its own temporary views, so two
    # workspaces in one process never see each other's tables.
    session = base.newSession()
    session.conf.set("spark.sql.session.timeZone", "UTC")
    return session


class SparkEngine(Engine):
    """Apache Spark, with the entity tables as versioned Parquet datasets."""

    kind = "spark"

    def __init__(self, root: Path, master: str, tables: Mapping[str, str],
                 options: Mapping[str, str], empty: Mapping[str, pa.Schema]) -> None:
        self.session = _spark_session(master, options)
        con = ibis.pyspark.connect(self.session)
        con.compiler = _spark_compiler()
        super().__init__(con, tables)
        self.root = root
        self.master = master
        self._empty = dict(empty)
        self._staged: dict[str, str] = {}
        self.root.mkdir(parents=True, exist_ok=True)
        self._versions = self._read_manifest()
        self._register_all()

    # -- storage ---------------------------------------------------------------

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    @property
    def staging_dir(self) -> Path:
        """Where an import hands the rows it read to Spark (emptied after each import)."""
        return self.root / "staging"

    def _read_manifest(self) -> dict[str, str]:
        if not self.manifest_path.exists():
            return {}
        try:
            data = json.loads(self.manifest_path.read_text())
            return {str(k): str(v) for k, v in data["tables"].items()}
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise WorkspaceError(f"{self.manifest_path} is damaged: {e}") from None

    def _write_manifest(self, versions: Mapping[str, str]) -> None:
        tmp = self.manifest_path.with_name(f".{MANIFEST}.{uuid.uuid4().hex}")
        with tmp.open("w") as f:
            json.dump({"tables": dict(versions)}, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.manifest_path)  # atomic: the commit point of an import

    def _empty_version(self, entity: str) -> str:
        import pyarrow.parquet as pq

        version = f"{entity}/empty"
        path = self.root / version
        if not (path / "part-0.parquet").exists():
            path.mkdir(parents=True, exist_ok=True)
            pq.write_table(self._empty[entity].empty_table(), path / "part-0.parquet")
        return version

    def _register(self, entity: str, version: str) -> None:
        df = self.session.read.parquet(_literal_path(self.root / version))
        df.createOrReplaceTempView(entity)

    def _register_all(self) -> None:
        for name in ENTITY_ORDER:
            if name in self.external:
                continue
            version = self._versions.get(name) or self._empty_version(name)
            self._register(name, version)

    def collect_garbage(self) -> None:
        """Remove table versions no manifest names (left by a killed or failed import)."""
        keep = set(self._versions.values()) | set(self._staged.values())
        for name in ENTITY_ORDER:
            folder = self.root / name
            if not folder.is_dir():
                continue
            for child in folder.iterdir():
                if f"{name}/{child.name}" not in keep and child.name != "empty":
                    shutil.rmtree(child, ignore_errors=True)
        for stray in self.root.glob(f".{MANIFEST}.*"):
            stray.unlink(missing_ok=True)
        shutil.rmtree(self.staging_dir, ignore_errors=True)

    # -- writing (imports) -----------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Stage table versions in the block; commit them all at its end, or none."""
        self.collect_garbage()
        self._staged = {}
        try:
            yield
        except BaseException:
            staged, self._staged = self._staged, {}
            self._register_all()
            for version in staged.values():
                shutil.rmtree(self.root / version, ignore_errors=True)
            shutil.rmtree(self.staging_dir, ignore_errors=True)
            raise
        if self._staged:
            versions = {**self._versions, **self._staged}
            self._write_manifest(versions)
            self._versions = versions
        self._staged = {}
        self.collect_garbage()

    def replace(self, entity: str, expr: ir.Table) -> None:
        """Write ``expr`` as the entity's next version (visible now, committed by ``writing``)."""
        version = f"{entity}/{uuid.uuid4().hex}"
        path = self.root / version
        df = self.session.sql(self.con.compile(expr))
        df.write.mode("error").parquet(str(path))
        self._staged[entity] = version
        self._register(entity, version)

    def register_parquet(self, path: Path, name: str) -> ir.Table:
        """Expose a Parquet file written on this machine to Spark as a temporary view."""
        self.session.read.parquet(_literal_path(path)).createOrReplaceTempView(name)
        return self.con.table(name)

    def materialize(self, expr: ir.Table) -> ir.Table:
        # Not expr.cache(): Ibis's Spark backend does not register in-memory
        # tables (the text model's predictions) on that path, and Spark resolves
        # the plan later, after Ibis may have dropped them. A view registers
        # them and Spark keeps the resolved plan; CACHE TABLE computes it now.
        name = f"wj_materialized_{uuid.uuid4().hex}"
        self.con.create_view(name, expr)
        self.session.sql(f"CACHE TABLE {name}")
        return self.con.table(name)

    def close(self) -> None:
        for name in self.session.catalog.listTables():
            if name.isTemporary:
                self.session.catalog.dropTempView(name.name)


def connect_engine(url: str, *, root: Path, duckdb_con: BaseBackend,
                   tables: Mapping[str, str], options: Mapping[str, str]) -> Engine:
    """Open the engine ``url`` for a workspace whose DuckDB backend is ``duckdb_con``."""
    spec = parse_engine_url(url)
    if spec.kind == "duckdb":
        return DuckDBEngine(duckdb_con, tables)
    assert spec.master is not None
    empty = {n: duckdb_con.table(n).schema().to_pyarrow() for n in ENTITY_ORDER}
    return SparkEngine(root / SPARK_DIR, spec.master, tables, options, empty)


def describe(engine: Engine) -> dict[str, Any]:
    """What ``wholejob status`` and the settings page show about the engine."""
    out: dict[str, Any] = {"kind": engine.kind, "external_tables": dict(engine.external)}
    if isinstance(engine, SparkEngine):
        out["master"] = engine.master
        out["storage"] = str(engine.root)
    return out

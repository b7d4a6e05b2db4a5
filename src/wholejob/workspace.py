"""The workspace: a folder holding one DuckDB file and a TOML configuration.

A :class:`Workspace` owns the connection to its database, applies forward schema
migrations when it opens, and refuses a database written by a newer wholejob.
Tables are exposed as Ibis expressions, Arrow tables or pandas frames, on the
workspace's engine (:mod:`wholejob.engine`): the DuckDB file itself by default,
or Apache Spark.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import ibis

from wholejob import __version__
from wholejob.config import CONFIG_FILE, WorkspaceConfig, load_config, save_config
from wholejob.engine import (
    ENGINE_ENV,
    Engine,
    connect_engine,
    duckdb_settings,
    parse_engine_url,
)
from wholejob.errors import SchemaVersionError, WorkspaceError, WorkspaceLockedError
from wholejob.schema import ENTITIES, ENTITY_ORDER

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from ibis.backends import BaseBackend
    from ibis.backends.duckdb import Backend as DuckDBBackend

__all__ = [
    "DATABASE_FILE",
    "DEFAULT_WORKSPACE",
    "SCHEMA_VERSION",
    "Workspace",
    "default_workspace_path",
    "init_workspace",
    "open_workspace",
]

DATABASE_FILE = "wholejob.duckdb"
DEFAULT_WORKSPACE = "wholejob-workspace"
META_TABLE = "wholejob_meta"
IMPORT_LOG_TABLE = "import_log"


def default_workspace_path() -> Path:
    """Return ``$WHOLEJOB_WORKSPACE`` or ``./wholejob-workspace``."""
    return Path(os.environ.get("WHOLEJOB_WORKSPACE") or DEFAULT_WORKSPACE)


def _create_entity_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name in ENTITY_ORDER:
        cols = ", ".join(f'"{c.name}" {c.sql_type}' for c in ENTITIES[name].columns)
        con.execute(f'CREATE TABLE "{name}" ({cols})')
    con.execute(
        f"CREATE TABLE {IMPORT_LOG_TABLE} (import_id VARCHAR, finished_at TIMESTAMP, "
        "sources VARCHAR, summary VARCHAR)"
    )


def _create_auth_tables(con: duckdb.DuckDBPyConnection) -> None:
    # Accounts of the web dashboard and API (wholejob.access). No foreign keys:
    # DuckDB checks them eagerly, and removing a user removes its tokens in code.
    con.execute(
        "CREATE TABLE users (username VARCHAR PRIMARY KEY, role VARCHAR NOT NULL, "
        "rep_id VARCHAR, password_hash VARCHAR NOT NULL, created_at TIMESTAMP, "
        "password_changed_at TIMESTAMP)"
    )
    con.execute(
        "CREATE TABLE api_tokens (token_id VARCHAR PRIMARY KEY, username VARCHAR NOT NULL, "
        "token_hash VARCHAR NOT NULL, name VARCHAR, created_at TIMESTAMP, "
        "last_used_at TIMESTAMP)"
    )
    con.execute("CREATE TABLE auth_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")


# Forward migrations: MIGRATIONS[i] takes a database from schema version i to i + 1.
# Append to this list; never edit a migration that has shipped.
MIGRATIONS: list[Callable[[duckdb.DuckDBPyConnection], None]] = [
    _create_entity_tables,
    _create_auth_tables,
]
SCHEMA_VERSION = len(MIGRATIONS)


class Workspace:
    """An open workspace folder: configuration plus the database of imported records."""

    def __init__(self, path: Path, *, read_only: bool = False,
                 engine: str | None = None) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._config: WorkspaceConfig | None = None
        self._meta: DuckDBBackend | None = None
        self._engine: Engine | None = None
        self._engine_url = engine

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def config_path(self) -> Path:
        """Path of ``wholejob.toml``."""
        return self.path / CONFIG_FILE

    @property
    def database_path(self) -> Path:
        """Path of the DuckDB file."""
        return self.path / DATABASE_FILE

    @property
    def rejects_dir(self) -> Path:
        """Folder where imports write their rejects files."""
        return self.path / "rejects"

    @property
    def config(self) -> WorkspaceConfig:
        """The validated configuration (read once, on first use)."""
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def save_config(self, config: WorkspaceConfig) -> None:
        """Validate and store a new configuration."""
        save_config(config, self.config_path)
        self._config = config

    @property
    def engine_url(self) -> str:
        """The engine URL in force: ``engine=``, else ``$WHOLEJOB_ENGINE``, else the config's."""
        return self._engine_url or os.environ.get(ENGINE_ENV) or self.config.engine.url

    @property
    def engine(self) -> Engine:
        """The engine holding the entity tables, connected on first use."""
        if self._engine is None:
            cfg = self.config.engine
            self._engine = connect_engine(
                self.engine_url, root=self.path, duckdb_con=self.meta,
                tables=cfg.tables, options=cfg.options,
            )
        return self._engine

    @property
    def con(self) -> BaseBackend:
        """The Ibis backend analysis runs on (the engine's)."""
        return self.engine.con

    @property
    def meta(self) -> DuckDBBackend:
        """The Ibis backend of the workspace's DuckDB file, opened and migrated on first use.

        It holds users, tokens and the import log on every engine, and the entity
        tables when the engine is DuckDB.
        """
        if self._meta is None:
            self._meta = self._connect()
        return self._meta

    @property
    def raw(self) -> duckdb.DuckDBPyConnection:
        """The underlying DuckDB connection, for the storage layer."""
        return self.meta.con  # type: ignore[no-any-return]

    def _connect(self) -> DuckDBBackend:
        if not self.database_path.exists():
            raise WorkspaceError(
                f"{self.path} is not a wholejob workspace (no {DATABASE_FILE}); "
                "run `wholejob init` or `wholejob demo` first"
            )
        try:
            con = ibis.duckdb.connect(str(self.database_path), read_only=self.read_only)
        except duckdb.IOException as e:
            if "lock" in str(e).lower():
                raise WorkspaceLockedError(
                    f"{self.database_path} is in use by another wholejob process; "
                    "wait for it to finish (or stop `wholejob serve`) and try again"
                ) from None
            raise WorkspaceError(f"cannot open {self.database_path}: {e}") from None
        except duckdb.Error as e:
            raise WorkspaceError(f"cannot open {self.database_path}: {e}") from None
        self._apply_settings(con.con)
        _migrate(con.con, read_only=self.read_only, where=self.database_path)
        return con

    def _apply_settings(self, raw: duckdb.DuckDBPyConnection) -> None:
        """Cap DuckDB's memory and say where it spills (see ``duckdb_settings``).

        DuckDB's own progress bar is switched off: it writes to stdout, into a
        report the user may be piping, and wholejob shows its own progress.
        """
        raw.execute("SET enable_progress_bar = false")
        settings = duckdb_settings(self.path, parse_engine_url(self.engine_url).kind,
                                   self.config.engine.options)
        for name, value in settings.items():
            try:
                # Settings belong to the database instance, which every connection to
                # the file in this process shares; DuckDB refuses to move a temporary
                # directory in use, so a setting already in force is left alone.
                current = raw.execute("SELECT current_setting(?)", [name]).fetchall()[0][0]
                if name == "temp_directory" and str(current) == value:
                    continue
                raw.execute(f"SET {name} = ?", [value])
            except duckdb.Error as e:
                raise WorkspaceError(
                    f"{self.config_path}: engine.options.{name} = {value!r}: "
                    f"{str(e).strip().splitlines()[0]}"
                ) from None

    def close(self) -> None:
        """Close the engine and the database connection (they reopen on next use)."""
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        if self._meta is not None:
            self._meta.disconnect()
            self._meta = None

    @property
    def schema_version(self) -> int:
        """Schema version of the database."""
        return _stored_version(self.raw)

    def table(self, name: str) -> ibis.Table:
        """Return an entity table as an Ibis expression."""
        if name == IMPORT_LOG_TABLE:
            return self.meta.table(name)
        if name not in ENTITIES:
            known = ", ".join(ENTITY_ORDER)
            raise WorkspaceError(f"unknown table {name!r} (known: {known})")
        return self.engine.table(name)

    def to_arrow(self, name: str) -> pa.Table:
        """Return an entity table as a PyArrow table."""
        return self.table(name).to_pyarrow()

    def to_pandas(self, name: str) -> pd.DataFrame:
        """Return an entity table as a pandas DataFrame."""
        frame: pd.DataFrame = self.table(name).to_pandas()
        return frame

    def counts(self) -> dict[str, int]:
        """Return the number of rows in each entity table."""
        return {n: int(self.table(n).count().execute()) for n in ENTITY_ORDER}

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Run a block in one database transaction: all of it lands, or none."""
        raw = self.raw
        raw.execute("BEGIN TRANSACTION")
        try:
            yield raw
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        raw.execute("COMMIT")

    def import_log(self) -> list[dict[str, Any]]:
        """Return past imports, newest first, with their summaries."""
        rows = self.raw.execute(
            f"SELECT import_id, finished_at, sources, summary FROM {IMPORT_LOG_TABLE} "
            "ORDER BY finished_at DESC"
        ).fetchall()
        return [
            {"import_id": r[0], "finished_at": r[1].isoformat(), "sources": json.loads(r[2]),
             "summary": json.loads(r[3])}
            for r in rows
        ]


def _stored_version(raw: duckdb.DuckDBPyConnection) -> int:
    # fetchall, not fetchone: DuckDB refuses further work on a connection with an
    # unfinished result.
    exists = raw.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [META_TABLE]
    ).fetchall()
    if not exists[0][0]:
        return 0
    rows = raw.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'schema_version'").fetchall()
    return int(rows[0][0]) if rows else 0


def _migrate(raw: duckdb.DuckDBPyConnection, *, read_only: bool, where: Path) -> None:
    version = _stored_version(raw)
    if version > SCHEMA_VERSION:
        written_by = raw.execute(
            f"SELECT value FROM {META_TABLE} WHERE key = 'written_by'"
        ).fetchall()
        by = f"wholejob {written_by[0][0]}" if written_by else "a newer wholejob"
        raise SchemaVersionError(
            f"{where} has schema version {version}, written by {by}; this is wholejob "
            f"{__version__} (schema {SCHEMA_VERSION}): upgrade wholejob to open it"
        )
    if version == SCHEMA_VERSION:
        return
    if read_only:
        raise WorkspaceError(
            f"{where} needs a schema migration ({version} -> {SCHEMA_VERSION}); "
            "open it once for writing"
        )
    raw.execute("BEGIN TRANSACTION")
    try:
        if version == 0:
            raw.execute(f"CREATE TABLE {META_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR)")
        for step in MIGRATIONS[version:]:
            step(raw)
        raw.execute(
            f"INSERT OR REPLACE INTO {META_TABLE} VALUES ('schema_version', ?), ('written_by', ?)",
            [str(SCHEMA_VERSION), __version__],
        )
    except BaseException:
        raw.execute("ROLLBACK")
        raise
    raw.execute("COMMIT")


def init_workspace(path: Path | str, config: WorkspaceConfig | None = None) -> Workspace:
    """Create a workspace folder (config + empty database); an existing one is reused.

    An existing configuration file is kept unless ``config`` is given.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise WorkspaceError(f"{path} exists and is not a folder")
    path.mkdir(parents=True, exist_ok=True)
    ws = Workspace(path)
    if config is not None:
        ws.save_config(config)
    elif not ws.config_path.exists():
        ws.save_config(WorkspaceConfig())
    else:
        _ = ws.config  # validate the existing file now, not later
    duckdb.connect(str(ws.database_path)).close()
    _ = ws.meta  # runs the migrations
    return ws


def open_workspace(path: Path | str | None = None, *, read_only: bool = False,
                   engine: str | None = None) -> Workspace:
    """Open an existing workspace (default: ``$WHOLEJOB_WORKSPACE`` or ``./wholejob-workspace``)."""
    p = Path(path) if path is not None else default_workspace_path()
    if not p.is_dir():
        raise WorkspaceError(
            f"no workspace at {p}; run `wholejob init {p}` or `wholejob demo` to create one"
        )
    ws = Workspace(p, read_only=read_only, engine=engine)
    _ = ws.config
    _ = ws.meta
    return ws

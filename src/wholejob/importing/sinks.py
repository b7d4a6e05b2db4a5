"""Where an import's validated rows go: the workspace's engine.

The importer reads files with DuckDB (its CSV reader gives each rejected record a
line and column) and builds validation as Ibis expressions. A sink runs those
expressions on the workspace's engine and writes the accepted rows there:

* :class:`DuckDBSink` — the entity tables in the workspace's DuckDB file, through
  the SQL of :mod:`wholejob.importing.store`, in one DuckDB transaction.
* :class:`SparkSink` — the rows are handed to Spark as Parquet, validated and
  upserted by Spark through the same Ibis expressions, and each changed entity is
  written as a new table version that the import commits all at once
  (:meth:`wholejob.engine.SparkEngine.writing`).

On both, rejects, warnings and the import log are kept in the DuckDB file.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir

from wholejob.engine import SparkEngine
from wholejob.importing import store
from wholejob.importing.store import WriteCounts
from wholejob.schema import Entity

if TYPE_CHECKING:
    import duckdb

    from wholejob.workspace import Workspace

__all__ = ["DuckDBSink", "Sink", "SparkSink", "sink_for"]

_REJECT_COLUMNS = ("_src", "_line", "_column", "_value", "_reason", "_fields_ok")


class Sink:
    """The engine side of one import (see the module doc)."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.con: duckdb.DuckDBPyConnection = ws.raw

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything written in the block lands together, or nothing does."""
        with self.ws.transaction():
            yield

    def load(self, strings: ir.Table, name: str) -> ir.Table:
        """Make the source rows (an expression on the DuckDB file) readable by the engine."""
        return strings

    def materialize(self, name: str, expr: ir.Table) -> ir.Table:
        """Evaluate ``expr`` once on the engine; return it as a table."""
        raise NotImplementedError

    def view(self, name: str, expr: ir.Table) -> ir.Table:
        """Name ``expr`` for the steps that read it; the engine may evaluate it each time."""
        return self.materialize(name, expr)

    def stage(self, name: str, expr: ir.Table) -> ir.Table:
        """The field checks: evaluated once where that pays, else a view (:meth:`view`)."""
        return self.materialize(name, expr)

    def add_rejects(self, checked: ir.Table, name: str,
                    renames: Mapping[int, Mapping[str, str]]) -> tuple[dict[int, int], int]:
        """Record the rows carrying a ``_reason``; return counts per source part, and
        how many of them passed the field checks (``_fields_ok``: a duplicate or an
        unknown reference)."""
        raise NotImplementedError

    def upsert(self, entity: Entity, checked: ir.Table, name: str,
               accepted: Mapping[int, int]) -> dict[int, WriteCounts]:
        """Write the accepted rows by key; return inserted/updated/unchanged per part.

        ``accepted`` counts the rows without a ``_reason`` per source part.
        """
        raise NotImplementedError

    def add_warnings(self, found: ir.Table, renames: Mapping[int, Mapping[str, str]]
                     ) -> dict[str, int]:
        """Record unknown-reference warnings; return counts per column."""
        raise NotImplementedError

    def count(self, table: ir.Table) -> int:
        """The number of rows of ``table``."""
        return int(table.count().to_pyarrow().as_py())

    def drop(self, name: str) -> None:
        """Release what :meth:`materialize` made."""


class DuckDBSink(Sink):
    """Entity tables in the workspace's DuckDB file."""

    def materialize(self, name: str, expr: ir.Table) -> ir.Table:
        store.materialize(self.con, name, self.ws.meta.compile(expr))
        return self.ws.meta.table(name)

    def view(self, name: str, expr: ir.Table) -> ir.Table:
        store.create_view(self.con, name, self.ws.meta.compile(expr))
        return self.ws.meta.table(name)

    def stage(self, name: str, expr: ir.Table) -> ir.Table:
        # Streaming the sources again per step is cheaper than a table of every
        # row, which at millions of rows outgrows the memory limit and spills.
        return self.view(name, expr)

    def add_rejects(self, checked: ir.Table, name: str,
                    renames: Mapping[int, Mapping[str, str]]) -> tuple[dict[int, int], int]:
        return store.add_rejects(self.con, name, renames)

    def upsert(self, entity: Entity, checked: ir.Table, name: str,
               accepted: Mapping[int, int]) -> dict[int, WriteCounts]:
        return store.upsert(self.con, entity, name, accepted)

    def add_warnings(self, found: ir.Table, renames: Mapping[int, Mapping[str, str]]
                     ) -> dict[str, int]:
        return store.add_warnings(self.con, self.ws.meta.compile(found), renames)

    def drop(self, name: str) -> None:
        store.drop_tables(self.con, [name])
        store.drop_views(self.con, [name])


class SparkSink(Sink):
    """Entity tables as versioned Parquet datasets, validated and written by Spark."""

    def __init__(self, ws: Workspace, engine: SparkEngine) -> None:
        super().__init__(ws)
        self.engine = engine
        self._cached: dict[str, ir.Table] = {}

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # The DuckDB transaction (rejects bookkeeping, import log) wraps the
        # engine's: the manifest is replaced last, just before DuckDB commits.
        with self.ws.transaction(), self.engine.writing():
            yield

    def load(self, strings: ir.Table, name: str) -> ir.Table:
        folder = self.engine.staging_dir
        folder.mkdir(parents=True, exist_ok=True)
        # Spark's reader skips files whose names start with "_" or ".".
        path = folder / f"{name.strip('_')}-{uuid.uuid4().hex}.parquet"
        target = str(path).replace("'", "''")
        # Spark validates text: typed Parquet columns are formatted by DuckDB here,
        # exactly as they were read before validation learned to take them typed.
        text = strings.select(*(strings[c] if c in ("_src", "_line") else
                                strings[c].cast("string") for c in strings.columns))
        self.con.execute(
            f"COPY ({self.ws.meta.compile(text)}) TO '{target}' (FORMAT parquet)"
        )
        return self.engine.register_parquet(path, name)

    def materialize(self, name: str, expr: ir.Table) -> ir.Table:
        t = expr.cache()
        self._cached[name] = t
        return t

    def view(self, name: str, expr: ir.Table) -> ir.Table:
        # Spark plans the joins on the cached field checks each time it is read.
        return expr

    def _to_duckdb(self, table: ir.Table, name: str) -> None:
        self.con.register(name, table.to_pyarrow())

    def add_rejects(self, checked: ir.Table, name: str,
                    renames: Mapping[int, Mapping[str, str]]) -> tuple[dict[int, int], int]:
        local = f"{name}_rejects"
        self._to_duckdb(
            checked.filter(checked["_reason"].notnull()).select(*_REJECT_COLUMNS), local
        )
        try:
            return store.add_rejects(self.con, local, renames)
        finally:
            self.con.unregister(local)

    def add_warnings(self, found: ir.Table, renames: Mapping[int, Mapping[str, str]]
                     ) -> dict[str, int]:
        local = "_wj_spark_warnings"
        self._to_duckdb(found, local)
        try:
            return store.add_warnings(self.con, f"SELECT * FROM {local}", renames)
        finally:
            self.con.unregister(local)

    def upsert(self, entity: Entity, checked: ir.Table, name: str,
               accepted: Mapping[int, int]) -> dict[int, WriteCounts]:
        cols = entity.column_names
        target = self.engine.table(entity.name)
        src = checked.filter(checked["_reason"].isnull()).select(*cols, "_src")
        old = target.select(**{f"__t_{c}": target[c] for c in cols},
                            __wj_hit=ibis.literal(True))
        on = [_key_equal(src[k], old[f"__t_{k}"], k in entity.required) for k in entity.key]
        joined = src.left_join(old, on)
        same = ibis.and_(*[joined[c].identical_to(joined[f"__t_{c}"]) for c in cols])
        action = ibis.cases((joined["__wj_hit"].isnull(), "insert"), (same, "unchanged"),
                            else_="update")
        compared = joined.select(*cols, "_src", __wj_action=action).cache()
        try:
            rows = (compared.group_by(["_src", "__wj_action"])
                    .aggregate(n=compared.count()).to_pyarrow().to_pylist())
            out: dict[int, WriteCounts] = {}
            for r in rows:
                out.setdefault(int(r["_src"]), WriteCounts()).add(r["__wj_action"], int(r["n"]))
            if any(c.inserted or c.updated for c in out.values()):
                changed = compared.filter(compared["__wj_action"] != "unchanged").select(*cols)
                changed = changed.cast(target.schema())
                keys = changed.select(**{f"__k_{k}": changed[k] for k in entity.key})
                kept = target.anti_join(keys, [
                    _key_equal(target[k], keys[f"__k_{k}"], k in entity.required)
                    for k in entity.key
                ])
                self.engine.replace(entity.name, kept.union(changed, distinct=False))
            return out
        finally:
            compared.release()

    def drop(self, name: str) -> None:
        t = self._cached.pop(name, None)
        if t is not None:
            t.release()


def _key_equal(a: ir.Value, b: ir.Value, required: bool) -> ir.BooleanValue:
    # Required key columns are never NULL, so plain (hash-joinable) equality suffices.
    return a == b if required else a.identical_to(b)


def sink_for(ws: Workspace) -> Sink:
    """The sink for the workspace's engine."""
    engine = ws.engine
    if isinstance(engine, SparkEngine):
        return SparkSink(ws, engine)
    return DuckDBSink(ws)

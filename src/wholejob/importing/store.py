"""Storage for imports: the DuckDB statements that stage, compare and write rows.

Validation is engine-neutral Ibis; this module is the one place where an import
speaks DuckDB SQL: temporary bookkeeping tables (``_wj_*``) for rejects and
warnings, the upsert into workspace tables, the rejects CSV and the import log.
Everything runs on the caller's connection, inside the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from wholejob.schema import Entity
from wholejob.workspace import IMPORT_LOG_TABLE

__all__ = [
    "FILES_TABLE",
    "REJECTS_TABLE",
    "WARNINGS_TABLE",
    "WriteCounts",
    "add_file",
    "add_file_problem",
    "add_parse_rejects",
    "add_rejects",
    "add_warnings",
    "count",
    "create_view",
    "drop_tables",
    "drop_views",
    "materialize",
    "record_import",
    "start",
    "upsert",
    "write_csv",
]

FILES_TABLE = "_wj_files"
REJECTS_TABLE = "_wj_rejects"
WARNINGS_TABLE = "_wj_warnings"
_COMPARE_TABLE = "_wj_compare"


@dataclass
class WriteCounts:
    """Rows inserted, updated and left unchanged by an upsert, for one source part."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, action: str, n: int) -> None:
        """Count ``n`` rows of an upsert action (``insert``, ``update``, ``unchanged``)."""
        if action == "insert":
            self.inserted += n
        elif action == "update":
            self.updated += n
        else:
            self.unchanged += n


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def count(con: duckdb.DuckDBPyConnection, table: str, where: str = "TRUE") -> int:
    """Return the number of rows of ``table`` matching ``where``."""
    return int(con.execute(f"SELECT count(*) FROM {_q(table)} WHERE {where}").fetchall()[0][0])


def start(con: duckdb.DuckDBPyConnection) -> None:
    """Create the bookkeeping tables for files, rejects and warnings."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {FILES_TABLE} (_src INTEGER, file VARCHAR)")
    for name in (REJECTS_TABLE, WARNINGS_TABLE):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} (_src INTEGER, line BIGINT, "
            '"column" VARCHAR, value VARCHAR, reason VARCHAR)'
        )


def add_file(con: duckdb.DuckDBPyConnection, src: int, file: str) -> None:
    """Register source part ``src`` as coming from ``file`` (named so in rejects)."""
    con.execute(f"INSERT INTO {FILES_TABLE} VALUES (?, ?)", [src, file])


def add_file_problem(con: duckdb.DuckDBPyConnection, src: int, reason: str) -> None:
    """Record a file-level problem (a rejects line without a line number)."""
    con.execute(f"INSERT INTO {REJECTS_TABLE} VALUES (?, NULL, NULL, NULL, ?)", [src, reason])


def add_parse_rejects(con: duckdb.DuckDBPyConnection, src: int, table: str) -> None:
    """Record records the file reader could not parse (table of line/column/value/reason)."""
    con.execute(
        f'INSERT INTO {REJECTS_TABLE} SELECT ?, line, "column", value, reason FROM {_q(table)}',
        [src],
    )


def _renamed(renames: Mapping[int, Mapping[str, str]], column: str = "_column") -> str:
    """SQL for the reported column: the source file's name for a contract column."""
    arms = []
    for src, names in renames.items():
        for contract, source in names.items():
            if contract != source:
                arms.append(
                    f"WHEN _src = {int(src)} AND {column} = '{contract}' "
                    f"THEN '{source.replace(chr(39), chr(39) * 2)}'"
                )
    return f"CASE {' '.join(arms)} ELSE {column} END" if arms else column


def add_rejects(
    con: duckdb.DuckDBPyConnection, checked: str, renames: Mapping[int, Mapping[str, str]]
) -> tuple[dict[int, int], int]:
    """Record the rows of ``checked`` that carry a ``_reason``.

    Returns the counts per part and how many of those rows had passed the field
    checks (``_fields_ok``: rejected for a duplicate key or an unknown reference).
    ``checked`` is read once: the rejected rows are few, and counted from a copy.
    """
    staged = _q(f"{checked}_rejected")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {staged} AS SELECT _src, _line, _column, _value, "
        f"_reason, _fields_ok FROM {_q(checked)} WHERE _reason IS NOT NULL"
    )
    con.execute(
        f"INSERT INTO {REJECTS_TABLE} SELECT _src, _line, {_renamed(renames)}, _value, _reason "
        f"FROM {staged}"
    )
    rows = con.execute(
        f"SELECT _src, count(*), count(*) FILTER (WHERE _fields_ok) FROM {staged} GROUP BY _src"
    ).fetchall()
    con.execute(f"DROP TABLE {staged}")
    return {int(s): int(n) for s, n, _ in rows}, sum(int(late) for _, _, late in rows)


def add_warnings(
    con: duckdb.DuckDBPyConnection, sql: str, renames: Mapping[int, Mapping[str, str]]
) -> dict[str, int]:
    """Record warning rows (``_src, line, column, value, reason``); return counts per column."""
    staged = "_wj_new_warnings"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {staged} AS {sql}")
    reported = _renamed(renames, 'w."column"')
    con.execute(
        f"INSERT INTO {WARNINGS_TABLE} SELECT _src, line, {reported}, value, reason "
        f"FROM {staged} w"
    )
    rows = con.execute(f'SELECT "column", count(*) FROM {staged} GROUP BY 1').fetchall()
    con.execute(f"DROP TABLE {staged}")
    return {str(c): int(n) for c, n in rows}


def materialize(con: duckdb.DuckDBPyConnection, name: str, sql: str) -> None:
    """Evaluate a query once into the temporary table ``name``."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_q(name)} AS {sql}")


def create_view(con: duckdb.DuckDBPyConnection, name: str, sql: str) -> None:
    """Name a query as the temporary view ``name`` (evaluated wherever it is read)."""
    con.execute(f"CREATE OR REPLACE TEMP VIEW {_q(name)} AS {sql}")


def _same(a: str, b: str, cols: Sequence[str], *, strict: Sequence[str] = ()) -> str:
    # Required key columns are never NULL, so plain equality (hash-joinable) suffices.
    return " AND ".join(
        f"{a}.{_q(c)} = {b}.{_q(c)}" if c in strict
        else f"{a}.{_q(c)} IS NOT DISTINCT FROM {b}.{_q(c)}"
        for c in cols
    )


def upsert(con: duckdb.DuckDBPyConnection, entity: Entity, checked: str,
           accepted: Mapping[int, int]) -> dict[int, WriteCounts]:
    """Write the accepted rows of ``checked`` into the entity's table by key.

    A row whose key is new is inserted; a row whose key exists with different
    values replaces it; an identical row is left alone, so re-importing the same
    files writes nothing. ``accepted`` counts the rows without a ``_reason`` per
    source part. Returns the counts per source part.
    """
    cols = entity.column_names
    key = list(entity.key)
    required = entity.required
    col_list = ", ".join(_q(c) for c in cols)
    target = _q(entity.name)
    accepted_rows = f"FROM {_q(checked)} WHERE _reason IS NULL"
    if con.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {target})").fetchall()[0][0]:
        # An empty table (a first import): every accepted row is new. Insert them
        # straight away instead of staging a compare table as large as the import.
        con.execute(f"INSERT INTO {target} ({col_list}) SELECT {col_list} {accepted_rows}")
        return {int(src): WriteCounts(inserted=int(n)) for src, n in accepted.items() if n}
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_COMPARE_TABLE} AS "
        f"SELECT s.*, CASE WHEN t.__wj_hit IS NULL THEN 'insert' "
        f"WHEN {_same('s', 't', cols)} THEN 'unchanged' ELSE 'update' END AS __wj_action "
        f"FROM (SELECT {col_list}, _src FROM {_q(checked)} WHERE _reason IS NULL) s "
        f"LEFT JOIN (SELECT *, TRUE AS __wj_hit FROM {target}) t "
        f"ON {_same('s', 't', key, strict=required)}"
    )
    rows = con.execute(
        f"SELECT _src, __wj_action, count(*) FROM {_COMPARE_TABLE} GROUP BY ALL"
    ).fetchall()
    out: dict[int, WriteCounts] = {}
    for src, action, n in rows:
        out.setdefault(int(src), WriteCounts()).add(str(action), int(n))
    if any(c.updated for c in out.values()):
        con.execute(
            f"DELETE FROM {target} USING {_COMPARE_TABLE} c "
            f"WHERE c.__wj_action = 'update' AND {_same('c', target, key, strict=required)}"
        )
    if any(c.updated or c.inserted for c in out.values()):
        con.execute(
            f"INSERT INTO {target} ({col_list}) SELECT {col_list} FROM {_COMPARE_TABLE} "
            "WHERE __wj_action <> 'unchanged'"
        )
    con.execute(f"DROP TABLE {_COMPARE_TABLE}")
    return out


def write_csv(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> int:
    """Write a rejects or warnings table as ``file,line,column,value,reason``; return rows.

    Lines are in file order; the lines of one record (a row with two unknown
    references) in the order they were recorded, which the sort alone leaves open.
    """
    n = count(con, table)
    if n == 0:
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    target = str(path).replace("'", "''")
    con.execute(
        f'COPY (SELECT f.file, r.line, r."column", r.value, r.reason FROM {_q(table)} r '
        f"JOIN {FILES_TABLE} f USING (_src) ORDER BY r._src, r.line NULLS FIRST, r.rowid) "
        f"TO '{target}' (FORMAT csv, HEADER true)"
    )
    return n


def record_import(
    con: duckdb.DuckDBPyConnection,
    import_id: str,
    finished_at: datetime,
    sources: Sequence[str],
    summary: Mapping[str, Any],
) -> None:
    """Append one import to the workspace's import log."""
    con.execute(
        f"INSERT INTO {IMPORT_LOG_TABLE} VALUES (?, ?, ?, ?)",
        [import_id, finished_at, json.dumps(list(sources)), json.dumps(summary)],
    )


def drop_tables(con: duckdb.DuckDBPyConnection, names: Sequence[str]) -> None:
    """Drop temporary tables that may or may not exist."""
    for name in names:
        if _kind(con, name) == "table":
            con.execute(f"DROP TABLE {_q(name)}")


def drop_views(con: duckdb.DuckDBPyConnection, names: Sequence[str]) -> None:
    """Drop temporary views that may or may not exist."""
    for name in names:
        if _kind(con, name) == "view":
            con.execute(f"DROP VIEW {_q(name)}")


def _kind(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    rows = con.execute(
        "SELECT table_type FROM information_schema.tables "
        "WHERE table_catalog = 'temp' AND table_name = ?", [name]).fetchall()
    if not rows:
        return None
    return "view" if str(rows[0][0]).upper() == "VIEW" else "table"

"""Input files: finding them, telling which entity each holds, reading them into the engine.

A source file is read into a temporary engine table or view whose columns are the
file's columns plus ``_line`` (BIGINT), the position of the row in the file as the
rejects file reports it. CSV columns are VARCHAR; Parquet columns keep their types
(validation takes those of the contract's type as they are, and formats the rest
as text; mappings see text):

* CSV: ``_line`` is the *record* number counting the header as line 1, so the first
  data record is line 2. DuckDB counts records, not physical lines, so in a file
  with quoted newlines a record after a multi-line value gets a number smaller
  than its physical line number. Records the CSV reader cannot parse (invalid
  UTF-8, too few or too many columns, unterminated quotes) are not loaded; they
  are kept with their record number and the reason as *parse rejects*, and the
  accepted rows keep their true record numbers around the gaps.
* Parquet: ``_line`` is the 1-based row number in the file (there is no header).

File-level problems are reported, not raised: an empty file (0 bytes) and an
unreadable file are fatal for the import; a file with a header but no data rows is
not. Reading uses DuckDB table functions directly; it is the one place that
touches file formats.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from wholejob.errors import ImportFailed
from wholejob.schema import ENTITY_ORDER, entity

__all__ = [
    "SUFFIXES",
    "SourceRead",
    "drop_source_tables",
    "entity_for_file",
    "find_sources",
    "read_source",
    "unknown_entity_problem",
]

SUFFIXES = (".csv", ".parquet")

# DuckDB's reject error types, turned into reasons a user can act on.
_PARSE_REASONS = {
    "INVALID ENCODING": "invalid UTF-8 (save the file as UTF-8)",
    "MISSING COLUMNS": "too few columns",
    "TOO MANY COLUMNS": "too many columns",
    "UNQUOTED VALUE": "unquoted value after a quote",
    "LINE SIZE OVER MAXIMUM": "line too long",
    "CAST ERROR": "value cannot be read",
}


@dataclass(frozen=True)
class SourceRead:
    """The outcome of reading one file into the engine."""

    path: Path
    table: str  # temporary table or view of the file's columns, plus _line
    columns: tuple[str, ...]  # the file's column names, in file order
    rows: int  # rows loaded into ``table``
    parse_rejects: str | None  # temp table (line, column, value, reason), or None
    parse_rejected: int  # records the reader could not parse
    problem: str | None = None  # a file-level problem, if any
    fatal: bool = False  # whether ``problem`` stops the import

    @property
    def read(self) -> int:
        """Data records in the file: loaded plus unparseable."""
        return self.rows + self.parse_rejected


def find_sources(paths: Iterable[Path]) -> list[Path]:
    """Expand folders into their ``.csv`` and ``.parquet`` files, in name order.

    Files named explicitly are kept whatever their suffix (reading reports an
    unsupported one as a file-level problem); hidden files in folders are skipped.
    Raises :class:`ImportFailed` for a path that does not exist or a folder
    without data files.
    """
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = sorted(
                f for f in p.iterdir()
                if f.is_file() and not f.name.startswith(".") and f.suffix.lower() in SUFFIXES
            )
            if not found:
                raise ImportFailed(f"{p}: no .csv or .parquet files in this folder")
            out.extend(found)
        elif p.exists():
            out.append(p)
        else:
            raise ImportFailed(f"{p}: no such file or folder")
    seen: set[Path] = set()
    unique = []
    for f in out:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def entity_for_file(path: Path) -> str | None:
    """Return the entity a file holds by its name (entity or alias, any case), or None."""
    try:
        return entity(path.stem.strip()).name
    except KeyError:
        return None


def unknown_entity_problem(path: Path) -> str:
    """Explain that a file's entity cannot be told from its name."""
    names = ", ".join(ENTITY_ORDER)
    return (
        f"cannot tell which entity {path.name!r} holds: name it after one of {names} "
        "(or use --mapping / --preset)"
    )


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> tuple[str, ...]:
    rows = con.execute(f'DESCRIBE "{table}"').fetchall()
    return tuple(str(r[0]) for r in rows if r[0] != "_line")


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchall()[0][0])


def read_source(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> SourceRead:
    """Read ``path`` into the temporary table or view ``table`` (columns plus ``_line``)."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        return _problem(path, table, f"unsupported file type {path.suffix or '(none)'!r}; "
                        "use .csv or .parquet", fatal=True)
    try:
        size = path.stat().st_size
    except OSError as e:
        return _problem(path, table, f"cannot read file: {e.strerror or e}", fatal=True)
    if size == 0:
        return _problem(path, table, "file is empty", fatal=True)
    if suffix == ".csv" and (encoding := _wide_encoding(path)) is not None:
        return _problem(path, table, f"file is {encoding} text; save it as UTF-8 "
                        "(CSV UTF-8 in Excel) and import it again", fatal=True)
    try:
        if suffix == ".csv":
            result = _read_csv(con, path, table)
        else:
            result = _read_parquet(con, path, table)
    except duckdb.Error as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return _problem(path, table, f"cannot read file: {first}", fatal=True)
    if result.read == 0:
        what = "header only: no data rows" if suffix == ".csv" else "no data rows"
        return SourceRead(path, table, result.columns, 0, None, 0, what, fatal=False)
    return result


# Byte-order marks of encodings DuckDB's CSV reader cannot read (UTF-8's it skips).
_WIDE_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
              (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


def _wide_encoding(path: Path) -> str | None:
    """Name the UTF-16/32 encoding a file's byte-order mark declares, if any.

    Excel's "Unicode text" export is UTF-16; read as UTF-8 its header turns into
    noise and the import would only say required columns are missing.
    """
    try:
        with path.open("rb") as f:
            head = f.read(4)
    except OSError:
        return None
    return next((name for bom, name in _WIDE_BOMS if head.startswith(bom)), None)


def _problem(path: Path, table: str, problem: str, *, fatal: bool) -> SourceRead:
    return SourceRead(path, table, (), 0, None, 0, problem, fatal)


def _read_csv(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> SourceRead:
    raw, rej, scan = f"{table}_raw", f"{table}_rej", f"{table}_scan"
    # all_varchar: validation types the values; store_rejects: unparseable records
    # are kept (with their record number) instead of failing the whole read.
    con.execute(
        f'CREATE OR REPLACE TEMP TABLE "{raw}" AS SELECT * FROM read_csv('
        f"{_sql_string(str(path))}, all_varchar = true, header = true, "
        f"store_rejects = true, rejects_table = '{rej}', rejects_scan = '{scan}')"
    )
    rows = _count(con, f'SELECT count(*) FROM "{raw}"')
    prej = f"{table}_parse_rejects"
    # One reject per record: the first error DuckDB found on it. A field past the
    # header has no column name, so it is named by its position.
    con.execute(
        f'CREATE OR REPLACE TEMP TABLE "{prej}" AS '
        f"SELECT line::BIGINT AS line, coalesce(column_name, '(field ' || column_idx || "
        f"', past the header)') AS \"column\", csv_line AS value, "
        f"CASE error_type {_reason_cases()} ELSE lower(error_type::VARCHAR) || ': ' "
        f"|| error_message END AS reason FROM ("
        f"SELECT *, row_number() OVER (PARTITION BY line ORDER BY column_idx) AS _n "
        f'FROM "{rej}") WHERE _n = 1'
    )
    rejected = _count(con, f'SELECT count(*) FROM "{prej}"')
    # CREATE TABLE AS keeps file order (insertion order is preserved), and the
    # new table's row ids are consecutive, so rowid - first rowid is the ordinal.
    base = _count(con, f'SELECT coalesce(min(rowid), 0) FROM "{raw}"')
    if rejected == 0:
        con.execute(
            f'CREATE OR REPLACE TEMP VIEW "{table}" AS SELECT *, '
            f'(rowid - {base} + 2)::BIGINT AS _line FROM "{raw}"'
        )
    else:
        # The k-th loaded record gets the k-th record number that was not rejected.
        total = rows + rejected
        con.execute(
            f'CREATE OR REPLACE TEMP TABLE "{table}_lines" AS '
            f"SELECT n AS _line, row_number() OVER (ORDER BY n) - 1 AS __wj_k "
            f"FROM range(2, {total + 2}) r(n) "
            f'WHERE n NOT IN (SELECT line FROM "{prej}")'
        )
        con.execute(
            f'CREATE OR REPLACE TEMP VIEW "{table}" AS '
            f'SELECT r.*, l._line FROM "{raw}" r '
            f'JOIN "{table}_lines" l ON r.rowid - {base} = l.__wj_k'
        )
    return SourceRead(
        path, table, _columns(con, table), rows, prej if rejected else None, rejected
    )


def _reason_cases() -> str:
    return " ".join(
        f"WHEN {_sql_string(k)} THEN {_sql_string(v)}" for k, v in _PARSE_REASONS.items()
    )


def _read_parquet(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> SourceRead:
    # A view, not a copy: validation reads the typed columns straight from the
    # file, once. The count comes from the file's footer.
    con.execute(
        f'CREATE OR REPLACE TEMP VIEW "{table}" AS SELECT '
        "* EXCLUDE (file_row_number), (file_row_number + 1)::BIGINT AS _line "
        f"FROM read_parquet({_sql_string(str(path))}, file_row_number = true)"
    )
    rows = _count(con, f'SELECT count(*) FROM "{table}"')
    return SourceRead(path, table, _columns(con, table), rows, None, 0)


def drop_source_tables(con: duckdb.DuckDBPyConnection, reads: Sequence[SourceRead]) -> None:
    """Drop the temporary tables and views reading created."""
    for r in reads:
        con.execute(f'DROP VIEW IF EXISTS "{r.table}"')
        con.execute(f'DROP TABLE IF EXISTS "{r.table}"')  # Parquet sources are tables
        for suffix in ("_raw", "_lines", "_parse_rejects", "_rej", "_scan"):
            con.execute(f'DROP TABLE IF EXISTS "{r.table}{suffix}"')

"""Property-based tests of the importer on hostile files, through the real CLI.

Hypothesis writes files a CRM export (or an attacker) could produce: random
bytes, wrong encodings, byte-order marks, quoted newlines, huge fields, shuffled,
duplicated and missing columns, ragged rows, extreme numbers and dates. Each is
imported with ``wholejob import --format json`` (in-process, Typer's CliRunner)
into a copy of a small workspace that already holds the canonical team, so keys
collide, update and reference real rows. Whatever the input:

* no traceback: the command ends with exit 0, 1 or 2; exit 1 prints one line;
* a refused import (exit 1) leaves every table exactly as it was;
* every row is accounted for: per entity and per file ``inserted + updated +
  unchanged + rejected == read``; ``read`` equals the records Python's ``csv``
  module counts in the file (or the Parquet row count); each table grew by its
  ``inserted`` rows and no other table changed; the rejects file lists exactly
  ``rejected`` rows per file, each with file, line, column and reason;
* accepted values can be analysed: dates and timestamps are finite and within
  years 1-9999, numbers are finite.

Examples are derandomized, so CI runs the same inputs every time.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import CANONICAL, write_canonical
from wholejob.cli.app import app
from wholejob.schema import ENTITIES, ENTITY_ORDER, Column, Entity
from wholejob.workspace import DATABASE_FILE, init_workspace

pytestmark = [
    pytest.mark.slow,
    # Examples hold megabyte fields; Hypothesis warns when it renders them.
    pytest.mark.filterwarnings("ignore:Generating overly large repr"),
    # Raised while a failure is reported; it would hide the failure itself.
    pytest.mark.filterwarnings("ignore:mypy_extensions.TypedDict is deprecated"),
]

runner = CliRunner()
csv.field_size_limit(sys.maxsize)  # huge fields are part of the input
FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example],
)

# ------------------------------------------------------------------ workspace


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace holding the canonical team; each example imports into a copy of it."""
    root = tmp_path_factory.mktemp("fuzz")
    init_workspace(root / "ws").close()
    result = runner.invoke(app, ["import", str(write_canonical(root / "data")),
                                 "-w", str(root / "ws"), "-f", "json"])
    assert result.exit_code == 0, result.output
    return root / "ws"


def snapshot(ws: Path) -> dict[str, tuple[int, int]]:
    """Return the row count and an order-independent hash of every entity table."""
    con = duckdb.connect(str(ws / DATABASE_FILE), read_only=True)
    try:
        out = {}
        for name in ENTITY_ORDER:
            n, h = con.execute(f'SELECT count(*), sum(hash(t)) FROM "{name}" t').fetchall()[0]
            out[name] = (int(n), int(h or 0))
        return out
    finally:
        con.close()


def unusable(ws: Path, entity: Entity) -> list[tuple[Any, ...]]:
    """Return stored rows no analysis can use: infinite or out-of-range dates, NaN numbers."""
    checks = []
    for col in entity.columns:
        q = f'"{col.name}"'
        if col.dtype in ("date", "timestamp"):
            checks.append(f"NOT isfinite({q}) OR year({q}) NOT BETWEEN 1 AND 9999")
        elif col.dtype in ("float", "int"):
            checks.append(f"NOT isfinite({q}::DOUBLE)")
    con = duckdb.connect(str(ws / DATABASE_FILE), read_only=True)
    try:
        where = " OR ".join(f"({c})" for c in checks)
        return [tuple(r) for r in con.execute(
            f'SELECT * FROM "{entity.name}" WHERE {where} LIMIT 5').fetchall()]
    finally:
        con.close()


def import_and_check(template: Path, files: dict[str, bytes],
                     records: dict[str, int | None]) -> int:
    """Import ``files`` into a copy of ``template``, check every property, return the exit code.

    ``records`` gives, per file name, the data records an independent reader
    counts in it (None when the file is not valid CSV, so only the summary's own
    balance can be checked).
    """
    with tempfile.TemporaryDirectory(prefix="wholejob-fuzz-") as tmp:
        root = Path(tmp)
        ws = root / "ws"
        shutil.copytree(template, ws)
        data = root / "data"
        data.mkdir()
        paths = []
        for name, content in files.items():
            (data / name).write_bytes(content)
            paths.append(data / name)
        before = snapshot(ws)
        rejects_path = root / "rejects.csv"
        result = runner.invoke(app, ["import", *map(str, paths), "-w", str(ws), "-f", "json",
                                     "--rejects", str(rejects_path)])
        exc = result.exception
        assert exc is None or isinstance(exc, SystemExit), "".join(
            traceback.format_exception(exc))
        assert result.exit_code in (0, 1, 2), result.output
        assert "Traceback" not in result.output
        after = snapshot(ws)
        if result.exit_code == 1:
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
            assert after == before, "a refused import changed the workspace"
            return 1
        out = json.loads(result.stdout)
        rejects: list[dict[str, str]] = []
        if out["rejects_file"]:
            with Path(out["rejects_file"]).open(newline="", encoding="utf-8") as f:
                rejects = list(csv.DictReader(f))
        for name in ENTITY_ORDER:
            c = out["entities"].get(name)
            if c is None:
                assert after[name] == before[name], f"{name} changed without being imported"
                continue
            assert c["inserted"] + c["updated"] + c["unchanged"] + c["rejected"] == c["read"], c
            assert after[name][0] - before[name][0] == c["inserted"], (name, c)
            if c["inserted"] == c["updated"] == 0:
                assert after[name] == before[name], f"{name} changed but reports no writes"
            assert not unusable(ws, ENTITIES[name]), unusable(ws, ENTITIES[name])
        for fs in out["files"]:
            assert (fs["inserted"] + fs["updated"] + fs["unchanged"] + fs["rejected"]
                    == fs["read"]), fs
            expected = records.get(Path(fs["path"]).name)
            if expected is not None:
                assert fs["read"] == expected, (fs, expected)
            listed = [r for r in rejects if r["file"] == fs["path"] and r["line"]]
            assert len(listed) == fs["rejected"], (fs, listed)
            assert len({r["line"] for r in listed}) == len(listed), listed
            for r in listed:
                assert r["column"] and r["reason"], r
                assert "\n" not in r["reason"], r
                if expected is not None:  # CSV: the header is line 1; Parquet: row 1
                    first = 1 if fs["path"].endswith(".parquet") else 2
                    assert first <= int(r["line"]) < first + expected, (r, expected)
        if result.exit_code == 0:
            assert not rejects and not out["problems"]
        return int(result.exit_code)


# ------------------------------------------------------------------ values

EXTREME_NUMBERS = [
    "1e308", "1e309", "-1e308", "1e20", "-1e20", "9223372036854775807",
    "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "99999999999999999999999", "NaN", "nan", "inf", "-Infinity", "-0", "0x10", "1_000",
    "5e-324", " 7 ", "1,5", "١٢", "½", "+3", "3.", ".", "1e-400", "0.1e1",
]
EXTREME_DATES = [
    "0001-01-01", "9999-12-31", "10000-01-01", "294247-01-10", "5881580-07-11",
    "-5000-01-01", "infinity", "-infinity", "2024-02-30", "2024-13-01", "2024-02-29",
    "1900-02-29", "20240305", "2024-3-5", "05/03/2024", "1969-12-31T23:59:59.999999",
    "2024-06-30T23:59:60", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00",
    "294247-01-10T04:00:54.775807", "1970-01-01T00:00:00+99:99", "epoch", "now", "today",
    "2024-03-05T14:30:00.123456789Z", "2024-03-05 14:30", "2024-W10-2", "T14:30",
    "2024-03-05T25:00:00", "2024-03-31T02:30:00", "1582-10-10",
]
NASTY_TEXT = [
    "", " ", '"', '""', "'", ",", ";", "|", "\t", "\n", "\r\n", "\r", "a\nb", "a\r\nb\r\nc",
    'say "hi"', "a,b", '",\n"', "\x00", "a\x00b", "\ufeff", "\ufeffid", "é", "💥", "\u2028",
    "=cmd()", "NULL", "null", "\\N", "\\", "# not a comment", "#", "x" * 1000,
]


def _ids(entity: str) -> list[str]:
    key = ENTITIES[entity].key[0]
    return [row[key] for row in CANONICAL[entity]]


def valid_value(entity: Entity, col: Column) -> st.SearchStrategy[str]:
    """Plausible values of a column: known and new ids, enum spellings, typed values."""
    if col.ref is not None:
        target = col.ref.split(".")[0]
        return st.sampled_from([*_ids(target), "", "UNKNOWN9"])
    if col.name == entity.key[0] and col.name.endswith("_id"):
        return st.sampled_from([*_ids(entity.name), "N1", "N2", "N3", "n1"])
    if col.enum is not None:
        return st.sampled_from(col.enum).flatmap(
            lambda v: st.sampled_from([v, v.upper(), f" {v} "]))
    if col.enum_from == "stages":
        return st.sampled_from(["prospecting", "Closed Won", "proposal", "closedwon",
                                "Negotiation/Review", "Hibernating"])
    if col.enum_from is not None:
        return st.sampled_from(["prospecting", "closing", "other", "Qualification"])
    if col.dtype == "int":
        return st.integers(-1, 7).map(str)
    if col.dtype == "float":
        return st.floats(-10, 1e7, allow_nan=False).map(repr)
    if col.dtype == "date":
        return st.dates(date(1990, 1, 1), date(2035, 12, 31)).map(date.isoformat)
    if col.dtype == "timestamp":
        return st.tuples(
            st.datetimes(datetime(1990, 1, 1), datetime(2035, 12, 31)),
            st.sampled_from(["", "Z", "+02:00", "-05:30"]),
        ).map(lambda p: p[0].isoformat() + p[1])
    if col.dtype == "bool":
        return st.sampled_from(["true", "false", "yes", "no", "1", "0", "TRUE", "maybe"])
    return st.text(max_size=20)


def hostile_value() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(EXTREME_NUMBERS + EXTREME_DATES + NASTY_TEXT),
        st.text(max_size=30),
        st.text(alphabet=st.sampled_from(',"\r\n;|\t '), max_size=8),
    )


def cell(entity: Entity, col: Column | None) -> st.SearchStrategy[str]:
    if col is None:
        return hostile_value()
    return st.one_of(valid_value(entity, col), valid_value(entity, col), hostile_value())


FUZZED = ["reps", "accounts", "contacts", "opportunities", "opportunity_history",
          "activities", "assessments"]


@st.composite
def table_rows(draw: st.DrawFn, entity_name: str | None = None
               ) -> tuple[Entity, list[str], list[list[str]]]:
    """An entity, a header (shuffled, duplicated, extra, maybe missing columns) and rows."""
    entity = ENTITIES[entity_name or draw(st.sampled_from(FUZZED))]
    required = [c.name for c in entity.columns if c.required]
    optional = [c.name for c in entity.columns if not c.required]
    cols = list(required) + draw(st.lists(st.sampled_from(optional), unique=True))
    if draw(st.integers(0, 9)) == 0:  # sometimes a required column is missing
        cols.remove(draw(st.sampled_from(required)))
    cols += draw(st.lists(st.sampled_from(cols), max_size=2))  # duplicated columns
    cols += draw(st.lists(st.sampled_from(["notes", "Unnamed: 0", "", "_line", "rowid"]),
                          max_size=2, unique=True))
    header = draw(st.permutations(cols))
    case = draw(st.sampled_from([str, str, str.upper, str.title, lambda s: f" {s} "]))
    by_name = {c.name: c for c in entity.columns}
    row = st.tuples(*(cell(entity, by_name.get(h)) for h in header)).map(list)
    rows = draw(st.lists(row, max_size=25))
    for r in rows:  # ragged rows: a field too few or too many
        fault = draw(st.sampled_from([0] * 12 + [-1, 1]))
        if fault < 0 and len(r) > 1:
            r.pop()
        elif fault > 0:
            r.append(draw(hostile_value()))
    return entity, [case(h) for h in header], rows


def count_records(text: str) -> int:
    """Data records in CSV text as Python's csv module reads them (blank lines skipped)."""
    return max(0, sum(1 for rec in csv.reader(io.StringIO(text, newline="")) if rec) - 1)


@st.composite
def csv_files(draw: st.DrawFn, entity_name: str | None = None, *, huge: bool = True
              ) -> tuple[str, bytes, int | None]:
    """One CSV file: (file name, bytes, records an independent reader counts or None)."""
    entity, header, rows = draw(table_rows(entity_name))
    if huge and rows and draw(st.integers(0, 7)) == 0:  # a huge field, past DuckDB's line limit
        r = draw(st.integers(0, len(rows) - 1))
        c = draw(st.integers(0, len(rows[r]) - 1))
        size = draw(st.sampled_from([100_000, 1_500_000, 3_000_000]))
        rows[r][c] = draw(st.sampled_from(["x", "ab\n", 'q"', "é,"])) * (size // 3)
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator=draw(st.sampled_from(["\n", "\r\n"])),
                        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])))
    writer.writerow(header)
    writer.writerows(rows)
    text = buf.getvalue()
    if draw(st.booleans()):
        text = text.rstrip("\r\n")  # no newline at the end
    encoding = draw(st.sampled_from(
        ["utf-8", "utf-8", "utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"]))
    content = text.encode(encoding, errors="replace")
    records = None if encoding == "utf-16" else count_records(
        content.decode(encoding, errors="replace"))
    name = draw(st.sampled_from([entity.name, *entity.aliases])) + ".csv"
    name = draw(st.sampled_from([name, name.upper(), name.title()]))
    return name, content, records


# ------------------------------------------------------------------ tests


@FUZZ
@given(file=csv_files())
def test_hostile_csv_never_crashes_and_accounts_for_every_row(
    template: Path, file: tuple[str, bytes, int | None]
) -> None:
    name, content, records = file
    import_and_check(template, {name: content}, {name: records})


@settings(FUZZ, max_examples=20)
@given(first=csv_files("accounts", huge=False), second=csv_files("accounts", huge=False),
       third=csv_files("activities", huge=False))
def test_several_hostile_files_in_one_import(
    template: Path, first: tuple[str, bytes, int | None],
    second: tuple[str, bytes, int | None], third: tuple[str, bytes, int | None],
) -> None:
    files = {"accounts.csv": first[1], "companies.csv": second[1], "activities.csv": third[1]}
    records = {"accounts.csv": first[2], "companies.csv": second[2],
               "activities.csv": third[2]}
    import_and_check(template, files, records)


HEADERS = {
    "activities": b"activity_id,rep_id,type,started_at,duration_minutes\n",
    "accounts": b"account_id,name,employees,customer_since\n",
}


@FUZZ
@given(
    name=st.sampled_from(["activities.csv", "accounts.csv", "activities.parquet",
                          "reps.parquet", "deals.CSV"]),
    prefix=st.sampled_from([b"", b"\xef\xbb\xbf", *HEADERS.values()]),
    body=st.binary(max_size=4000),
)
def test_random_bytes_never_crash(template: Path, name: str, prefix: bytes,
                                  body: bytes) -> None:
    import_and_check(template, {name: prefix + body}, {name: None})


@FUZZ
@given(body=st.lists(st.sampled_from(
    [b"T9,R1,call,2024-01-01T10:00:00,5\n", b"T9,R1,call,2024-01-01T10:00:00,5\r\n",
     b'"T8","R1","call","2024-01-01",""\n', b"\n", b"\r\n", b",,,,\n", b'"', b'""', b",",
     b"\xff", b"\xc3", b"\xe2\x80", b"\x00", b"\xef\xbb\xbf", b"\t", b";", b"\r"]),
    max_size=60).map(b"".join))
def test_spliced_fragments_never_crash(template: Path, body: bytes) -> None:
    name = "activities.csv"
    import_and_check(template, {name: HEADERS["activities"] + body}, {name: None})


def _typed_column(values: list[Any], kind: str) -> pa.Array:
    types: dict[str, pa.DataType] = {
        "str": pa.string(), "int": pa.int64(), "float": pa.float64(),
        "date": pa.date32(), "ts": pa.timestamp("us"), "tstz": pa.timestamp("us", "UTC"),
        "bool": pa.bool_(),
    }
    return pa.array(values, type=types[kind])


EXTREME_TYPED: dict[str, list[Any]] = {
    "int": [0, 1, -1, 2**63 - 1, -(2**63), 2**53 + 1, None],
    "float": [0.0, -0.0, 1e308, -1e308, 5e-324, float("nan"), float("inf"), float("-inf"),
              None],
    "date": [date(1, 1, 1), date(9999, 12, 31), date(2024, 2, 29), None],
    "ts": [datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59, 999999),
           datetime(2024, 3, 31, 2, 30), None],
    "str": ["", " ", "\x00", "a\nb", "💥", "x" * 100_000, "infinity", "1e20", None],
    "bool": [True, False, None],
}
RAW_EXTREMES: dict[str, list[int]] = {  # values pyarrow holds but Python dates cannot
    "date": [2**31 - 1, -(2**31)],
    "ts": [2**63 - 1, -(2**63) + 1],
}


@st.composite
def parquet_files(draw: st.DrawFn) -> tuple[str, bytes, int]:
    """A Parquet file with typed columns holding extreme values (and raw day counts)."""
    entity = ENTITIES[draw(st.sampled_from(["accounts", "activities", "opportunities",
                                            "assessments", "reps"]))]
    n = draw(st.integers(1, 12))
    arrays: dict[str, pa.Array] = {}
    for col in entity.columns:
        if not col.required and draw(st.booleans()):
            continue
        kind = {"int": "int", "float": "float", "date": "date", "timestamp": "ts",
                "bool": "bool"}.get(col.dtype, "str")
        kind = draw(st.sampled_from([kind, kind, "str", "float", "int"]))
        if kind == "str":
            pool = [*EXTREME_TYPED["str"], *(
                [draw(valid_value(entity, col))] * 4)]
            arrays[col.name] = _typed_column(draw(st.lists(st.sampled_from(pool),
                                                           min_size=n, max_size=n)), "str")
        elif kind in RAW_EXTREMES and draw(st.booleans()):
            raw = draw(st.lists(st.sampled_from([*RAW_EXTREMES[kind], 0, 19_000]),
                                min_size=n, max_size=n))
            typ = pa.date32() if kind == "date" else pa.timestamp("us")
            arrays[col.name] = pa.array(raw, pa.int64()).cast(
                pa.int32() if kind == "date" else pa.int64()).view(typ)
        else:
            arrays[col.name] = _typed_column(draw(st.lists(
                st.sampled_from(EXTREME_TYPED[kind]), min_size=n, max_size=n)), kind)
    buf = io.BytesIO()
    pq.write_table(pa.table(arrays), buf)
    return f"{entity.name}.parquet", buf.getvalue(), n


@FUZZ
@given(file=parquet_files())
def test_parquet_with_extreme_typed_values(template: Path,
                                           file: tuple[str, bytes, int]) -> None:
    name, content, n = file
    import_and_check(template, {name: content}, {name: n})


# ------------------------------------------------------------------ pinned cases

Case = Callable[[], tuple[str, bytes]]


@pytest.mark.parametrize(("name", "content", "code"), [
    ("accounts.csv", b"\xef\xbb\xbfaccount_id,name\nA5,Bom\n", 0),
    ("accounts.csv", b"account_id,name,employees\nA5,X,1e20\nA6,Y,3\n", 2),
    ("accounts.csv", b"account_id,name,customer_since\nA5,X,infinity\nA6,Y,294247-01-10\n"
                     b"A7,Z,2024-01-01\n", 2),
    ("activities.csv", b"activity_id,rep_id,type,started_at\nX1,R1,call,infinity\n"
                       b"X2,R1,call,9999-12-31T23:59:59-12:00\nX3,R1,call,2024-01-01\n", 2),
    ("accounts.csv", b'account_id,name\nA5,"two\nlines"\nA6,"say ""hi"""\n', 0),
    ("accounts.csv", b"account_id,name\nA5,X,extra\nA6\nA7,Z\n", 2),
    ("accounts.csv", b'account_id,name,icp_tier\nA5,X,"a\r\nb"\n', 2),
])
def test_pinned_hostile_inputs(template: Path, name: str, content: bytes, code: int) -> None:
    assert import_and_check(template, {name: content},
                            {name: count_records(content.decode("utf-8-sig"))}) == code

"""The import at scale: DuckDB's memory cap, spilling, and typed Parquet columns.

Large imports are held to a memory limit and spill to the workspace; typed
Parquet columns are validated as they are instead of through text. Neither may
change what lands or what is rejected, so each test compares with the plain
path on a real DuckDB file.
"""

from __future__ import annotations

import csv
import math
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import CANONICAL, write_canonical
from wholejob.config import EngineConfig, WorkspaceConfig
from wholejob.engine import DUCKDB_MEMORY_CAP
from wholejob.errors import WorkspaceError
from wholejob.importing.importer import import_paths
from wholejob.schema import ENTITY_ORDER
from wholejob.workspace import Workspace, init_workspace, open_workspace


def _setting(ws: Workspace, name: str) -> str:
    return str(ws.raw.execute("SELECT current_setting(?)", [name]).fetchall()[0][0])


def _content(ws: Workspace) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent hash of every entity table."""
    return {n: tuple(ws.raw.execute(f'SELECT count(*), sum(hash(t)) FROM "{n}" t')
                     .fetchall()[0]) for n in ENTITY_ORDER}


def _rejects(path: Path | None) -> list[list[str]]:
    if path is None:
        return []
    with path.open(newline="", encoding="utf-8") as f:
        return [row[1:] for row in csv.reader(f)][1:]  # file names differ by suffix


def test_default_memory_limit_is_capped_and_spills_into_the_workspace(
    workspace: Workspace,
) -> None:
    limit = workspace.raw.execute(
        "SELECT current_setting('memory_limit')").fetchall()[0][0]
    value, unit = str(limit).split()
    scale = {"MiB": 1024**2, "GiB": 1024**3}[unit]
    assert 256 * 1024**2 <= float(value) * scale <= DUCKDB_MEMORY_CAP
    assert Path(_setting(workspace, "temp_directory")) == workspace.path / "duckdb-tmp"


def test_engine_options_set_memory_limit_and_temp_directory(tmp_path: Path) -> None:
    spill = tmp_path / "spill"
    config = WorkspaceConfig(engine=EngineConfig(
        options={"memory_limit": "200MB", "temp_directory": str(spill)}))
    init_workspace(tmp_path / "ws", config).close()
    with open_workspace(tmp_path / "ws") as ws:
        assert _setting(ws, "memory_limit") == "190.7 MiB"  # DuckDB shows MB as MiB
        assert _setting(ws, "temp_directory") == str(spill)


def test_a_bad_memory_limit_names_the_option(tmp_path: Path) -> None:
    config = WorkspaceConfig(engine=EngineConfig(options={"memory_limit": "lots"}))
    init_workspace(tmp_path / "ok")  # the folder exists; the bad setting comes next
    with pytest.raises(WorkspaceError, match=r"engine\.options\.memory_limit = 'lots'"):
        init_workspace(tmp_path / "bad", config)


def _activities(n: int) -> pa.Table:
    return pa.table({
        "activity_id": [f"T{i:07d}" for i in range(n)],
        "rep_id": ["R1" if i % 3 else "R2" for i in range(n)],
        "type": ["call", "Email", "meeting", "task"] * (n // 4),
        "started_at": pa.array([datetime(2024, 1, 1, 9) for _ in range(n)], pa.timestamp("us")),
        "duration_minutes": [float(i % 90) for i in range(n)],
        "subject": [f"Subject {i} " + "x" * (i % 40) for i in range(n)],
        "body": [f"Body of activity {i}: " + "lorem ipsum " * 20 for i in range(n)],
    })


def test_import_under_a_small_memory_limit_lands_the_same_rows(tmp_path: Path) -> None:
    data = write_canonical(tmp_path / "data", entities=["reps"])
    pq.write_table(_activities(200_000), data / "activities.parquet")
    results = []
    for name, options in (("plain", {}), ("small", {"memory_limit": "64MB"})):
        config = WorkspaceConfig(engine=EngineConfig(options=options))
        with init_workspace(tmp_path / name, config) as ws:
            summary = import_paths(ws, [data])
            assert summary.exit_code == 0
            assert summary.entities["activities"].inserted == 200_000
            results.append(_content(ws))
    assert results[0] == results[1]


# Typed columns with values that must be rejected or stored exactly as their
# text would be: NaN, infinities, int64 extremes, 2**53 + 1, years 1 and 9999.
TYPED = {
    "account_id": pa.array(["A1", "A2", "A3", "A4", "A5", "A6", "A7"]),
    "name": pa.array(["a", " b ", "c", "d", "e", "f", "g"]),
    "employees": pa.array([5, 2**63 - 1, -(2**63), 2**53 + 1, -3, None, 0], pa.int64()),
    "annual_revenue": pa.array([1.5, math.nan, math.inf, -1.0, 1e308, None, 0.1],
                               pa.float64()),
    "customer_since": pa.array([date(2024, 2, 29), date(1, 1, 1), date(9999, 12, 31), None,
                                date(2020, 1, 1), date(1970, 1, 1), None], pa.date32()),
}


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return {math.inf: "inf", -math.inf: "-inf"}.get(value, repr(value)) \
            if not math.isnan(value) else "nan"
    return str(value)


def test_typed_parquet_lands_and_rejects_like_its_text(tmp_path: Path) -> None:
    typed_dir = write_canonical(tmp_path / "typed", entities=["reps"])
    text_dir = write_canonical(tmp_path / "text", entities=["reps"])
    table = pa.table(TYPED)
    pq.write_table(table, typed_dir / "accounts.parquet")
    # The same values as text columns: validation parses them as it parses CSV.
    as_text = pa.table({k: pa.array([_text(v) if v is not None else None
                                     for v in col.to_pylist()], pa.string())
                        for k, col in zip(table.column_names, table.columns, strict=True)})
    pq.write_table(as_text, text_dir / "accounts.parquet")
    outcomes = []
    for name, folder in (("typed", typed_dir), ("text", text_dir)):
        with init_workspace(tmp_path / f"ws-{name}") as ws:
            summary = import_paths(ws, [folder])
            counts = summary.entities["accounts"]
            outcomes.append(((counts.inserted, counts.rejected), _content(ws),
                             _rejects(summary.rejects_file)))
    assert outcomes[0][0] == (3, 4)
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][2] == [
        ["2", "employees", "9223372036854775807", "not a whole number (or too large)"],
        ["3", "employees", "-9223372036854775808", "below minimum 0"],
        ["4", "annual_revenue", "-1.0", "below minimum 0"],
        ["5", "employees", "-3", "below minimum 0"],
    ]


def test_typed_and_csv_canonical_files_land_alike(tmp_path: Path) -> None:
    results = []
    for fmt in ("csv", "parquet"):
        data = write_canonical(tmp_path / f"data-{fmt}", fmt=fmt)
        with init_workspace(tmp_path / f"ws-{fmt}") as ws:
            summary = import_paths(ws, [data])
            assert summary.exit_code == 0
            results.append(_content(ws))
    assert results[0] == results[1]
    assert results[0]["reps"][0] == len(CANONICAL["reps"])


def test_duckdb_prints_no_progress_bar_of_its_own(workspace: Workspace, capfd) -> None:
    """DuckDB's bar would land in the user's stdout (a piped JSON report); wholejob has its own."""
    import duckdb

    plain = duckdb.connect()
    plain.execute("SET progress_bar_time = 0")  # a plain connection shows it at once
    plain.execute("SELECT sum(i * i) FROM range(30000000) t(i)").fetchall()
    assert "%" in capfd.readouterr().out
    assert _setting(workspace, "enable_progress_bar") == "False"
    workspace.raw.execute("SELECT sum(i * i) FROM range(30000000) t(i)").fetchall()
    out, err = capfd.readouterr()
    assert "%" not in out and "%" not in err

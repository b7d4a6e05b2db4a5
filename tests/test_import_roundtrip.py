"""Round trips: every entity from CSV and from Parquet lands typed and complete."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from conftest import CANONICAL, write_canonical, write_csv
from wholejob.config import WorkspaceConfig
from wholejob.importing.importer import import_paths
from wholejob.schema import ENTITY_ORDER
from wholejob.workspace import Workspace, init_workspace


def _table(ws: Workspace, name: str) -> pd.DataFrame:
    df = ws.to_pandas(name)
    key = list(df.columns[:3])
    return df.sort_values(key, na_position="first").reset_index(drop=True)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_every_entity_round_trips(workspace: Workspace, tmp_path: Path, fmt: str) -> None:
    folder = write_canonical(tmp_path / fmt, fmt)
    summary = import_paths(workspace, [folder])
    assert summary.exit_code == 0, summary.to_json()
    assert list(summary.entities) == list(ENTITY_ORDER)
    for name in ENTITY_ORDER:
        counts = summary.entities[name]
        assert counts.read == counts.inserted == len(CANONICAL[name])
    assert workspace.counts() == {n: len(CANONICAL[n]) for n in ENTITY_ORDER}

    reps = _table(workspace, "reps").set_index("rep_id")
    assert reps.loc["M1", "weekly_hours"] == 40.0  # default applied
    assert reps.loc["R1", "hired_on"] == dt.date(2021, 3, 1) or str(
        reps.loc["R1", "hired_on"]).startswith("2021-03-01")
    opps = _table(workspace, "opportunities").set_index("opportunity_id")
    assert opps.loc["O1", "stage"] == "closed_won"  # alias normalised
    assert opps.loc["O1", "status"] == "won"  # derived from the stage
    assert bool(opps.loc["O1", "business_case"]) is True
    assert opps.loc["O2", "amount"] == 25000.5
    acts = _table(workspace, "activities").set_index("activity_id")
    assert acts.loc["T2", "started_at"] == pd.Timestamp("2024-02-02 07:15:00")  # +01:00 -> UTC
    assert acts.loc["T2", "body"] == "Hello,\nnice to meet you"
    assert acts.loc["T3", "practice"] == "other"
    assert len(_table(workspace, "assessments")) == 3


def test_csv_and_parquet_give_identical_tables(tmp_path: Path) -> None:
    tables = {}
    for fmt in ("csv", "parquet"):
        with init_workspace(tmp_path / f"ws-{fmt}") as ws:
            import_paths(ws, [write_canonical(tmp_path / fmt, fmt)])
            tables[fmt] = {n: _table(ws, n) for n in ENTITY_ORDER}
    for name in ENTITY_ORDER:
        pd.testing.assert_frame_equal(tables["csv"][name], tables["parquet"][name],
                                      check_dtype=False)


def test_offsets_convert_to_workspace_time_zone(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws", WorkspaceConfig(timezone="Europe/Berlin"))
    data = write_canonical(tmp_path / "data", entities=["reps"])
    write_csv(data / "activities.csv", [
        {"activity_id": "Z", "rep_id": "R1", "type": "call", "started_at": "2024-07-01T08:00:00Z"},
        {"activity_id": "L", "rep_id": "R1", "type": "call", "started_at": "2024-07-01 08:00"},
        {"activity_id": "O", "rep_id": "R1", "type": "CALL",
         "started_at": "2024-01-01T08:00:00-05:00"},
    ])
    with ws:
        summary = import_paths(ws, [data])
        assert summary.exit_code == 0, summary.to_json()
        acts = ws.to_pandas("activities").set_index("activity_id")
    assert acts.loc["Z", "started_at"] == pd.Timestamp("2024-07-01 10:00")  # CEST
    assert acts.loc["L", "started_at"] == pd.Timestamp("2024-07-01 08:00")  # already local
    assert acts.loc["O", "started_at"] == pd.Timestamp("2024-01-01 14:00")  # CET
    assert acts.loc["O", "type"] == "call"


def test_files_named_by_alias_and_case(workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "aliases"
    folder.mkdir()
    write_csv(folder / "Users.csv", CANONICAL["reps"])
    write_csv(folder / "DEALS.csv", CANONICAL["opportunities"])
    write_csv(folder / "companies.csv", CANONICAL["accounts"])
    summary = import_paths(workspace, [folder])
    assert summary.exit_code == 0, summary.to_json()
    assert set(summary.entities) == {"reps", "accounts", "opportunities"}


def test_extra_columns_are_ignored_with_a_warning(workspace: Workspace, tmp_path: Path) -> None:
    rows = [{**r, "favourite_colour": "blue"} for r in CANONICAL["reps"]]
    path = write_csv(tmp_path / "reps.csv", rows)
    summary = import_paths(workspace, [path])
    assert summary.exit_code == 0
    assert any("favourite_colour" in w for w in summary.warnings)


def test_utf8_bom_is_accepted(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "reps.csv"
    path.write_bytes(b"\xef\xbb\xbfrep_id,name\nR1,Ren\xc3\xa9\n")
    summary = import_paths(workspace, [path])
    assert summary.exit_code == 0, summary.to_json()
    assert workspace.to_pandas("reps")["name"].tolist() == ["René"]

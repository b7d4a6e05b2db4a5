"""Upsert, idempotency and atomicity of imports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from conftest import CANONICAL, write_canonical, write_csv
from wholejob.errors import ImportFailed
from wholejob.importing import store
from wholejob.importing.importer import import_paths
from wholejob.schema import ENTITY_ORDER
from wholejob.workspace import IMPORT_LOG_TABLE, Workspace


def snapshot(ws: Workspace) -> dict[str, pd.DataFrame]:
    out = {}
    for name in ENTITY_ORDER:
        df = ws.to_pandas(name)
        out[name] = df.sort_values(list(df.columns)).reset_index(drop=True)
    return out


def assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for name in ENTITY_ORDER:
        pd.testing.assert_frame_equal(a[name], b[name])


def test_reimport_changes_nothing(workspace: Workspace, canonical: Path) -> None:
    import_paths(workspace, [canonical])
    before = snapshot(workspace)
    summary = import_paths(workspace, [canonical])
    assert summary.exit_code == 0
    for name, counts in summary.entities.items():
        assert counts.unchanged == counts.read == len(CANONICAL[name])
        assert counts.inserted == counts.updated == counts.rejected == 0
    assert_same(before, snapshot(workspace))
    assert len(workspace.import_log()) == 2


def test_changed_row_is_updated(workspace: Workspace, canonical: Path) -> None:
    import_paths(workspace, [canonical])
    rows = [dict(r) for r in CANONICAL["opportunities"]]
    rows[1]["amount"] = "30000"
    rows.append({**rows[1], "opportunity_id": "O3"})
    write_csv(canonical / "opportunities.csv", rows)
    summary = import_paths(workspace, [canonical])
    counts = summary.entities["opportunities"]
    assert (counts.read, counts.inserted, counts.updated, counts.unchanged) == (3, 1, 1, 1)
    opps = workspace.to_pandas("opportunities").set_index("opportunity_id")
    assert opps.loc["O2", "amount"] == 30000.0
    assert len(opps) == 3


def test_assessment_keys_with_empty_parts_upsert(workspace: Workspace, canonical: Path) -> None:
    import_paths(workspace, [canonical])
    rows = [dict(r) for r in CANONICAL["assessments"]]
    rows[2]["score"] = "3"  # key has empty assessor_id and source
    write_csv(canonical / "assessments.csv", rows)
    counts = import_paths(workspace, [canonical / "assessments.csv"]).entities["assessments"]
    assert (counts.inserted, counts.updated, counts.unchanged) == (0, 1, 2)
    assert workspace.counts()["assessments"] == 3


def test_failure_part_way_leaves_workspace_untouched(
    workspace: Workspace, canonical: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_paths(workspace, [write_canonical(canonical.parent / "first", entities=["reps"])])
    before = snapshot(workspace)
    log_before = workspace.import_log()
    real = store.upsert
    calls: list[str] = []

    def flaky(con: Any, entity: Any, checked: str, *args: Any) -> Any:
        calls.append(entity.name)
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return real(con, entity, checked, *args)

    monkeypatch.setattr(store, "upsert", flaky)
    rows = [dict(r) for r in CANONICAL["reps"]]
    rows[0]["team"] = "West"  # an update to a row that exists
    write_csv(canonical / "reps.csv", rows)
    with pytest.raises(ImportFailed, match="disk on fire"):
        import_paths(workspace, [canonical])
    assert calls == ["reps", "accounts", "contacts"]
    assert_same(before, snapshot(workspace))
    assert workspace.import_log() == log_before
    tables = workspace.raw.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_name LIKE '_wj%'"
    ).fetchall()
    assert tables == []
    # The workspace still works afterwards.
    monkeypatch.setattr(store, "upsert", real)
    assert import_paths(workspace, [canonical]).exit_code == 0


def test_opportunities_only_import(workspace: Workspace, tmp_path: Path) -> None:
    data = tmp_path / "opps"
    data.mkdir()
    write_csv(data / "reps.csv", CANONICAL["reps"])
    write_csv(data / "accounts.csv", CANONICAL["accounts"])
    write_csv(data / "opportunities.csv", CANONICAL["opportunities"])
    summary = import_paths(workspace, [data / "reps.csv", data / "opportunities.csv",
                                       data / "accounts.csv"])
    assert summary.exit_code == 0, summary.to_json()
    assert list(summary.entities) == ["reps", "accounts", "opportunities"]
    counts = workspace.counts()
    assert counts["opportunities"] == 2 and counts["activities"] == 0


def test_import_log_records_the_summary(workspace: Workspace, canonical: Path) -> None:
    summary = import_paths(workspace, [canonical])
    log = workspace.import_log()
    assert log[0]["import_id"] == summary.import_id
    assert log[0]["summary"]["entities"]["reps"]["inserted"] == 3
    n = workspace.raw.execute(f"SELECT count(*) FROM {IMPORT_LOG_TABLE}").fetchall()[0][0]
    assert n == 1


def test_duplicate_across_files_of_one_entity(workspace: Workspace, tmp_path: Path) -> None:
    data = write_canonical(tmp_path / "data", entities=["reps"])
    other = tmp_path / "more"
    other.mkdir()
    write_csv(other / "users.csv", [{"rep_id": "R1", "name": "Someone else"}])
    summary = import_paths(workspace, [data, other])
    assert summary.entities["reps"].rejected == 1
    assert summary.rejects_file is not None
    text = summary.rejects_file.read_text(encoding="utf-8")
    assert "duplicate rep_id 'R1' (first at line 3 of reps.csv)" in text


def test_progress_is_reported(workspace: Workspace, canonical: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    import_paths(workspace, [canonical], progress=lambda *a: seen.append(a))
    assert seen[-1][1] == seen[-1][2]
    assert any("opportunities" in what for what, _, _ in seen)

"""Reading canonical tables that already exist where the engine runs, on every engine.

A warehouse keeps its own activity table with CRM column names. The workspace
maps ``activities`` to a query that renames them (``[engine.tables]``); wholejob
reads it in place, casts it to the contract, classifies it, and refuses to
import over it.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import CANONICAL, ENGINES, engine_url, write_canonical
from wholejob.config import EngineConfig, WorkspaceConfig
from wholejob.errors import ConfigError, WorkspaceError
from wholejob.importing.importer import import_paths
from wholejob.practice_assignment import classify_workspace
from wholejob.workspace import Workspace, init_workspace

pytestmark = pytest.mark.slow

# The warehouse's names for the contract's columns.
CRM_NAMES = {"activity_id": "Id", "rep_id": "OwnerId", "type": "TaskSubtype",
             "started_at": "ActivityDate", "duration_minutes": "DurationInMinutes",
             "subject": "Subject", "account_id": "AccountId", "practice": "Practice__c"}


def _warehouse_table(path: Path) -> Path:
    rows = CANONICAL["activities"]
    cols = {crm: [r[c] or None for r in rows] for c, crm in CRM_NAMES.items()}
    cols["DurationInMinutes"] = [int(v) if v else None for v in cols["DurationInMinutes"]]
    pq.write_table(pa.table(cols), path)
    return path


def _ref(engine: str, path: Path, renames: dict[str, str]) -> str:
    source = f"read_parquet('{path}')" if engine == "duckdb" else f"parquet.`{path}`"
    select = ", ".join(f"{crm} AS {c}" for c, crm in renames.items())
    return f"(SELECT {select} FROM {source})"


def _workspace(tmp_path: Path, engine: str, renames: dict[str, str]) -> Workspace:
    table = _warehouse_table(tmp_path / "crm_tasks.parquet")
    cfg = WorkspaceConfig(engine=EngineConfig(
        url=engine_url(engine), tables={"activities": _ref(engine, table, renames)}))
    ws = init_workspace(tmp_path / "ws", cfg)
    others = [n for n in CANONICAL if n != "activities"]
    import_paths(ws, [write_canonical(tmp_path / "data", entities=others)])
    return ws


@pytest.fixture(params=list(ENGINES))
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_mapped_table_is_read_in_place_and_classified(tmp_path: Path, engine: str) -> None:
    ws = _workspace(tmp_path, engine, CRM_NAMES)
    acts = {r["activity_id"]: r for r in ws.table("activities").to_pyarrow().to_pylist()}
    assert set(acts) == {"T1", "T2", "T3"}
    assert acts["T1"]["duration_minutes"] == 30
    assert acts["T1"]["started_at"].isoformat() == "2024-01-08T10:00:00"  # cast to timestamp
    assert acts["T1"]["body"] is None  # not in the warehouse table: unknown, not empty
    got = classify_workspace(ws, use_text_model=False).to_pyarrow().to_pylist()
    labels = {r["activity_id"]: (r["practice"], r["method"]) for r in got}
    assert labels["T2"] == ("prospecting", "label")
    assert labels["T3"] == ("other", "label")
    ws.close()


def test_import_over_a_mapped_table_is_refused(tmp_path: Path, engine: str) -> None:
    ws = _workspace(tmp_path, engine, CRM_NAMES)
    before = ws.counts()
    with pytest.raises(WorkspaceError, match="read from existing tables"):
        import_paths(ws, [write_canonical(tmp_path / "again", entities=["activities", "reps"])])
    assert ws.counts() == before
    ws.close()


def test_mapped_table_without_a_required_column_is_named(tmp_path: Path, engine: str) -> None:
    renames = {c: crm for c, crm in CRM_NAMES.items() if c != "rep_id"}
    ws = _workspace(tmp_path, engine, renames)
    with pytest.raises(ConfigError, match=r"lacks required column.*rep_id"):
        ws.table("activities")
    ws.close()

"""The import, run on every engine: same counts, same rejects, same tables.

One scenario per engine, in a workspace set to Europe/Berlin: a first import of
the canonical dataset, the same files again, a changed activities file with an
update, an insert with a UTC offset, two bad rows and an unknown optional
reference, then an import the importer must refuse. Each engine's results are
checked against what the data says, and the engines against each other.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import CANONICAL, ENGINES, engine_url, write_canonical, write_csv
from wholejob.cli.app import app
from wholejob.config import WorkspaceConfig
from wholejob.engine import SparkEngine
from wholejob.errors import ImportFailed
from wholejob.importing import store
from wholejob.importing.importer import import_paths
from wholejob.importing.summary import ImportSummary
from wholejob.schema import ENTITY_ORDER
from wholejob.workspace import Workspace, init_workspace

pytestmark = pytest.mark.slow

Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot(ws: Workspace) -> Snapshot:
    out: Snapshot = {}
    for name in ENTITY_ORDER:
        rows = ws.table(name).to_pyarrow().to_pylist()
        out[name] = sorted((tuple(r.values()) for r in rows), key=repr)
    return out


@dataclass
class Scenario:
    ws: Workspace
    first: ImportSummary
    again: ImportSummary
    changed: ImportSummary
    refused: str
    after_changed: Snapshot
    after_refused: Snapshot
    rejects: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    failed: str = ""
    after_failed: Snapshot = field(default_factory=dict)


def _changed_activities(folder: Path) -> Path:
    rows = [dict(r) for r in CANONICAL["activities"]]
    rows[0]["duration_minutes"] = "45"  # T1: an update
    base = dict(rows[0], subject="Follow-up", practice="")
    rows += [
        dict(base, activity_id="T4", started_at="2024-03-10T09:00:00-05:00"),  # insert
        dict(base, activity_id="T5", started_at="2024-13-40"),  # bad timestamp
        dict(base, activity_id="T6", rep_id="R9"),  # unknown required reference
        dict(base, activity_id="T7", opportunity_id="O99"),  # unknown optional reference
    ]
    folder.mkdir(parents=True, exist_ok=True)
    return write_csv(folder / "activities.csv", rows)


def _read_csv(path: Path | None) -> list[dict[str, str]]:
    if path is None:
        return []
    with Path(path).open(newline="", encoding="utf-8") as f:
        return [{k: v for k, v in r.items() if k != "file"} | {"file": Path(r["file"]).name}
                for r in csv.DictReader(f)]


def _fail_part_way(ws: Workspace, folder: Path) -> str:
    """Import changed reps and accounts, with the second entity's write failing."""
    write_canonical(folder, entities=["reps", "accounts"])
    write_csv(folder / "reps.csv", [dict(r, name=r["name"] + " II") for r in CANONICAL["reps"]])
    write_csv(folder / "accounts.csv", [dict(r, region="APAC") for r in CANONICAL["accounts"]])
    # The write step of each engine: DuckDB's SQL upsert, Spark's new table version.
    owner, attr = (SparkEngine, "replace") if isinstance(ws.engine, SparkEngine) else (
        store, "upsert")
    real = getattr(owner, attr)
    calls: list[int] = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    setattr(owner, attr, flaky)
    try:
        with pytest.raises(ImportFailed) as e:
            import_paths(ws, [folder])
    finally:
        setattr(owner, attr, real)
    assert len(calls) == 2
    return str(e.value)


_SCENARIOS: dict[str, Scenario] = {}


def run_scenario(name: str, root: Path) -> Scenario:
    """Run the scenario on engine ``name`` once per test session."""
    if name in _SCENARIOS:
        return _SCENARIOS[name]
    url = engine_url(name)
    path = init_workspace(root / name, WorkspaceConfig(timezone="Europe/Berlin")).path
    ws = Workspace(path, engine=url)
    data = write_canonical(root / f"{name}-data")
    first = import_paths(ws, [data])
    again = import_paths(ws, [data])
    changed = import_paths(ws, [_changed_activities(root / f"{name}-changed")])
    after_changed = snapshot(ws)
    broken = root / f"{name}-broken"
    broken.mkdir()
    write_csv(broken / "activities.csv", [{k: v for k, v in r.items() if k != "rep_id"}
                                          for r in CANONICAL["activities"]])
    write_csv(broken / "reps.csv", [dict(CANONICAL["reps"][0], name="Changed")])
    with pytest.raises(ImportFailed) as refused:
        import_paths(ws, [broken])
    after_refused = snapshot(ws)
    failed = _fail_part_way(ws, root / f"{name}-second")
    s = Scenario(ws, first, again, changed, str(refused.value), after_changed, after_refused,
                 _read_csv(changed.rejects_file), _read_csv(changed.warnings_file),
                 failed, snapshot(ws))
    _SCENARIOS[name] = s
    return s


@pytest.fixture(scope="module", params=list(ENGINES))
def scenario(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Scenario:
    return run_scenario(request.param, tmp_path_factory.mktemp("engines"))


def test_first_import_inserts_every_row(scenario: Scenario) -> None:
    assert scenario.first.exit_code == 0
    for name in ENTITY_ORDER:
        c = scenario.first.entities[name]
        assert (c.read, c.inserted, c.rejected) == (len(CANONICAL[name]),) * 2 + (0,)


def test_reimport_leaves_every_row_unchanged(scenario: Scenario) -> None:
    for name in ENTITY_ORDER:
        c = scenario.again.entities[name]
        assert (c.unchanged, c.inserted, c.updated) == (len(CANONICAL[name]), 0, 0)


def test_changed_file_updates_inserts_and_rejects(scenario: Scenario) -> None:
    c = scenario.changed.entities["activities"]
    assert (c.read, c.inserted, c.updated, c.unchanged, c.rejected) == (7, 2, 1, 2, 2)
    assert scenario.changed.exit_code == 2
    got = {(r["line"], r["column"]) for r in scenario.rejects}
    assert got == {("6", "started_at"), ("7", "rep_id")}
    assert scenario.changed.unknown_references == {"activities.opportunity_id": 1}
    assert [(w["line"], w["column"], w["value"]) for w in scenario.warnings] == [
        ("8", "opportunity_id", "O99")]


def test_offset_converts_to_workspace_time(scenario: Scenario) -> None:
    acts = {r[0]: r for r in scenario.after_changed["activities"]}
    started = {k: v[3].isoformat() for k, v in acts.items()}
    assert started["T4"] == "2024-03-10T15:00:00"  # 09:00 at -05:00 is 15:00 in Berlin
    assert started["T2"] == "2024-02-02T08:15:00"  # +01:00 is Berlin's own offset in winter
    assert acts["T1"][4] == 45


def test_refused_import_writes_nothing(scenario: Scenario) -> None:
    assert "missing required column rep_id" in scenario.refused
    assert scenario.after_refused == scenario.after_changed


def test_failure_part_way_leaves_the_workspace_as_before(scenario: Scenario) -> None:
    assert "disk on fire" in scenario.failed
    assert scenario.after_failed == scenario.after_refused
    names = {r[2] for r in scenario.after_failed["reps"]}
    assert not any(n.endswith(" II") for n in names)  # the first entity's write is undone


def test_engines_hold_identical_tables(tmp_path_factory: pytest.TempPathFactory) -> None:
    runs = {n: run_scenario(n, tmp_path_factory.mktemp("engines")) for n in ENGINES}
    duck, spark = runs["duckdb"], runs["spark"]
    assert spark.after_changed == duck.after_changed
    for attr in ("first", "again", "changed"):
        a, b = getattr(duck, attr).to_json(), getattr(spark, attr).to_json()
        for key in ("entities", "unknown_references"):
            assert a[key] == b[key], (attr, key)
    assert spark.rejects == duck.rejects
    assert spark.warnings == duck.warnings


def test_spark_commits_through_the_manifest(tmp_path_factory: pytest.TempPathFactory) -> None:
    s = run_scenario("spark", tmp_path_factory.mktemp("engines"))
    engine = s.ws.engine
    assert isinstance(engine, SparkEngine)
    manifest = json.loads(engine.manifest_path.read_text())["tables"]
    assert set(manifest) == set(ENTITY_ORDER)
    for name in ENTITY_ORDER:
        versions = {p.name for p in (engine.root / name).iterdir()} - {"empty"}
        # Only the committed version is left: superseded and refused ones are gone.
        assert versions == {manifest[name].split("/")[1]}, name
    assert not engine.staging_dir.exists()


def test_cli_engine_option_reaches_the_workspace(tmp_path: Path) -> None:
    url = engine_url("spark")
    ws = init_workspace(tmp_path / "ws")
    ws.close()
    result = CliRunner().invoke(
        app, ["--engine", url, "status", "-w", str(ws.path), "--format", "json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["engine"]["kind"] == "spark"
    assert info["engine"]["master"] == "local[2]"
    assert info["tables"] == {name: 0 for name in ENTITY_ORDER}
    bad = CliRunner().invoke(app, ["--engine", "oracle://x", "status", "-w", str(ws.path)])
    assert bad.exit_code == 2
    assert "unknown engine URL" in bad.output

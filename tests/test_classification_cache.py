"""The classification kept in ``cache/``: read back while its inputs are unchanged, never stale."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow.parquet as pq
import pytest

from wholejob.classification_cache import PREFIX, ClassificationCache
from wholejob.config import IcpRules
from wholejob.jobmodel import JobModel, load_job_model
from wholejob.practice_assignment import classify_workspace
from wholejob.textmodel import workspace_text_model
from wholejob.workspace import Workspace, init_workspace

HIT = "classification: inputs unchanged"


@pytest.fixture
def ws(tmp_path: Any) -> Iterator[Workspace]:
    ws = init_workspace(tmp_path / "ws")
    raw = ws.raw
    raw.execute("INSERT INTO reps (rep_id, name, role) VALUES ('r1', 'Ann', 'rep')")
    raw.execute("INSERT INTO accounts (account_id, name, customer_since, icp_tier) "
                "VALUES ('a1', 'Acme', DATE '2024-01-01', NULL)")
    rows = [
        *[(f"l{i}", "task", f"zorblat sync {i}", "marketing_alignment", None) for i in range(6)],
        ("u1", "task", "zorblat sync 99", None, None),
        ("u2", "call", "Cold call - Acme", None, "a1"),
        ("u3", "meeting", "Quarterly business review", None, "a1"),
        ("u4", "task", "qqq", None, None),
    ]
    for aid, typ, subject, practice, account in rows:
        raw.execute(
            "INSERT INTO activities (activity_id, rep_id, type, started_at, subject, practice, "
            "account_id) VALUES (?, 'r1', ?, TIMESTAMP '2025-01-06 09:00', ?, ?, ?)",
            [aid, typ, subject, practice, account],
        )
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def model() -> JobModel:
    return load_job_model()


def rows(table: Any) -> dict[str, dict[str, Any]]:
    return {r["activity_id"]: r for r in table.to_pyarrow().to_pylist()}


def fresh(ws: Workspace, model: JobModel, *, tags: bool = True) -> dict[str, dict[str, Any]]:
    """Classify without the cache (an explicit text model bypasses it)."""
    tm = workspace_text_model(ws, model)
    return rows(classify_workspace(ws, model, text_model=tm, tags=tags))


def cached(ws: Workspace, *, kind: str = "tags") -> list[str]:
    return sorted(p.name for p in (ws.path / "cache").glob(f"{PREFIX}{kind}-*.parquet"))


def test_the_second_classification_reads_the_first(ws, model, caplog):
    caplog.set_level(logging.INFO, logger="wholejob.classification_cache")
    first = rows(classify_workspace(ws, model, tags=True))
    assert HIT not in caplog.text
    assert len(cached(ws)) == 1
    again = rows(classify_workspace(ws, model, tags=True))
    assert HIT in caplog.text
    assert again == first == fresh(ws, model)
    assert first["u1"]["method"] == "model" and first["u2"]["method"] == "rule"
    assert "tag_icp_focus" in first["u2"]


def test_with_and_without_tags_are_kept_apart(ws, model, caplog):
    caplog.set_level(logging.INFO, logger="wholejob.classification_cache")
    tagged = rows(classify_workspace(ws, model, tags=True))
    plain = rows(classify_workspace(ws, model))
    assert HIT not in caplog.text
    assert len(cached(ws, kind="tags")) == len(cached(ws, kind="plain")) == 1
    assert "tag_icp_focus" in tagged["u1"] and "tag_icp_focus" not in plain["u1"]
    assert rows(classify_workspace(ws, model)) == plain
    assert HIT in caplog.text


def _edit_activity(ws: Workspace) -> None:
    ws.raw.execute("UPDATE activities SET subject = 'zorblat sync 7' WHERE activity_id = 'u2'")


def _edit_account(ws: Workspace) -> None:
    ws.raw.execute("UPDATE accounts SET customer_since = NULL WHERE account_id = 'a1'")


def _add_opportunity(ws: Workspace) -> None:
    ws.raw.execute("INSERT INTO opportunities (opportunity_id, account_id, owner_id, stage, "
                   "created_on) VALUES ('o1', 'a1', 'r1', 'proposal', DATE '2024-12-01')")
    ws.raw.execute("UPDATE activities SET opportunity_id = 'o1' WHERE activity_id = 'u3'")


def _add_history(ws: Workspace) -> None:
    _add_opportunity(ws)
    ws.raw.execute("INSERT INTO opportunity_history (opportunity_id, stage, entered_at) "
                   "VALUES ('o1', 'negotiation', TIMESTAMP '2024-12-20 10:00')")


def _edit_icp(ws: Workspace) -> None:
    ws.save_config(ws.config.model_copy(update={"icp": IcpRules(fit_tiers=("C",))}))


@pytest.mark.parametrize("change", [_edit_activity, _edit_account, _add_opportunity,
                                    _add_history, _edit_icp])
def test_any_change_to_what_classification_reads_is_a_new_entry(
        ws, model, caplog, change: Callable[[Workspace], None]):
    caplog.set_level(logging.INFO, logger="wholejob.classification_cache")
    before = rows(classify_workspace(ws, model, tags=True))
    old = cached(ws)
    change(ws)
    after = rows(classify_workspace(ws, model, tags=True))
    assert HIT not in caplog.text
    assert after == fresh(ws, model)
    new = cached(ws)
    assert len(new) == 1 and new != old  # the old entry is gone
    if change is _edit_activity:
        assert before["u2"]["method"] == "rule"
        assert after["u2"]["method"] == "model"
        assert after["u2"]["practice"] == "marketing_alignment"


def test_another_job_model_is_a_new_entry(ws, model, caplog):
    caplog.set_level(logging.INFO, logger="wholejob.classification_cache")
    classify_workspace(ws, model)
    data = model.model_dump()
    before = rows(classify_workspace(ws, model))["u2"]["rule"]
    assert before == "prospecting.cold_outreach"
    data["practices"]["prospecting"]["rules"] = [
        {**r, "enabled": r["id"] != "cold_outreach"}
        for r in data["practices"]["prospecting"]["rules"]]
    other = JobModel.model_validate(data)
    got = rows(classify_workspace(ws, other))
    assert "classification: inputs unchanged, read" in caplog.text  # the second call above
    assert caplog.text.count(HIT) == 1
    assert got["u2"]["rule"] != "prospecting.cold_outreach"
    assert got == fresh(ws, other, tags=False)


def test_a_damaged_entry_is_computed_again(ws, model, caplog):
    caplog.set_level(logging.INFO, logger="wholejob.classification_cache")
    want = rows(classify_workspace(ws, model, tags=True))
    path = ws.path / "cache" / cached(ws)[0]
    path.write_bytes(b"not parquet at all")
    assert rows(classify_workspace(ws, model, tags=True)) == want
    assert "ignoring unreadable classification cache" in caplog.text
    assert pq.read_table(path).num_rows == len(want)  # written again, whole


def test_one_rep_or_another_text_model_does_not_use_the_cache(ws, model):
    classify_workspace(ws, model, rep_id="r1")
    classify_workspace(ws, model, use_text_model=False)
    classify_workspace(ws, model, text_model=workspace_text_model(ws, model))
    assert not list((ws.path / "cache").glob(f"{PREFIX}*"))


def test_a_classification_of_data_that_changed_meanwhile_is_not_stored(ws, model, caplog):
    caplog.set_level(logging.INFO, logger="wholejob.classification_cache")
    entry = ClassificationCache.for_workspace(ws, model, tags=False)
    assert entry is not None and entry.load() is None
    classified = classify_workspace(ws, model, text_model=workspace_text_model(ws, model))
    _edit_activity(ws)  # as an import committing while the classification ran
    entry.save(classified)
    assert "changed while it was classified" in caplog.text
    assert not list((ws.path / "cache").glob(f"{PREFIX}*"))

"""Classification: labels win, each kind of rule recognises its activities, in one engine query."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import ibis
import pytest

import wholejob.classification as cls
from wholejob.classification import (
    classify,
    classify_rules,
    explain_rules,
    fill_unmatched,
    soft_rules,
    tag_account_practices,
)
from wholejob.config import IcpRules, WorkspaceConfig
from wholejob.jobmodel import load_job_model
from wholejob.schema import ENTITIES

T = dt.datetime(2024, 6, 3, 10, 0)
STAGE_STATUS = WorkspaceConfig().stage_status()


def _table(con: Any, name: str, rows: list[dict[str, Any]]) -> ibis.Table:
    """Create an entity table with the contract's columns and insert rows (missing = NULL)."""
    ent = ENTITIES[name]
    cols = ", ".join(f'"{c.name}" {c.sql_type}' for c in ent.columns)
    con.con.execute(f'CREATE OR REPLACE TABLE "{name}" ({cols})')
    if rows:
        names = ent.column_names
        marks = ", ".join("?" * len(names))
        con.con.executemany(
            f'INSERT INTO "{name}" VALUES ({marks})', [[r.get(c) for c in names] for r in rows]
        )
    return con.table(name)


def _act(aid: str, type: str = "task", subject: str | None = None, **kw: Any) -> dict[str, Any]:
    return {"activity_id": aid, "rep_id": "r1", "type": type, "started_at": T,
            "subject": subject, **kw}


ACCOUNTS = [
    {"account_id": "prospect", "name": "Prospect Co", "industry": "Software", "employees": 500},
    {"account_id": "prospect_open", "name": "Busy Prospect", "icp_tier": "C"},
    {"account_id": "old_customer", "name": "Old", "customer_since": dt.date(2019, 1, 1)},
    {"account_id": "new_customer", "name": "New", "customer_since": dt.date(2024, 3, 1),
     "icp_tier": "A"},
]
OPPORTUNITIES = [
    {"opportunity_id": "o_neg", "account_id": "prospect_open", "owner_id": "r1",
     "created_on": dt.date(2024, 5, 1), "amount": 10.0, "stage": "negotiation"},
    {"opportunity_id": "o_won", "account_id": "prospect_open", "owner_id": "r1",
     "created_on": dt.date(2024, 1, 1), "amount": 10.0, "stage": "closed_won",
     "status": "won", "close_date": dt.date(2024, 7, 1)},
    {"opportunity_id": "o_renew", "account_id": "old_customer", "owner_id": "r1",
     "created_on": dt.date(2024, 5, 1), "amount": 10.0, "stage": "qualification",
     "kind": "renewal"},
    {"opportunity_id": "o_mktg", "account_id": "prospect_open", "owner_id": "r1",
     "created_on": dt.date(2024, 6, 1), "amount": 10.0, "stage": "prospecting",
     "source": "marketing"},
]
HISTORY = [
    {"opportunity_id": "o_won", "stage": "qualification", "entered_at": dt.datetime(2024, 1, 1)},
    {"opportunity_id": "o_won", "stage": "negotiation", "entered_at": dt.datetime(2024, 5, 20)},
    {"opportunity_id": "o_won", "stage": "closed_won", "entered_at": dt.datetime(2024, 7, 1)},
]

# activity -> (practice, method, rule) expected from the packaged model
CASES: dict[str, tuple[dict[str, Any], str | None, str, str | None]] = {
    "label_wins": (_act("label_wins", "call", "Cold call - Acme", practice="closing"),
                   "closing", "label", "label"),
    "label_other": (_act("label_other", "meeting", "QBR", practice="other"),
                    "other", "label", "label"),
    "phrase": (_act("phrase", "call", "Cold call - Acme"),
               "prospecting", "rule", "prospecting.cold_outreach"),
    "phrase_in_body": (_act("phrase_in_body", "email", "hi", body="Attached: ROI model v2"),
                       "proposals", "rule", "proposals.proposal_phrases"),
    "mixed_case": (_act("mixed_case", "task", "PIPELINE REVIEW w/ mgr"),
                   "sales_process", "rule", "sales_process.process_phrases"),
    "type_only": (_act("type_only", "social", "liked it"),
                  "social_selling", "rule", "social_selling.social_activities"),
    "outbound_prospect": (_act("outbound_prospect", "email", "hello", direction="outbound",
                               account_id="prospect"),
                          "prospecting", "rule", "prospecting.outbound_to_prospects"),
    "outbound_busy": (_act("outbound_busy", "email", "hello", direction="outbound",
                           account_id="prospect_open"),
                      None, "unmatched", None),
    "research_prospect": (_act("research_prospect", "task", "Research exec team",
                               account_id="prospect"),
                          "prospecting", "rule", "prospecting.research_new_accounts"),
    "research_customer": (_act("research_customer", "task", "Research exec team",
                               account_id="old_customer"),
                          "customer_understanding", "rule",
                          "customer_understanding.understanding_phrases"),
    "stage": (_act("stage", "meeting", "sync", account_id="prospect_open",
                   opportunity_id="o_neg"),
              "closing", "rule", "closing.late_stage_conversations"),
    "stage_pricing": (_act("stage_pricing", "email", "FU w/ Jane re pricing",
                           account_id="prospect_open", opportunity_id="o_neg"),
                      "closing", "rule", "closing.late_stage_pricing"),
    "pricing_early": (_act("pricing_early", "email", "FU w/ Jane re pricing"),
                      "proposals", "rule", "proposals.weak_pricing_phrases"),
    "kind": (_act("kind", "call", "sync", account_id="old_customer", opportunity_id="o_renew"),
             "account_growth", "rule", "account_growth.renewal_and_expansion_deals"),
    "source": (_act("source", "email", "hello", opportunity_id="o_mktg",
                    account_id="prospect_open"),
               "marketing_alignment", "rule", "marketing_alignment.marketing_lead_first_touches"),
    "check_in_customer": (_act("check_in_customer", "call", "Quick check-in",
                               account_id="old_customer"),
                          "account_growth", "rule", "account_growth.customer_check_ins"),
    "check_in_prospect": (_act("check_in_prospect", "call", "Quick check-in",
                               account_id="prospect"),
                          "relationships", "rule", "relationships.relationship_phrases"),
    "upsell_recent": (_act("upsell_recent", "call", "upsell 50 seats",
                           account_id="new_customer"),
                      "land_and_expand", "rule", "land_and_expand.expansion_at_recent_lands"),
    "upsell_old": (_act("upsell_old", "call", "upsell 50 seats", account_id="old_customer"),
                   "account_growth", "rule", "account_growth.expansion_at_customers"),
    "prep_beats_qbr": (_act("prep_beats_qbr", "task", "Prep for Acme QBR"),
                       "call_planning", "rule", "call_planning.preparation_phrases"),
    "non_selling": (_act("non_selling", "task", "Expense report"),
                    "other", "rule", "other.non_selling_phrases"),
    "unmatched": (_act("unmatched", "task", "misc"), None, "unmatched", None),
    "empty_text": (_act("empty_text", "task", None), None, "unmatched", None),
    "bad_label": (_act("bad_label", "task", "misc", practice="golf"),
                  None, "unmatched", None),
}


@pytest.fixture()
def tables():
    con = ibis.duckdb.connect()
    acts = _table(con, "activities", [c[0] for c in CASES.values()])
    accs = _table(con, "accounts", ACCOUNTS)
    opps = _table(con, "opportunities", OPPORTUNITIES)
    hist = _table(con, "opportunity_history", HISTORY)
    yield con, acts, accs, opps, hist
    con.disconnect()


def _rows(expr: ibis.Table) -> dict[str, dict[str, Any]]:
    return {r["activity_id"]: r for r in expr.to_pyarrow().to_pylist()}


def test_each_kind_of_rule_and_label(tables):
    _, acts, accs, opps, _ = tables
    expr = classify_rules(acts, accs, opps, load_job_model(), STAGE_STATUS)
    assert expr.columns[:4] == ("activity_id", "practice", "confidence", "method")
    got = _rows(expr)
    assert len(got) == len(CASES)
    for aid, (_, practice, method, rule) in CASES.items():
        row = got[aid]
        assert (row["practice"], row["method"], row["rule"]) == (practice, method, rule), aid


def test_confidence_is_one_for_labels_by_specificity_for_rules_null_when_unmatched(tables):
    _, acts, accs, opps, _ = tables
    model = load_job_model()
    got = _rows(classify_rules(acts, accs, opps, model, STAGE_STATUS))
    assert got["label_wins"]["confidence"] == 1.0
    assert got["unmatched"]["confidence"] is None
    # A phrase plus account conditions is trusted more than a phrase alone.
    assert got["research_prospect"]["confidence"] > got["phrase"]["confidence"]
    rule = next(r for r in model.practices["prospecting"].rules if r.id == "cold_outreach")
    assert got["phrase"]["confidence"] == pytest.approx(rule.effective_confidence)


def test_classification_is_one_sql_query_with_regex_in_the_engine(tables):
    _, acts, accs, opps, _ = tables
    sql = ibis.to_sql(classify_rules(acts, accs, opps, load_job_model(), STAGE_STATUS))
    assert "REGEXP_MATCHES" in sql.upper()
    assert "CASE" in sql.upper()


def test_history_gives_the_stage_at_the_time_of_the_activity(tables):
    con, _, accs, opps, hist = tables
    one = _table(con, "activities", [_act("late", "meeting", "sync",
                                          account_id="prospect_open", opportunity_id="o_won")])
    model = load_job_model()
    without = _rows(classify_rules(one, accs, opps, model, STAGE_STATUS))["late"]
    assert without["method"] == "unmatched"  # current stage is closed_won
    with_history = _rows(
        classify_rules(one, accs, opps, model, STAGE_STATUS, history=hist)
    )["late"]
    assert with_history["rule"] == "closing.late_stage_conversations"


def test_override_rule_changes_classification(tables):
    _, acts, accs, opps, _ = tables
    model = load_job_model(WorkspaceConfig(practices={
        "insight": {"rules": [{"id": "misc", "phrases": [r"\bmisc\b"], "priority": 5}]},
    }))
    got = _rows(classify_rules(acts, accs, opps, model, STAGE_STATUS))
    assert got["unmatched"]["practice"] == "insight"
    assert got["unmatched"]["rule"] == "insight.misc"


def test_account_practices_tag_time_on_top_of_its_practice(tables):
    _, acts, accs, opps, _ = tables
    model = load_job_model()
    tags = _rows(tag_account_practices(
        acts, accs, opps, model, STAGE_STATUS, icp=IcpRules(industries=("software",)),
    ))
    assert tags["stage"]["new_logos"] is True  # open opportunity at a prospect
    assert tags["kind"]["new_logos"] is False  # renewal at a customer
    assert tags["upsell_recent"]["land_and_expand"] is True
    assert tags["upsell_old"]["land_and_expand"] is False
    assert tags["outbound_prospect"]["icp_focus"] is True  # industry rule
    assert tags["upsell_recent"]["icp_focus"] is True  # tier A
    assert tags["stage"]["icp_focus"] is False  # tier C
    assert tags["unmatched"]["icp_focus"] is False  # no account


class _FakeTextModel:
    def predict(self, activities: ibis.Table) -> ibis.Table:
        return activities.select(
            "activity_id", practice=ibis.literal("insight"), confidence=ibis.literal(0.4)
        )


def test_text_model_fills_only_unmatched_rows(tables):
    _, acts, accs, opps, _ = tables
    model = load_job_model()
    got = _rows(classify(acts, accs, opps, model, STAGE_STATUS, text_model=_FakeTextModel()))
    assert got["unmatched"]["practice"] == "insight"
    assert got["unmatched"]["method"] == "model"
    assert got["unmatched"]["confidence"] == pytest.approx(0.4)
    assert got["phrase"]["method"] == "rule"
    assert got["label_wins"]["practice"] == "closing"
    strict = _rows(fill_unmatched(
        classify_rules(acts, accs, opps, model, STAGE_STATUS), acts, _FakeTextModel(),
        min_confidence=0.5,
    ))
    assert strict["unmatched"]["method"] == "unmatched"


def test_explain_names_the_rule_that_fired(tables):
    _, acts, accs, opps, _ = tables
    model = load_job_model()
    e = explain_rules("stage_pricing", acts, accs, opps, model, STAGE_STATUS)
    assert e["practice"] == "closing" and e["rule"] == "closing.late_stage_pricing"
    assert e["features"]["stage"] == "negotiation"
    first = next(r for r in e["rules"] if r["matched"])
    assert (first["practice"], first["rule"]) == ("closing", "late_stage_pricing")
    assert first["conditions"] == {"phrases": True, "stages": True}
    assert first["phrases_found"]
    with pytest.raises(KeyError):
        explain_rules("nope", acts, accs, opps, model, STAGE_STATUS)


def test_rules_recognise_most_labelled_examples_from_text_alone():
    model = load_job_model()
    con = ibis.duckdb.connect()
    rows = [
        _act(f"{pid}#{i}", "task", text)
        for pid in model.all_ids
        for i, text in enumerate(model.practices[pid].examples)
    ]
    acts = _table(con, "activities", rows)
    got = _rows(classify_rules(
        acts, _table(con, "accounts", []), _table(con, "opportunities", []), model, STAGE_STATUS,
    ))
    # land_and_expand needs account context; value_creation has no time of its own.
    for pid in model.all_ids:
        if pid in ("land_and_expand", "value_creation"):
            continue
        n = len(model.practices[pid].examples)
        hits = sum(got[f"{pid}#{i}"]["practice"] == pid for i in range(n))
        assert hits / n >= 0.6, (pid, hits, n)
    con.disconnect()


class _SureTextModel:
    def __init__(self, confidence: float) -> None:
        self.confidence = confidence

    def predict(self, activities: ibis.Table) -> ibis.Table:
        return activities.select(
            "activity_id", practice=ibis.literal("insight"),
            confidence=ibis.literal(self.confidence),
        )


def test_a_confident_model_overrules_soft_rules_only(tables):
    _, acts, accs, opps, _ = tables
    model = load_job_model()
    assert "prospecting.cold_outreach" in soft_rules(model)
    assert "closing.late_stage_conversations" not in soft_rules(model)
    got = _rows(classify(acts, accs, opps, model, STAGE_STATUS, text_model=_SureTextModel(0.7)))
    assert got["phrase"]["practice"] == "insight"  # a phrase rule: soft
    assert got["phrase"]["rule"] == "model>prospecting.cold_outreach"
    assert got["stage"]["practice"] == "closing"  # reads the deal's stage
    assert got["label_wins"]["practice"] == "closing"  # labels always stand
    sure = _rows(classify(acts, accs, opps, model, STAGE_STATUS, text_model=_SureTextModel(0.95)))
    assert sure["stage"]["practice"] == "insight"
    assert sure["label_wins"]["practice"] == "closing"
    unsure = _rows(classify(acts, accs, opps, model, STAGE_STATUS,
                            text_model=_SureTextModel(0.2)))
    assert unsure["unmatched"]["method"] == "unmatched"  # below MODEL_MIN_CONFIDENCE


def test_gated_rule_search_picks_the_same_rule_as_trying_every_rule_in_order(
    tables, monkeypatch,
):
    """The gates (one regex per group of rules) only skip rules that cannot hold.

    The rows mix every kind of rule: phrase rules, phrase rules that also need the
    account or stage (so a gate's regex can match where its rule does not), rules
    without phrases, labels and rows no rule matches; each text is tried in every
    account context.
    """
    con, _, accs, opps, hist = tables
    model = load_job_model()
    dev = Path(__file__).parent / "fixtures" / "classification_dev.csv"
    with dev.open(encoding="utf-8") as fh:
        texts = [(r["type"], r["direction"] or None, r["subject"], r["body"] or None)
                 for r in csv.DictReader(fh)]
    texts += [("task", None, t, None) for p in model.all_ids for t in model.practices[p].examples]
    contexts = [{}, {"account_id": "prospect"}, {"account_id": "prospect_open"},
                {"account_id": "new_customer"},
                {"account_id": "old_customer", "opportunity_id": "o_renew"},
                {"account_id": "prospect_open", "opportunity_id": "o_neg"}]
    rows = [c[0] for c in CASES.values()] + [
        _act(f"d{i}_{j}", type_, subject, direction=direction, body=body, **ctx)
        for i, (type_, direction, subject, body) in enumerate(texts)
        for j, ctx in enumerate(contexts)
    ]
    many = _table(con, "activities", rows)

    def run(leaf: int) -> list[tuple[Any, ...]]:
        monkeypatch.setattr(cls, "_GATE_LEAF", leaf)
        out = classify_rules(many, accs, opps, model, STAGE_STATUS, history=hist, tags=True)
        return sorted(tuple(r.values()) for r in out.to_pyarrow().to_pylist())

    plain = run(1000)  # every rule in one CASE, in order: no gate
    fired = {r[4] for r in plain}
    assert len(fired) > 30 and None in fired and "label" in fired
    for leaf in (1, 2, 3):
        assert run(leaf) == plain, leaf

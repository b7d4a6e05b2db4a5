"""The job model: packaged data valid and complete, overrides apply, bad ones fail clearly."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from wholejob.config import WorkspaceConfig
from wholejob.errors import JobModelError
from wholejob.jobmodel import OTHER, PRACTICE_IDS, JobModel, load_job_model

DESIGN_IDS = [
    "prospecting", "referrals", "icp_focus", "qualification", "customer_understanding",
    "relationships", "insight", "buying_process", "value_creation", "sales_process",
    "proposals", "closing", "new_logos", "account_growth", "social_selling",
    "call_planning", "land_and_expand", "marketing_alignment",
]


def _load(practices: dict) -> JobModel:
    return load_job_model(WorkspaceConfig(practices=practices))


def test_packaged_model_has_the_18_design_ids_in_table_order_plus_other():
    m = load_job_model()
    assert m.practice_ids == DESIGN_IDS
    assert list(PRACTICE_IDS) == DESIGN_IDS
    assert m.selling_ids == DESIGN_IDS
    assert m.all_ids == [*DESIGN_IDS, "other"]
    assert list(m.practices) == m.all_ids


def test_packaged_file_is_data_in_the_package():
    text = resources.files("wholejob").joinpath("data", "job_model.toml").read_text("utf-8")
    data = tomllib.loads(text)
    assert list(data["practices"]) == [*DESIGN_IDS, OTHER]


def test_every_practice_is_described_measured_and_has_examples():
    m = load_job_model()
    for pid in m.all_ids:
        p = m.practices[pid]
        assert p.id == pid
        assert p.name and p.description and p.group and p.effort_summary
        assert len(p.examples) >= 25, pid
        assert len(set(p.examples)) == len(p.examples), pid
        if pid != OTHER:
            assert p.measures, pid
            assert all(x.formula and x.direction in ("higher", "lower") for x in p.measures)


def test_shares_are_sound():
    m = load_job_model()
    targets = [m.practices[p].target_share for p in m.practice_ids]
    floors = [m.practices[p].floor_share for p in m.practice_ids]
    assert all(t is not None and f is not None and 0 <= f <= t <= 1
               for f, t in zip(floors, targets, strict=True))
    assert sum(targets) == pytest.approx(1.0, abs=0.02)
    assert sum(floors) < sum(targets)
    assert m.practices[OTHER].target_share is None


def test_practices_not_recognised_from_activities_say_so():
    m = load_job_model()
    assert m.account_ids == ["icp_focus", "new_logos", "land_and_expand"]
    assert m.quality_ids == ["value_creation"]
    for pid in (*m.account_ids, *m.quality_ids):
        assert m.practices[pid].effort_explanation
    assert not m.practices["value_creation"].enabled_rules
    for pid in m.account_ids:
        assert m.practices[pid].enabled_criteria
        assert m.practices[pid].attribute_target is not None


def test_rules_are_ordered_by_priority_then_specificity():
    rules = load_job_model().ordered_rules()
    keys = [(-r.priority, -r.specificity) for _, r in rules]
    assert keys == sorted(keys)
    # Structural fall-backs come last.
    assert rules[-1][1].priority == -1


def test_phrases_are_lower_cased_but_escapes_kept():
    m = _load({"prospecting": {"rules": [{"id": "shout", "phrases": [r"\bCOLD\B"]}]}})
    rule = next(r for r in m.practices["prospecting"].rules if r.id == "shout")
    assert rule.phrases == (r"\bcold\B",)


def test_no_overrides_gives_the_packaged_model():
    assert load_job_model(WorkspaceConfig()) is load_job_model()


def test_scalar_override_applies_and_keeps_the_rest():
    m = _load({"prospecting": {"target_share": 0.15, "name": "Hunting"}})
    p = m.practices["prospecting"]
    assert p.target_share == 0.15 and p.name == "Hunting"
    assert p.floor_share == load_job_model().practices["prospecting"].floor_share
    assert p.rules == load_job_model().practices["prospecting"].rules


def test_rule_overrides_merge_on_id_append_and_disable():
    m = _load({"prospecting": {"rules": [
        {"id": "cold_outreach", "phrases": ["smoke signal"]},
        {"id": "outbound_to_prospects", "enabled": False},
        {"id": "door_knock", "phrases": ["door ?knock"], "types": ["meeting"]},
    ]}})
    p = m.practices["prospecting"]
    by_id = {r.id: r for r in p.rules}
    assert by_id["cold_outreach"].phrases == ("smoke signal",)
    assert "outbound_to_prospects" not in {r.id for r in p.enabled_rules}
    assert by_id["door_knock"].types == ("meeting",)
    assert [r.id for r in p.rules][-1] == "door_knock"


def test_nested_table_override_merges():
    m = _load({"closing": {"drives": {"flows": ["velocity"]}}})
    drives = m.practices["closing"].drives
    assert drives.flows == ("velocity",)
    assert drives.stages == load_job_model().practices["closing"].drives.stages


@pytest.mark.parametrize(
    ("practices", "message"),
    [
        ({"prospectin": {"target_share": 0.1}},
         "wholejob.toml: practices.prospectin: unknown practice id (did you mean 'prospecting'?)"),
        ({"prospecting": {"floor": 0.1}},
         "wholejob.toml: practices.prospecting.floor: unknown field (did you mean 'floor_share'?)"),
        ({"prospecting": {"id": "hunting"}},
         "wholejob.toml: practices.prospecting.id: the practice id is the table name"),
        ({"prospecting": {"target_share": 1.5}},
         "wholejob.toml: practices.prospecting.target_share: Input should be less than or "
         "equal to 1"),
        ({"prospecting": {"floor_share": 0.5}},
         "wholejob.toml: practices.prospecting: floor_share 0.5 is above target_share"),
        ({"prospecting": {"target_share": 0.9}},
         "wholejob.toml: practices: target shares sum to"),
        ({"prospecting": {"group": "hunting"}},
         "wholejob.toml: practices.prospecting.group: Input should be"),
        ({"prospecting": {"rules": [{"id": "cold_outreach", "phrases": ["cold ("]}]}},
         "wholejob.toml: practices.prospecting.rules.cold_outreach.phrases: phrase 0 'cold (' "
         "is not a valid regular expression"),
        ({"prospecting": {"rules": [{"id": "x", "phrases": ["(?<!warm )call"]}]}},
         "wholejob.toml: practices.prospecting.rules.x.phrases: phrase 0 '(?<!warm )call' uses "
         "look-around"),
        ({"prospecting": {"rules": [{"id": "x", "phrasez": ["call"]}]}},
         "wholejob.toml: practices.prospecting.rules.0.phrasez: unknown field "
         "(did you mean 'phrases'?)"),
        ({"prospecting": {"rules": [{"phrases": ["call"]}]}},
         "wholejob.toml: practices.prospecting.rules.0.id: each item needs an id"),
        ({"prospecting": {"rules": [{"id": "x", "types": ["fax"]}]}},
         "wholejob.toml: practices.prospecting.rules.x.types.0: Input should be"),
        ({"prospecting": {"rules": [{"id": "x", "priority": 3}]}},
         "wholejob.toml: practices.prospecting.rules.x: rule 'x' sets no condition"),
        ({"prospecting": {"rules": "cold"}},
         "wholejob.toml: practices.prospecting.rules: must be a list of tables with an id"),
        ({"prospecting": {"measures": [{"id": "m", "name": "M", "formula": "f",
                                        "direction": "up"}]}},
         "wholejob.toml: practices.prospecting.measures.m.direction: Input should be"),
        ({"value_creation": {"rules": [{"id": "x", "phrases": ["recap"]}]}},
         "wholejob.toml: practices.value_creation: effort 'quality' has no time of its own"),
        ({"closing": {"effort": "quality", "effort_explanation": "x"}},
         "wholejob.toml: practices.closing: effort 'quality' has no time of its own"),
        ({"other": {"target_share": 0.1}},
         "wholejob.toml: practices.other: is not selling time"),
    ],
)
def test_bad_override_names_file_and_key(practices, message):
    with pytest.raises(JobModelError) as exc:
        _load(practices)
    text = str(exc.value)
    assert text.startswith(message), text
    assert "\n" not in text


def test_error_names_the_given_source():
    with pytest.raises(JobModelError, match=r"^/ws/wholejob.toml: practices.nope: unknown"):
        load_job_model(WorkspaceConfig(practices={"nope": {}}), source="/ws/wholejob.toml")


def test_workspace_config_file_round_trip(tmp_path):
    from wholejob.config import load_config

    path = tmp_path / "wholejob.toml"
    path.write_text(
        '[practices.prospecting]\ntarget_share = 0.17\n\n'
        '[[practices.prospecting.rules]]\nid = "door_knock"\nphrases = ["door ?knock"]\n',
        encoding="utf-8",
    )
    m = load_job_model(load_config(path), source=str(path))
    assert m.practices["prospecting"].target_share == 0.17
    assert "door_knock" in {r.id for r in m.practices["prospecting"].rules}

"""Findings against the demo's planted problems: recall and precision over seeds and sizes.

Each scenario generates a demo team (seed, size), imports it, builds the
scorecard and diagnoses it. Recall counts the primary problems of
``wholejob.demo.profiles.PLANTED`` that a finding names (same rep, practice and
kind); precision counts findings that the rep's profile explains (primary or
consistent) among all findings, so every finding on a balanced rep is a false
positive. The thresholds were tuned on seeds 1-5 and checked on seeds 11-15;
these seeds (21-32) were used for neither. See docs/findings.md.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from wholejob.demo import generate_demo
from wholejob.demo.profiles import PLANTED
from wholejob.findings import diagnose
from wholejob.importing.importer import import_paths
from wholejob.jobmodel import load_job_model
from wholejob.measures import build_scorecard
from wholejob.workspace import init_workspace

pytestmark = pytest.mark.slow

WEEKS = 14
SIZES = (7, 12, 20)
SEEDS = tuple(range(21, 33))  # 12 seeds; each runs at one size, cycling through SIZES
# The targets: recall 0.95 and precision 0.90. On these seeds the
# pipeline reaches 0.990 and 0.989 (docs/findings.md), so the test asserts the
# targets themselves.
RECALL_TARGET, PRECISION_TARGET = 0.95, 0.90
RECALL_FLOOR, PRECISION_FLOOR = RECALL_TARGET, PRECISION_TARGET
BALANCED_FINDINGS_PER_REP_MAX = 0.25


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, int]]:
    model = load_job_model()
    out = []
    for i, seed in enumerate(SEEDS):
        size = SIZES[i % len(SIZES)]
        root: Path = tmp_path_factory.mktemp(f"demo_{seed}_{size}")
        demo = generate_demo(root / "data", reps=size, weeks=WEEKS, seed=seed)
        ws = init_workspace(root / "ws")
        import_paths(ws, [root / "data"])
        with ws:
            scorecard = build_scorecard(ws, model=model)
        out.append(_score(diagnose(scorecard, model), demo.profiles) | {"seed": seed,
                                                                         "size": size})
    return out


def _score(findings, profiles: dict[str, str]) -> dict[str, int]:
    named: dict[str, set[tuple[str, str]]] = defaultdict(set)
    counts = {"caught": 0, "missed": 0, "explained": 0, "unexplained": 0,
              "balanced_reps": 0, "balanced_findings": 0}
    for f in findings:
        profile = profiles.get(f.rep_id, "balanced")
        named[f.rep_id].add((f.practice, f.kind))
        truth = {*PLANTED[profile]["primary"], *PLANTED[profile]["consistent"]}
        counts["explained" if (f.practice, f.kind) in truth else "unexplained"] += 1
        counts["balanced_findings"] += profile == "balanced"
    for rep_id, profile in profiles.items():
        counts["balanced_reps"] += profile == "balanced"
        for problem in PLANTED[profile]["primary"]:
            counts["caught" if problem in named[rep_id] else "missed"] += 1
    return counts


def _total(outcomes: list[dict[str, int]], key: str) -> int:
    return sum(o[key] for o in outcomes)


def test_every_profile_has_planted_truth():
    from wholejob.demo.profiles import PROFILES

    assert set(PLANTED) == set(PROFILES)
    assert PLANTED["balanced"] == {"primary": (), "consistent": ()}
    for profile in PROFILES.values():
        if profile.name != "balanced":
            assert PLANTED[profile.name]["primary"], profile.name


def test_planted_consistent_follows_the_multipliers():
    from wholejob.demo.profiles import PROFILES

    for name, profile in PROFILES.items():
        derived = {(p, "neglected") for p, m in profile.hours.items() if p != "other" and m <= 0.4}
        derived |= {(p, "overinvested") for p, m in profile.hours.items() if m >= 2.5}
        derived |= {(p, "ineffective") for p, o in profile.skill.items() if o < 0}
        assert derived == {*PLANTED[name]["primary"], *PLANTED[name]["consistent"]}, name


def test_recall_of_planted_problems(outcomes):
    caught, missed = _total(outcomes, "caught"), _total(outcomes, "missed")
    recall = caught / (caught + missed)
    print(f"\nrecall {recall:.3f} ({caught}/{caught + missed}), target {RECALL_TARGET}")
    assert recall >= RECALL_FLOOR


def test_precision_of_findings(outcomes):
    ok, bad = _total(outcomes, "explained"), _total(outcomes, "unexplained")
    precision = ok / (ok + bad)
    print(f"\nprecision {precision:.3f} ({ok}/{ok + bad}), target {PRECISION_TARGET}")
    assert precision >= PRECISION_FLOOR


def test_balanced_reps_are_mostly_left_alone(outcomes):
    reps, found = _total(outcomes, "balanced_reps"), _total(outcomes, "balanced_findings")
    assert found / reps <= BALANCED_FINDINGS_PER_REP_MAX


def test_every_size_is_covered(outcomes):
    assert {o["size"] for o in outcomes} == set(SIZES)
    assert len({o["seed"] for o in outcomes}) >= 10

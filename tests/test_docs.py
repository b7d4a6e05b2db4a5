"""The docs say what the code does: practice table and README set-up commands."""

from __future__ import annotations

from pathlib import Path

from wholejob.jobmodel import load_job_model

ROOT = Path(__file__).parents[1]


def test_job_model_doc_lists_every_practice_with_its_floor_and_target():
    doc = (ROOT / "docs" / "job-model.md").read_text()
    model = load_job_model()
    for pid in model.all_ids:
        p = model.practices[pid]
        row = next((ln for ln in doc.splitlines() if ln.startswith(f"| `{pid}` |")), None)
        assert row is not None, f"docs/job-model.md has no row for {pid}"
        if p.floor_share is not None:
            assert f"| {p.floor_share:.0%} | {p.target_share:.0%} |" in row, pid


def test_readme_setup_is_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    demo_cmd = 'python -m pip install . && wholejob demo'
    test_cmd = 'python -m pip install -e ".[test]" && python -m pytest'
    assert demo_cmd in readme
    assert test_cmd in readme
    assert test_cmd in ci

"""The public Python API: exactly what `__all__` promises, each piece documented."""

from __future__ import annotations

import inspect

import wholejob

EXPECTED = {
    "__version__",
    # workspace and configuration
    "Workspace",
    "WorkspaceConfig",
    "init_workspace",
    "open_workspace",
    # job model
    "JobModel",
    "load_job_model",
    # import
    "ImportSummary",
    "import_paths",
    "load_mapping",
    "load_preset",
    # demo
    "generate_demo",
    # analysis
    "effort_hours",
    "build_scorecard",
    "trace",
    "with_balance",
    "diagnose",
    "Scorecard",
    "Finding",
    # forecast
    "forecast",
    "run_backtest",
    # errors
    "WholejobError",
    "WorkspaceError",
    "WorkspaceLockedError",
    "SchemaVersionError",
    "ConfigError",
    "JobModelError",
    "MappingError",
    "ImportFailed",
}


def test_all_is_exactly_the_public_api():
    assert set(wholejob.__all__) == EXPECTED
    assert len(wholejob.__all__) == len(set(wholejob.__all__))


def test_every_public_name_exists_and_is_documented():
    for name in wholejob.__all__:
        obj = getattr(wholejob, name)
        if name == "__version__":
            assert isinstance(obj, str)
            continue
        doc = inspect.getdoc(obj)
        assert doc, f"{name} has no docstring"
        assert doc.splitlines()[0].endswith("."), f"{name}: summary line should be a sentence"


def test_errors_share_one_hierarchy():
    for name in wholejob.__all__:
        obj = getattr(wholejob, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, wholejob.WholejobError)

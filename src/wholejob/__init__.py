"""wholejob: see how each salesperson spends time and performs across the whole sales job.

The public API is what ``__all__`` lists; the CLI is a thin layer over it::

    import wholejob

    ws = wholejob.open_workspace("wholejob-workspace")
    wholejob.import_paths(ws, ["exports/"], mapping=wholejob.load_preset("salesforce"))
    ws.to_pandas("opportunities")
"""

from __future__ import annotations

__version__ = "0.1.0"

# Submodules import __version__ from here, so it is defined before them.
from wholejob.balance import with_balance
from wholejob.config import WorkspaceConfig
from wholejob.demo import generate_demo
from wholejob.effort import effort_hours
from wholejob.errors import (
    ConfigError,
    ImportFailed,
    JobModelError,
    MappingError,
    SchemaVersionError,
    WholejobError,
    WorkspaceError,
    WorkspaceLockedError,
)
from wholejob.findings import diagnose
from wholejob.forecast import forecast, run_backtest
from wholejob.importing.importer import import_paths
from wholejob.importing.mapping import load_mapping, load_preset
from wholejob.importing.summary import ImportSummary
from wholejob.jobmodel import JobModel, load_job_model
from wholejob.measures import build_scorecard, trace
from wholejob.scorecard import Finding, Scorecard
from wholejob.workspace import Workspace, init_workspace, open_workspace

__all__ = [
    "ConfigError",
    "Finding",
    "ImportFailed",
    "ImportSummary",
    "JobModel",
    "JobModelError",
    "MappingError",
    "SchemaVersionError",
    "Scorecard",
    "WholejobError",
    "Workspace",
    "WorkspaceConfig",
    "WorkspaceError",
    "WorkspaceLockedError",
    "__version__",
    "build_scorecard",
    "diagnose",
    "effort_hours",
    "forecast",
    "generate_demo",
    "import_paths",
    "init_workspace",
    "load_job_model",
    "load_mapping",
    "load_preset",
    "open_workspace",
    "run_backtest",
    "trace",
    "with_balance",
]

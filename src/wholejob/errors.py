"""The one exception hierarchy of wholejob.

Every error that wholejob raises on purpose derives from :class:`WholejobError`;
its message is one line a user can act on. The CLI prints that line and exits
with the error's ``exit_code``.
"""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "ConfigError",
    "ForecastDataError",
    "ImportFailed",
    "JobModelError",
    "MappingError",
    "NotVisible",
    "PlanError",
    "SchemaVersionError",
    "UserError",
    "WholejobError",
    "WorkspaceError",
    "WorkspaceLockedError",
]


class WholejobError(Exception):
    """Base class of every error wholejob raises deliberately."""

    exit_code: int = 1


class WorkspaceError(WholejobError):
    """The workspace folder is missing, unreadable or not a wholejob workspace."""


class WorkspaceLockedError(WorkspaceError):
    """Another process holds the workspace database for writing."""


class SchemaVersionError(WorkspaceError):
    """The workspace was written by a newer wholejob than this one."""


class ConfigError(WholejobError):
    """The workspace configuration file is invalid; the message names file and key."""


class JobModelError(ConfigError):
    """The job model (packaged or an override) is invalid; the message names file and key."""


class MappingError(WholejobError):
    """A mapping file or preset is invalid or does not fit the files it is applied to."""


class ImportFailed(WholejobError):
    """An import was refused or failed; nothing in the workspace changed."""


class UserError(WholejobError):
    """A user account operation is invalid (unknown user, bad role, weak password...)."""


class AccessDenied(WholejobError):
    """The signed-in user's role does not allow this."""


class NotVisible(AccessDenied):
    """The record does not exist or the user may not see it (the two are not told apart)."""


class ForecastDataError(WholejobError):
    """The workspace has no data the forecast can use for the chosen reps or date."""


class PlanError(WholejobError):
    """The plan cannot be made (no effort data, an infeasible problem)."""

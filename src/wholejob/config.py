"""Workspace configuration: currency, time zone, week start, stage ladder, ICP rules.

The configuration lives in ``wholejob.toml`` inside the workspace folder. Every
field has a default, so an empty file is a valid configuration. Errors name the
file and the offending key.
"""

from __future__ import annotations

import tomllib
import zoneinfo
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from wholejob.errors import ConfigError

__all__ = [
    "DEFAULT_STAGES",
    "EngineConfig",
    "IcpRules",
    "Stage",
    "WorkspaceConfig",
    "format_validation_error",
    "load_config",
    "save_config",
]

CONFIG_FILE = "wholejob.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Stage(_Strict):
    """One rung of the stage ladder: a canonical name, its status, and CRM aliases."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    status: Literal["open", "won", "lost"]
    aliases: tuple[str, ...] = ()


DEFAULT_STAGES: tuple[Stage, ...] = (
    Stage(name="prospecting", status="open",
          aliases=("Prospecting", "Lead", "New", "appointmentscheduled", "Appointment Scheduled")),
    Stage(name="qualification", status="open",
          aliases=("Qualification", "Qualify", "qualifiedtobuy", "Qualified To Buy", "Discovery")),
    Stage(name="needs_analysis", status="open",
          aliases=("Needs Analysis", "Value Proposition", "Id. Decision Makers",
                   "presentationscheduled", "Presentation Scheduled", "Solution", "Demo")),
    Stage(name="proposal", status="open",
          aliases=("Proposal", "Proposal/Price Quote", "Perception Analysis",
                   "decisionmakerboughtin", "Decision Maker Bought-In", "Quote")),
    Stage(name="negotiation", status="open",
          aliases=("Negotiation", "Negotiation/Review", "contractsent", "Contract Sent",
                   "Commit", "Closing")),
    Stage(name="closed_won", status="won",
          aliases=("Closed Won", "Won", "closedwon", "Closed - Won")),
    Stage(name="closed_lost", status="lost",
          aliases=("Closed Lost", "Lost", "closedlost", "Closed - Lost", "Disqualified")),
)


class IcpRules(_Strict):
    """Rules that decide whether an account fits the ideal customer profile.

    An account with an explicit ``icp_tier`` uses it (A and B fit, C does not).
    Otherwise it fits when every rule that is set matches.
    """

    industries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    min_employees: int | None = Field(default=None, ge=0)
    max_employees: int | None = Field(default=None, ge=0)
    min_annual_revenue: float | None = Field(default=None, ge=0)
    fit_tiers: tuple[Literal["A", "B", "C"], ...] = ("A", "B")


class EngineConfig(_Strict):
    """Where the workspace's records live and where analysis runs.

    ``url`` is ``duckdb`` (the workspace's own DuckDB file, the default),
    ``spark://local[N]`` (Apache Spark in local mode with N cores, ``*`` for all)
    or ``spark://HOST:PORT`` (a Spark standalone master). ``tables`` maps a
    canonical entity to a SQL table reference that already exists in the engine
    (``crm.activities_view``, or for DuckDB ``read_parquet('/data/acts/*.parquet')``):
    such entities are read from there and never imported. ``options`` are passed
    to the engine (Spark configuration keys such as ``spark.driver.memory``).
    See docs/scaling.md.
    """

    url: str = "duckdb"
    tables: dict[str, str] = Field(default_factory=dict)
    options: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _known_url(cls, v: str) -> str:
        from wholejob.engine import parse_engine_url

        try:
            parse_engine_url(v)
        except ConfigError as e:
            raise ValueError(str(e)) from None
        return v

    @field_validator("tables")
    @classmethod
    def _known_entities(cls, v: dict[str, str]) -> dict[str, str]:
        from wholejob.schema import ENTITY_ORDER

        unknown = sorted(set(v) - set(ENTITY_ORDER))
        if unknown:
            raise ValueError(
                f"unknown entity {', '.join(unknown)} (known: {', '.join(ENTITY_ORDER)})"
            )
        return v


class WorkspaceConfig(_Strict):
    """The whole workspace configuration, validated."""

    name: str = "wholejob workspace"
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    timezone: str = "UTC"
    week_start: Literal["monday", "sunday"] = "monday"
    engine: EngineConfig = EngineConfig()
    stages: tuple[Stage, ...] = DEFAULT_STAGES
    icp: IcpRules = IcpRules()
    # Overrides of the packaged job model, keyed by practice id; validated by
    # wholejob.jobmodel when the model is loaded.
    practices: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("engine", mode="before")
    @classmethod
    def _engine_url_alone(cls, v: Any) -> Any:
        # `engine = "spark://local[2]"` is short for `[engine] url = ...`.
        return {"url": v} if isinstance(v, str) else v

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, v: str) -> str:
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {v!r} (use an IANA name such as Europe/Berlin)"
            ) from None
        return v

    @model_validator(mode="after")
    def _ladder_is_sound(self) -> WorkspaceConfig:
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ValueError("stages: stage names must be unique")
        statuses = {s.status for s in self.stages}
        if not {"open", "won", "lost"} <= statuses:
            raise ValueError(
                "stages: the ladder needs at least one open, one won and one lost stage"
            )
        seen: dict[str, str] = {}
        for s in self.stages:
            for label in (s.name, *s.aliases):
                key = label.strip().lower()
                if key in seen and seen[key] != s.name:
                    raise ValueError(
                        f"stages: alias {label!r} is used by both {seen[key]!r} and {s.name!r}"
                    )
                seen[key] = s.name
        return self

    @property
    def open_stages(self) -> list[str]:
        """Open stage names in ladder order."""
        return [s.name for s in self.stages if s.status == "open"]

    def stage_lookup(self) -> dict[str, str]:
        """Map every lower-cased stage name and alias to its canonical stage name."""
        out: dict[str, str] = {}
        for s in self.stages:
            for label in (s.name, *s.aliases):
                out[label.strip().lower()] = s.name
        return out

    def stage_status(self) -> dict[str, str]:
        """Map each canonical stage name to open, won or lost."""
        return {s.name: s.status for s in self.stages}


def format_validation_error(err: ValidationError, source: str) -> str:
    """Turn a pydantic error into one line naming the file and the key."""
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = first["msg"].removeprefix("Value error, ")
    more = len(err.errors()) - 1
    tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{source}: {key}: {msg}{tail}"


def load_config(path: Path) -> WorkspaceConfig:
    """Read and validate a configuration file; a missing file gives the defaults."""
    if not path.exists():
        return WorkspaceConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    try:
        return WorkspaceConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError(format_validation_error(e, str(path))) from None


def save_config(config: WorkspaceConfig, path: Path) -> None:
    """Write a configuration file that :func:`load_config` reads back unchanged."""
    data = config.model_dump(mode="json", exclude_none=True)
    path.write_text(tomli_w.dumps(data), encoding="utf-8")

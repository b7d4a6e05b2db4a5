"""The canonical data contract: entities, their columns, keys and references.

This module is the single description of the seven entities of the design's data
contract. The importer validates against it, the workspace creates its tables from
it, and the docs list it. Enumerations whose values come from configuration (the
stage ladder, practice ids) are marked with ``enum_from`` and resolved at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "ENTITIES",
    "ENTITY_ORDER",
    "Column",
    "Entity",
    "entity",
]

DType = Literal["string", "int", "float", "date", "timestamp", "bool"]

SQL_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "bool": "BOOLEAN",
}

# The same types as Ibis names them, for expressions on any engine.
IBIS_TYPES: dict[str, str] = {
    "string": "string",
    "int": "int64",
    "float": "float64",
    "date": "date",
    "timestamp": "timestamp",
    "bool": "boolean",
}


@dataclass(frozen=True)
class Column:
    """One column of an entity: its type, whether it is required and its constraints."""

    name: str
    dtype: DType = "string"
    required: bool = False
    enum: tuple[str, ...] | None = None
    enum_from: Literal["stages", "practices", "practices_and_other"] | None = None
    ref: str | None = None  # "entity.column" this column points at
    min_value: float | None = None
    max_value: float | None = None
    min_exclusive: bool = False
    default: str | None = None  # applied when the source leaves the field empty

    @property
    def sql_type(self) -> str:
        """The column's SQL type in the workspace database."""
        return SQL_TYPES[self.dtype]

    @property
    def ibis_type(self) -> str:
        """The column's type as Ibis names it."""
        return IBIS_TYPES[self.dtype]


@dataclass(frozen=True)
class Entity:
    """One entity of the contract: its file name, columns and key."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    description: str = ""
    aliases: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        """Names of all columns, in contract order."""
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        """Names of the required columns."""
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


_C = Column

ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "reps",
            (
                _C("rep_id", required=True),
                _C("name", required=True),
                _C("email"),
                _C("team"),
                _C("manager_id", ref="reps.rep_id"),
                _C("role", enum=("rep", "manager"), default="rep"),
                _C("quota", "float", min_value=0),
                _C("weekly_hours", "float", min_value=0, min_exclusive=True,
                   max_value=168, default="40"),
                _C("hired_on", "date"),
            ),
            key=("rep_id",),
            description="Salespeople and their managers.",
            aliases=("rep", "users", "owners"),
        ),
        Entity(
            "accounts",
            (
                _C("account_id", required=True),
                _C("name", required=True),
                _C("industry"),
                _C("employees", "int", min_value=0),
                _C("annual_revenue", "float", min_value=0),
                _C("region"),
                _C("owner_id", ref="reps.rep_id"),
                _C("customer_since", "date"),
                _C("icp_tier", enum=("A", "B", "C")),
            ),
            key=("account_id",),
            description="Companies sold to; customer_since empty means prospect.",
            aliases=("account", "companies"),
        ),
        Entity(
            "contacts",
            (
                _C("contact_id", required=True),
                _C("account_id", required=True, ref="accounts.account_id"),
                _C("name"),
                _C("title"),
                _C("seniority", enum=("executive", "manager", "staff")),
            ),
            key=("contact_id",),
            description="People at accounts.",
            aliases=("contact",),
        ),
        Entity(
            "opportunities",
            (
                _C("opportunity_id", required=True),
                _C("account_id", required=True, ref="accounts.account_id"),
                _C("owner_id", required=True, ref="reps.rep_id"),
                _C("name"),
                _C("created_on", "date", required=True),
                _C("close_date", "date"),
                _C("amount", "float", required=True, min_value=0),
                _C("stage", required=True, enum_from="stages"),
                _C("status", enum=("open", "won", "lost")),
                _C("kind", enum=("new_logo", "expansion", "renewal")),
                _C("source", enum=("outbound", "inbound", "referral", "social",
                                   "marketing", "partner", "customer")),
                _C("lost_reason"),
                _C("next_step"),
                _C("next_step_on", "date"),
                _C("business_case", "bool"),
            ),
            key=("opportunity_id",),
            description="Deals; status is derived from the stage ladder when empty.",
            aliases=("opportunity", "deals"),
        ),
        Entity(
            "opportunity_history",
            (
                _C("opportunity_id", required=True, ref="opportunities.opportunity_id"),
                _C("stage", required=True, enum_from="stages"),
                _C("entered_at", "timestamp", required=True),
                _C("amount", "float", min_value=0),
                _C("close_date", "date"),
            ),
            key=("opportunity_id", "stage", "entered_at"),
            description="Each stage an opportunity entered, and when.",
            aliases=("stage_history", "opportunityhistory"),
        ),
        Entity(
            "activities",
            (
                _C("activity_id", required=True),
                _C("rep_id", required=True, ref="reps.rep_id"),
                _C("type", required=True,
                   enum=("call", "email", "meeting", "social", "task", "other")),
                _C("started_at", "timestamp", required=True),
                _C("duration_minutes", "float", min_value=0, max_value=24 * 60),
                _C("subject"),
                _C("body"),
                _C("account_id", ref="accounts.account_id"),
                _C("contact_id", ref="contacts.contact_id"),
                _C("opportunity_id", ref="opportunities.opportunity_id"),
                _C("direction", enum=("outbound", "inbound")),
                _C("outcome"),
                _C("practice", enum_from="practices_and_other"),
            ),
            key=("activity_id",),
            description="Calls, emails, meetings, social touches and tasks.",
            aliases=("activity",),
        ),
        Entity(
            "assessments",
            (
                _C("rep_id", required=True, ref="reps.rep_id"),
                _C("practice", required=True, enum_from="practices"),
                _C("score", "int", required=True, min_value=1, max_value=5),
                _C("assessed_on", "date", required=True),
                _C("assessor_id", ref="reps.rep_id"),
                _C("source", enum=("self", "manager", "peer")),
                _C("note"),
            ),
            key=("rep_id", "practice", "assessed_on", "source", "assessor_id"),
            description="Skill scores 1-5 per rep and practice.",
            aliases=("assessment", "skills"),
        ),
    )
}

# Import order: every reference points to an entity earlier in this list
# (reps.manager_id and assessments.assessor_id point at reps itself or earlier).
ENTITY_ORDER: tuple[str, ...] = tuple(ENTITIES)


def entity(name: str) -> Entity:
    """Return the entity called ``name`` (or one of its aliases, case-insensitive)."""
    low = name.lower()
    for e in ENTITIES.values():
        if low == e.name or low in e.aliases:
            return e
    raise KeyError(name)

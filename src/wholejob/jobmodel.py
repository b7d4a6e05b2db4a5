"""The job model: the 18 practices of the whole sales job, loaded from packaged data.

The model itself is data (``wholejob/data/job_model.toml``); this module validates
it and applies a workspace's overrides from ``[practices.<id>]`` in its
``wholejob.toml``. Overrides deep-merge into the packaged practice: tables merge
key by key, lists replace, except ``rules``, ``criteria`` and ``measures``, which
merge item by item on ``id`` (a new ``id`` appends; ``enabled = false`` switches a
packaged rule off). Every problem is reported as one line naming the file and the
key, e.g. ``wholejob.toml: practices.prospectin: unknown practice id (did you mean
'prospecting'?)``.
"""

from __future__ import annotations

import copy
import difflib
import functools
import re
import tomllib
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from wholejob.config import WorkspaceConfig
from wholejob.errors import JobModelError

__all__ = [
    "OTHER",
    "PACKAGED_SOURCE",
    "PRACTICE_IDS",
    "Drives",
    "JobModel",
    "Measure",
    "Practice",
    "Rule",
    "load_job_model",
]

PRACTICE_IDS: tuple[str, ...] = (
    "prospecting", "referrals", "icp_focus", "qualification", "customer_understanding",
    "relationships", "insight", "buying_process", "value_creation", "sales_process",
    "proposals", "closing", "new_logos", "account_growth", "social_selling",
    "call_planning", "land_and_expand", "marketing_alignment",
)
OTHER = "other"
PACKAGED_SOURCE = "wholejob/data/job_model.toml"

ActivityType = Literal["call", "email", "meeting", "social", "task", "other"]
Flow = Literal["new_pipeline", "conversion", "velocity", "deal_size", "retention", "expansion"]
Group = Literal["pipeline generation", "winning deals", "customers", "craft", "non-selling"]

# How much each kind of condition narrows a rule down. A rule's specificity is the
# sum over the conditions it sets; its default confidence is 0.5 + specificity,
# capped at 0.95. Phrases are the strongest single signal; the structure of an
# activity (type, direction) says little on its own.
SPECIFICITY: dict[str, float] = {
    "phrases": 0.25,
    "stages": 0.15,
    "recent_customer_days": 0.15,
    "kinds": 0.10,
    "sources": 0.10,
    "account_open_opportunity": 0.10,
    "types": 0.05,
    "direction": 0.05,
    "account": 0.05,
    "open_opportunity": 0.05,
    "icp_fit": 0.05,
}
CONDITIONS: tuple[str, ...] = tuple(SPECIFICITY)

# Constructs that Python's `re` accepts but RE2 (DuckDB, BigQuery, Spark via Java
# mostly agrees) does not: look-around, back-references, atomic groups.
_NON_PORTABLE = re.compile(r"\(\?<?[=!]|\(\?>|\(\?P=|\\[1-9]")


def _lower_pattern(pattern: str) -> str:
    """Lower-case a regex's literal characters, leaving escapes such as ``\\B`` intact."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(pattern[i : i + 2])
            i += 2
            continue
        out.append(ch.lower())
        i += 1
    return "".join(out)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    """One recognition rule: conditions on an activity that are all true when it matches.

    Phrases are case-insensitive regex fragments searched in the activity's
    subject and body; a rule matches when any of its phrases is found and every
    other condition it sets holds.
    """

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    types: tuple[ActivityType, ...] = ()
    direction: Literal["outbound", "inbound"] | None = None
    phrases: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    kinds: tuple[Literal["new_logo", "expansion", "renewal"], ...] = ()
    sources: tuple[
        Literal["outbound", "inbound", "referral", "social", "marketing", "partner", "customer"],
        ...,
    ] = ()
    account: Literal["customer", "prospect"] | None = None
    open_opportunity: bool | None = None
    account_open_opportunity: bool | None = None
    recent_customer_days: int | None = Field(default=None, ge=1)
    icp_fit: bool | None = None
    priority: int = 0
    confidence: float | None = Field(default=None, gt=0, le=1)
    enabled: bool = True
    note: str = ""

    @field_validator("phrases")
    @classmethod
    def _phrases_compile(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        out = []
        for i, phrase in enumerate(v):
            if not phrase.strip():
                raise ValueError(f"phrase {i} is empty")
            if _NON_PORTABLE.search(phrase):
                raise ValueError(
                    f"phrase {i} {phrase!r} uses look-around, a back-reference or an atomic "
                    "group, which database regex engines do not support"
                )
            try:
                re.compile(phrase)
            except re.error as e:
                raise ValueError(
                    f"phrase {i} {phrase!r} is not a valid regular expression: {e}"
                ) from None
            out.append(_lower_pattern(phrase))
        return tuple(out)

    @model_validator(mode="after")
    def _has_a_condition(self) -> Rule:
        if not self.conditions:
            raise ValueError(
                f"rule {self.id!r} sets no condition (it would match everything); "
                f"set one of: {', '.join(CONDITIONS)}"
            )
        return self

    @property
    def conditions(self) -> list[str]:
        """Names of the conditions this rule sets."""
        return [c for c in CONDITIONS if getattr(self, c) not in (None, ())]

    @property
    def pattern(self) -> str | None:
        """All phrases as one lower-case regex (alternatives), or None without phrases."""
        if not self.phrases:
            return None
        return "|".join(f"(?:{p})" for p in self.phrases)

    @property
    def specificity(self) -> float:
        """How narrowly the rule's conditions pick activities (sum of condition weights)."""
        return round(sum(SPECIFICITY[c] for c in self.conditions), 4)

    @property
    def effective_confidence(self) -> float:
        """The confidence of a match: the rule's own, else 0.5 + specificity (max 0.95)."""
        if self.confidence is not None:
            return self.confidence
        return round(min(0.95, 0.5 + self.specificity), 4)


class Measure(_Strict):
    """One effectiveness measure of a practice, with its formula in words."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    formula: str = Field(min_length=1)
    direction: Literal["higher", "lower"]


class Drives(_Strict):
    """The stages of the ladder and the pipeline flows a practice moves."""

    stages: tuple[str, ...] = ()
    flows: tuple[Flow, ...] = ()


class Practice(_Strict):
    """One practice of the job: what it is, how its effort is recognised and measured."""

    id: str
    name: str = Field(min_length=1)
    job: str = Field(min_length=1)
    description: str = Field(min_length=1)
    group: Group
    effort: Literal["activity", "account", "quality"]
    effort_summary: str = Field(min_length=1)
    effort_explanation: str = ""
    floor_share: float | None = Field(default=None, ge=0, le=1)
    target_share: float | None = Field(default=None, ge=0, le=1)
    attribute_floor: float | None = Field(default=None, ge=0, le=1)
    attribute_target: float | None = Field(default=None, ge=0, le=1)
    drives: Drives = Drives()
    rules: tuple[Rule, ...] = ()
    criteria: tuple[Rule, ...] = ()
    measures: tuple[Measure, ...] = ()
    examples: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Practice:
        if (
            self.floor_share is not None
            and self.target_share is not None
            and self.floor_share > self.target_share
        ):
            raise ValueError(
                f"floor_share {self.floor_share} is above target_share {self.target_share}"
            )
        if self.effort != "activity" and not self.effort_explanation.strip():
            raise ValueError(f"effort {self.effort!r} needs an effort_explanation")
        if self.effort == "activity" and not self.enabled_rules:
            raise ValueError("effort 'activity' needs at least one enabled rule")
        if self.effort == "quality" and self.enabled_rules:
            raise ValueError("effort 'quality' has no time of its own, so it takes no rules")
        if self.effort == "account":
            if not [c for c in self.criteria if c.enabled]:
                raise ValueError("effort 'account' needs at least one enabled criterion")
            if self.attribute_floor is None or self.attribute_target is None:
                raise ValueError("effort 'account' needs attribute_floor and attribute_target")
            if self.attribute_floor > self.attribute_target:
                raise ValueError(
                    f"attribute_floor {self.attribute_floor} is above "
                    f"attribute_target {self.attribute_target}"
                )
        else:
            if self.criteria:
                raise ValueError("criteria apply only to effort 'account'")
            if self.attribute_floor is not None or self.attribute_target is not None:
                raise ValueError("attribute_floor/attribute_target apply only to effort 'account'")
        for kind, items in (("rule", self.rules), ("criterion", self.criteria),
                            ("measure", self.measures)):
            ids = [x.id for x in items]
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"{kind} id {dupes[0]!r} is used twice")
        return self

    @property
    def enabled_rules(self) -> tuple[Rule, ...]:
        """The rules that take part in classification."""
        return tuple(r for r in self.rules if r.enabled)

    @property
    def enabled_criteria(self) -> tuple[Rule, ...]:
        """The account criteria that tag selling time as this practice's (effort 'account')."""
        return tuple(c for c in self.criteria if c.enabled)


class JobModel(_Strict):
    """The whole job: 18 selling practices in table order, plus ``other``."""

    version: int = 1
    practices: dict[str, Practice]

    @model_validator(mode="after")
    def _complete_and_balanced(self) -> JobModel:
        missing = [p for p in (*PRACTICE_IDS, OTHER) if p not in self.practices]
        if missing:
            raise ValueError(f"practices: missing practice {missing[0]!r}")
        extra = [p for p in self.practices if p not in (*PRACTICE_IDS, OTHER)]
        if extra:
            raise ValueError(f"practices: unknown practice id {extra[0]!r}")
        for pid in PRACTICE_IDS:
            p = self.practices[pid]
            if p.floor_share is None or p.target_share is None:
                raise ValueError(f"practices.{pid}: needs floor_share and target_share")
        if self.practices[OTHER].target_share is not None:
            raise ValueError("practices.other: is not selling time, so it takes no shares")
        targets = sum(self.practices[p].target_share or 0.0 for p in PRACTICE_IDS)
        if targets > 1 + 1e-9:
            raise ValueError(
                f"practices: target shares sum to {targets:.3g}; they may sum to at most 1 "
                "(lower another practice's target_share)"
            )
        # Keep table order whatever order the data came in.
        ordered = {p: self.practices[p] for p in (*PRACTICE_IDS, OTHER)}
        object.__setattr__(self, "practices", ordered)
        return self

    @property
    def practice_ids(self) -> list[str]:
        """The 18 selling practice ids in the design's table order."""
        return list(PRACTICE_IDS)

    @property
    def selling_ids(self) -> list[str]:
        """The selling practice ids (the 18; ``other`` is not selling)."""
        return list(PRACTICE_IDS)

    @property
    def all_ids(self) -> list[str]:
        """The 18 practice ids plus ``other``."""
        return [*PRACTICE_IDS, OTHER]

    @property
    def account_ids(self) -> list[str]:
        """Practices whose effort is an attribute of which account time goes to."""
        return [p for p in PRACTICE_IDS if self.practices[p].effort == "account"]

    @property
    def quality_ids(self) -> list[str]:
        """Practices with no time of their own (measured by outcomes only)."""
        return [p for p in PRACTICE_IDS if self.practices[p].effort == "quality"]

    def ordered_rules(self) -> list[tuple[str, Rule]]:
        """Return every enabled rule as (practice id, rule) in the order they are tried.

        Higher ``priority`` first, then higher specificity, then table order of the
        practice, then the rule's order in the file.
        """
        ranked = [
            ((-r.priority, -r.specificity, pi, ri), pid, r)
            for pi, pid in enumerate(self.all_ids)
            for ri, r in enumerate(self.practices[pid].enabled_rules)
        ]
        ranked.sort(key=lambda x: x[0])
        return [(pid, r) for _, pid, r in ranked]


@functools.lru_cache(maxsize=1)
def _packaged_text() -> str:
    return resources.files("wholejob").joinpath("data", "job_model.toml").read_text(
        encoding="utf-8"
    )


def _packaged_data() -> dict[str, Any]:
    try:
        return tomllib.loads(_packaged_text())
    except tomllib.TOMLDecodeError as e:  # pragma: no cover - the packaged file is tested
        raise JobModelError(f"{PACKAGED_SOURCE}: not valid TOML: {e}") from None


def _validate(data: dict[str, Any], source: str) -> JobModel:
    practices = data.get("practices")
    if isinstance(practices, dict):
        for pid, body in practices.items():
            if isinstance(body, dict):
                body["id"] = pid
    try:
        return JobModel.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        msg = first["msg"].removeprefix("Value error, ")
        if not first["loc"]:
            raise JobModelError(f"{source}: {msg}") from None
        more = len(e.errors()) - 1
        tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise JobModelError(f"{source}: {_key(first['loc'], data)}: {msg}{tail}") from None


def _key(loc: tuple[int | str, ...], data: Any) -> str:
    """Spell an error location as a config key, naming list items by their ``id``."""
    parts: list[str] = []
    node = data
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            item = node[part]
            named = isinstance(item, dict) and isinstance(item.get("id"), str)
            parts.append(item["id"] if named and parts[-1:] != ["phrases"] else str(part))
            node = item
        else:
            parts.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(parts)


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


_KEYED_LISTS = ("rules", "criteria", "measures")
_ITEM_FIELDS = {"rules": set(Rule.model_fields), "criteria": set(Rule.model_fields),
                "measures": set(Measure.model_fields)}


def _merge(base: dict[str, Any], override: dict[str, Any], where: str) -> dict[str, Any]:
    """Deep-merge ``override`` into a copy of ``base``; keyed lists merge on ``id``."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        here = f"{where}.{key}"
        if key in _KEYED_LISTS:
            out[key] = _merge_keyed(out.get(key, []), value, here, _ITEM_FIELDS[key])
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value, here)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _merge_keyed(
    base: list[dict[str, Any]], override: Any, where: str, fields: set[str]
) -> list[dict[str, Any]]:
    if not isinstance(override, list):
        raise JobModelError(f"{{source}}: {where}: must be a list of tables with an id")
    out = [copy.deepcopy(item) for item in base]
    index = {item.get("id"): i for i, item in enumerate(out)}
    for n, item in enumerate(override):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise JobModelError(f"{{source}}: {where}.{n}.id: each item needs an id")
        unknown = [k for k in item if k not in fields]
        if unknown:
            hint = _did_you_mean(unknown[0], sorted(fields))
            raise JobModelError(f"{{source}}: {where}.{n}.{unknown[0]}: unknown field{hint}")
        if item["id"] in index:
            i = index[item["id"]]
            out[i] = _merge(out[i], item, f"{where}.{n}")
        else:
            index[item["id"]] = len(out)
            out.append(copy.deepcopy(item))
    return out


def _apply_overrides(
    data: dict[str, Any], overrides: dict[str, dict[str, Any]], source: str
) -> dict[str, Any]:
    practices: dict[str, Any] = data["practices"]
    known = list(practices)
    fields = sorted(set(Practice.model_fields) - {"id"})
    for pid, override in overrides.items():
        where = f"practices.{pid}"
        if pid not in practices:
            raise JobModelError(
                f"{source}: {where}: unknown practice id{_did_you_mean(pid, known)}"
            )
        if not isinstance(override, dict):
            raise JobModelError(f"{source}: {where}: must be a table of fields")
        for key in override:
            if key == "id":
                raise JobModelError(
                    f"{source}: {where}.id: the practice id is the table name; it cannot change"
                )
            if key not in fields:
                raise JobModelError(
                    f"{source}: {where}.{key}: unknown field{_did_you_mean(key, fields)}"
                )
        try:
            practices[pid] = _merge(practices[pid], override, where)
        except JobModelError as e:
            raise JobModelError(str(e).replace("{source}", source, 1)) from None
    return data


@functools.lru_cache(maxsize=1)
def _packaged_model() -> JobModel:
    return _validate(_packaged_data(), PACKAGED_SOURCE)


def load_job_model(
    config: WorkspaceConfig | None = None, *, source: str = "wholejob.toml"
) -> JobModel:
    """Load the packaged job model and apply the workspace's practice overrides.

    ``source`` names the configuration file in error messages. Regexes are
    compiled here, so a bad phrase fails at load, not mid-classification.
    """
    base = _packaged_model()
    if config is None or not config.practices:
        return base
    data = _apply_overrides(_packaged_data(), config.practices, source)
    return _validate(data, source)

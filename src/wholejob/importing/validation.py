"""Row validation as engine expressions: typing, constraints, duplicates and references.

Validation never loops over rows in Python. It builds Ibis expressions that the
engine evaluates over the whole batch: the input is a table of contract-named
string columns plus ``_src`` (which file) and ``_line`` (where in it); the output
has the same rows with typed columns and, for a rejected row, ``_reason``,
``_column`` and ``_value`` describing the *first* failing check.

Checks, in the order that decides which one is reported:

1. Per column, in contract order: values are trimmed and an empty value is
   missing; a column default fills a missing value; a missing required value is
   rejected; the value must parse as its type (int, float, ISO date, ISO
   timestamp, bool as true/false/1/0/yes/no in any case); numbers must respect
   the column's minimum and maximum; enumerations match case-insensitively and
   are stored in canonical spelling. Stages match the workspace ladder's names
   and aliases; ``practice`` matches the job model's practice ids (plus
   ``other`` for activities).
2. ``opportunities.status`` is derived from the stage when empty; a status that
   contradicts a closed stage (``open`` at ``closed_won``) is rejected.
3. Duplicate keys: among rows that passed 1-2, the first occurrence of a key (by
   file, then line) is kept and later ones are rejected, naming the first line.
   Keys compare with NULL equal to NULL (assessments may leave key parts empty).
4. Required references (``opportunities.account_id`` ...) must name an id that
   is in the workspace, which already holds the rows this import accepted for
   earlier entities. An unknown required reference rejects the row.

Reference policy: an unknown *optional* reference (``activities.opportunity_id``,
``reps.manager_id`` ...) does not reject the row. The row is kept with the value
as given, and the import reports it as a warning: a count per ``entity.column`` in
the summary's ``unknown_references`` and one line per occurrence in the warnings
file. Such references are checked after the entity is written, so a rep whose
manager is in the same file is not reported.

Timestamps with a UTC offset (``2024-03-05T14:30:00+02:00``, ``...Z``) are
converted to the workspace time zone and stored without zone; timestamps without
an offset are already in workspace time. The conversion uses the engine's
``timezone(zone, timestamptz)`` function on DuckDB and ``from_utc_timestamp`` on
Spark (:attr:`Rules.engine` picks).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from wholejob.config import WorkspaceConfig
from wholejob.schema import Column, Entity

__all__ = [
    "META_COLUMNS",
    "Rules",
    "check_duplicates",
    "check_fields",
    "check_references",
    "duplicate_keys",
    "flag_rows",
    "keeps_type",
    "repeated_keys",
    "unknown_references",
    "validate",
]

# Bookkeeping columns that travel with every row through validation.
META_COLUMNS = ("_src", "_line")

TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
# A time of day followed by a UTC offset or Z; a bare date such as 2024-03-05 ends
# in "-05" too, so the time part is required for the offset to count.
OFFSET_PATTERN = (
    r"[T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?\s*([+-][0-9]{2}(:?[0-9]{2})?|[zZ])$"
)


@ibis.udf.scalar.builtin(name="timezone")  # type: ignore[untyped-decorator]
def _duckdb_to_zone(zone: str, ts: dt.Timestamp(timezone="UTC")) -> dt.timestamp:  # type: ignore[valid-type]
    """Return the wall-clock time in ``zone`` of an absolute instant (DuckDB)."""


@ibis.udf.scalar.builtin(name="from_utc_timestamp")  # type: ignore[untyped-decorator]
def _spark_to_zone(ts: dt.Timestamp(timezone="UTC"), zone: str) -> dt.timestamp:  # type: ignore[valid-type]
    """Return the wall-clock time in ``zone`` of an absolute instant (Spark)."""


def _to_zone(engine: str, zone: str, ts: ir.TimestampValue) -> ir.TimestampValue:
    if engine == "spark":
        return _spark_to_zone(ts, zone)
    return _duckdb_to_zone(zone, ts)


@dataclass(frozen=True)
class Rules:
    """What validation needs beyond the contract: stage ladder, practices, time zone."""

    stage_lookup: Mapping[str, str]
    stage_status: Mapping[str, str]
    practice_ids: tuple[str, ...]
    timezone: str
    engine: str = "duckdb"  # the engine kind validation runs on (for the time zone)

    @classmethod
    def from_config(cls, config: WorkspaceConfig, practice_ids: Sequence[str], *,
                    engine: str = "duckdb") -> Rules:
        """Build rules from a workspace configuration and the job model's practice ids."""
        return cls(
            stage_lookup=config.stage_lookup(),
            stage_status=config.stage_status(),
            practice_ids=tuple(practice_ids),
            timezone=config.timezone,
            engine=engine,
        )

    def enum_lookup(self, col: Column) -> dict[str, str] | None:
        """Map lower-cased accepted spellings to canonical values, or None when free text."""
        if col.enum_from == "stages":
            return dict(self.stage_lookup)
        if col.enum_from in ("practices", "practices_and_other"):
            ids = list(self.practice_ids)
            if col.enum_from == "practices_and_other" and "other" not in ids:
                ids.append("other")
            return {p.lower(): p for p in ids}
        if col.enum is not None:
            return {v.lower(): v for v in col.enum}
        return None


def _null(dtype: str = "string") -> ir.Value:
    return ibis.null(dtype)


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


# The characters ``StringValue.strip`` removes (DuckDB's TRIM with this set).
_BLANKS = " \t\n\r\v\f"


def _strip(s: ir.StringValue) -> ir.StringValue:
    """``s.strip()``, with TRIM only for values that start or end with a blank.

    DuckDB's TRIM with a character set costs microseconds per value; most
    values have nothing to trim. The first character's code (``ASCII``) and a
    suffix test per blank are byte comparisons, several times cheaper than
    TRIM and than taking the last character (``right(s, 1)`` counts characters).
    Blanks are ASCII, so a byte test cannot mistake part of a wider character.
    The first-character test is a superset (every code up to the space; empty
    is 0): TRIM removes only blanks, so it is just called a little more often.
    """
    edge = s.ascii_str() <= ord(" ")
    for c in _BLANKS:
        edge = edge | s.endswith(c)
    out: ir.StringValue = ibis.cases((edge, s.strip()), else_=s)
    return out


def _quoted(prefix: str, value: ir.StringValue, suffix: str = "") -> ir.StringValue:
    # A reason is one line: a value's own line breaks are shown as \n and \r.
    shown = value.replace("\r", "\\r").replace("\n", "\\n")
    return ibis.literal(f"{prefix} '") + shown + ibis.literal(f"'{suffix}")


def _in_years(value: ir.TimestampValue) -> ir.TimestampValue:
    """Keep dates and timestamps in years 1-9999 (what Python can hold), else NULL.

    The engine also reads ``infinity`` and years such as 294247; stored, they
    would break every later analysis that turns them into Python dates.
    """
    year = value.year()  # NULL for +-infinity
    return ibis.cases((year.between(1, 9999), value), else_=ibis.null(value.type()))


def keeps_type(col: Column, dtype: dt.DataType) -> bool:
    """Whether :func:`check_fields` reads a ``dtype`` source column as it is, untyped by text.

    A typed Parquet column of the contract's type is checked directly: casting it
    to text and parsing that back gives the same value and the same verdict, at
    the cost of formatting and parsing every value. Other types (text, 32-bit
    floats, timestamps with a zone or another precision, ...) go through text as
    CSV values do, and so does a column with a default (filled in as text).
    """
    if dtype.is_string():
        return True
    if col.default is not None:
        return False
    if col.dtype == "timestamp":
        return (isinstance(dtype, dt.Timestamp) and dtype.timezone is None
                and dtype.scale in (None, 6))
    same: dict[str, bool] = {
        "int": bool(dtype.is_integer()),
        "float": bool(dtype.is_float64()),
        "date": bool(dtype.is_date()),
        "bool": bool(dtype.is_boolean()),
    }
    return same.get(col.dtype, False)


def _parse_typed(col: Column, v: ir.Value) -> tuple[ir.Value, str | None]:
    """:func:`_parse` for a source column already of the contract's type (:func:`keeps_type`)."""
    if col.dtype == "int":
        return _whole(v.cast("float64"))
    if col.dtype == "float":
        return _finite(v)
    if col.dtype in ("date", "timestamp"):
        return _in_years(v), _PARSE_REASONS[col.dtype]
    return v, None  # a boolean is a boolean


_PARSE_REASONS = {
    "int": "not a whole number (or too large)",
    "float": "not a number",
    "date": "not a date (expected YYYY-MM-DD)",
    "timestamp": "not a timestamp (expected ISO 8601, e.g. 2024-03-05T14:30:00)",
    "bool": "not a boolean (expected true/false, yes/no or 1/0)",
}


def _whole(f: ir.FloatingValue) -> tuple[ir.Value, str]:
    # Not floor(): Ibis casts its result to int64, and a value outside int64
    # (1e20) must reject its row, not fail the whole import.
    i = f.try_cast("int64")  # NULL for NaN, infinities and values beyond int64
    whole = i.notnull() & (i.cast("float64") == f)
    return ibis.cases((whole, i), else_=_null("int64")), _PARSE_REASONS["int"]


def _finite(f: ir.FloatingValue) -> tuple[ir.Value, str]:
    finite = f.notnull() & ~f.isnan() & ~f.isinf()
    return ibis.cases((finite, f), else_=_null("float64")), _PARSE_REASONS["float"]


def _parse(col: Column, s: ir.StringValue, rules: Rules) -> tuple[ir.Value, str | None]:
    """Return the typed value of ``s`` (NULL when unparseable) and the parse-failure reason."""
    if not s.type().is_string():
        return _parse_typed(col, s)
    if col.dtype == "int":
        return _whole(s.try_cast("float64"))
    if col.dtype == "float":
        return _finite(s.try_cast("float64"))
    if col.dtype == "date":
        return _in_years(s.try_cast("date")), _PARSE_REASONS["date"]
    if col.dtype == "timestamp":
        with_offset = s.re_search(OFFSET_PATTERN)
        absolute = s.try_cast(dt.Timestamp(timezone="UTC"))
        local = _to_zone(rules.engine, rules.timezone, absolute)
        typed = _in_years(ibis.cases((with_offset, local), else_=s.try_cast("timestamp")))
        return typed, _PARSE_REASONS["timestamp"]
    if col.dtype == "bool":
        low = s.lower()
        typed = ibis.cases(
            (low.isin(TRUE_WORDS), ibis.literal(True)),
            (low.isin(FALSE_WORDS), ibis.literal(False)),
            else_=_null("boolean"),
        )
        return typed, _PARSE_REASONS["bool"]
    return s, None


def _column_checks(
    col: Column, s: ir.StringValue, rules: Rules, known: ir.Value | None = None
) -> tuple[ir.Value, list[tuple[ir.BooleanValue, ir.StringValue]]]:
    """Return a column's typed value and its (failed?, reason) checks in order.

    ``known`` is the typed value (what this returns first) when already computed:
    the checks then test it instead of parsing and looking up ``s`` again.
    """
    checks: list[tuple[ir.BooleanValue, ir.StringValue]] = []
    if col.required:
        checks.append((s.isnull(), ibis.literal("required value missing")))
    typed, parse_reason = _parse(col, s, rules)
    lookup = rules.enum_lookup(col)
    if known is not None and lookup is None:
        typed = known
    if parse_reason is not None:
        checks.append((s.notnull() & typed.isnull(), ibis.literal(parse_reason)))
    if col.min_value is not None:
        low = col.min_value
        n: Any = typed
        if col.min_exclusive:
            checks.append((n <= low, ibis.literal(f"must be greater than {_fmt(low)}")))
        else:
            checks.append((n < low, ibis.literal(f"below minimum {_fmt(low)}")))
    if col.max_value is not None:
        n = typed
        checks.append((n > col.max_value, ibis.literal(f"above maximum {_fmt(col.max_value)}")))
    if lookup is not None:
        canon = s.lower().substitute(lookup, else_=_null()) if known is None else known
        what = "stage" if col.enum_from == "stages" else col.name
        names = list(dict.fromkeys(lookup.values()))  # ladder / contract order
        hint = f" (expected one of: {', '.join(names)})" if len(names) <= 8 else ""
        checks.append((s.notnull() & canon.isnull(), _quoted(f"unknown {what}", s, hint)))
        typed = canon
    return typed, checks


def check_fields(entity: Entity, strings: ir.Table, rules: Rules) -> ir.Table:
    """Type every contract column and find each row's first failing field check.

    ``strings`` holds ``_src``, ``_line`` and every contract column, as a string
    or of a type :func:`keeps_type` accepts for it (read as is, not parsed).
    The result holds ``_src``, ``_line``, the typed contract columns and
    ``_reason``/``_column``/``_value`` (NULL for a row that passed).
    """
    cleaned: dict[str, ir.Value] = {}
    for col in entity.columns:
        raw = strings[col.name]
        if not raw.type().is_string() and keeps_type(col, raw.type()):
            cleaned[col.name] = raw  # typed already: no blanks, never empty
            continue
        s = _strip(raw.cast("string")).nullif("")
        if col.default is not None:
            s = s.fill_null(col.default)
        cleaned[col.name] = s
    t = strings.select(*META_COLUMNS, **cleaned)
    # Each typed value is computed once, as a column of its own, before the
    # checks that test it: written inline, the engine evaluated a stage lookup (a
    # CASE of some forty names) once per check that reads the stage.
    t = t.mutate(**{f"__known_{col.name}": _column_checks(col, t[col.name], rules)[0]
                    for col in entity.columns})

    typed: dict[str, ir.Value] = {}
    failures: list[tuple[ir.BooleanValue, ir.StringValue, str]] = []
    for col in entity.columns:
        value, checks = _column_checks(col, t[col.name], rules, t[f"__known_{col.name}"])
        typed[col.name] = value
        failures.extend((cond, reason, col.name) for cond, reason in checks)
        if entity.name == "opportunities" and col.name == "status":
            from_stage = typed["stage"].substitute(dict(rules.stage_status), else_=_null())
            given = value
            contradicts = (
                given.notnull() & from_stage.isin(("won", "lost")) & (given != from_stage)
            )
            reason = (
                _quoted("status", given.cast("string"))
                + _quoted(" contradicts stage", typed["stage"].cast("string"))
            )
            failures.append((contradicts, reason, col.name))
            typed[col.name] = ibis.coalesce(given, from_stage)

    # Named per-check flags keep the reason/column/value expressions small. A
    # reason is written into the CASE that picks it, not computed as a column:
    # the engine then builds its text only for the rows that fail that check.
    flags = {f"__fail{i}": cond.fill_null(False) for i, (cond, _, _) in enumerate(failures)}
    stage1 = t.mutate(**{f"__typed_{k}": v for k, v in typed.items()}, **flags)

    def first(pick: list[ir.Value]) -> ir.Value:
        if not pick:
            return _null()
        return ibis.cases(
            *((stage1[f"__fail{i}"], p) for i, p in enumerate(pick)), else_=_null()
        )

    return stage1.select(
        *META_COLUMNS,
        **{k: stage1[f"__typed_{k}"] for k in typed},
        _reason=first([reason for _, reason, _ in failures]),
        _column=first([ibis.literal(name) for _, _, name in failures]),
        _value=first([stage1[name].cast("string") for _, _, name in failures]),
    )


def _key_text(t: ir.Table, key: Sequence[str]) -> ir.StringValue:
    parts = [t[k].cast("string").fill_null("") for k in key]
    out = parts[0]
    for p in parts[1:]:
        out = out + ibis.literal("/") + p
    return out


def repeated_keys(entity: Entity, checked: ir.Table) -> ir.Table:
    """Return the keys more than one row holds, whether or not the rows passed.

    A superset of :func:`duplicate_keys` that reads only the key columns, so the
    engine computes no other check; usually empty, and then there is nothing
    more to look for.
    """
    key = list(entity.key)
    grouped = checked.group_by(key).aggregate(__n=checked.count())
    return grouped.filter(grouped["__n"] > 1).select(*key)


def duplicate_keys(entity: Entity, checked: ir.Table,
                   among: ir.Table | None = None) -> ir.Table:
    """Return the keys that more than one passing row holds, with their first row.

    The result has the key columns and ``__first_at`` (the smallest
    ``_src * 2**40 + _line`` holding the key). It is small whenever duplicates are
    rare, so the engine can keep it for :func:`check_duplicates`. ``among``
    (:func:`repeated_keys`) limits the search to those keys.
    """
    key = list(entity.key)
    ok = checked.filter(checked["_reason"].isnull())
    if among is not None:
        ok = ok.semi_join(among, [ok[k].identical_to(among[k]) for k in key])
    # (_src, _line) is unique per row, so the minimum of its encoding is the first row.
    order = ok["_src"].cast("int64") * (2**40) + ok["_line"]
    grouped = ok.group_by(key).aggregate(__first_at=order.min(), __n=ok.count())
    return grouped.filter(grouped["__n"] > 1).select(*key, "__first_at")


def check_duplicates(entity: Entity, checked: ir.Table, file_names: Sequence[str],
                     duplicates: ir.Table | None = None) -> ir.Table:
    """Reject later occurrences of a key among rows that passed so far.

    ``file_names[i]`` names the file with ``_src == i``; it appears in the reason
    when the first occurrence is in another file. ``duplicates`` is
    :func:`duplicate_keys` of ``checked`` (computed here when not given); only
    rows with one of those keys are looked at again, so there is no window over
    every row.
    """
    key = list(entity.key)
    dups = duplicate_keys(entity, checked) if duplicates is None else duplicates
    dups = dups.select(**{f"__dup_{k}": dups[k] for k in key}, __first_at=dups["__first_at"])
    # NULL equals NULL in keys (assessments may leave key parts empty).
    on = [checked[k].identical_to(dups[f"__dup_{k}"]) for k in key]
    t = checked.left_join(dups, on).select(
        *checked.columns, __first_at=dups["__first_at"])
    order = t["_src"].cast("int64") * (2**40) + t["_line"]
    dup = t["_reason"].isnull() & t["__first_at"].notnull() & (order != t["__first_at"])
    first_src = (t["__first_at"] // (2**40)).cast("int64")
    first_line = (t["__first_at"] % (2**40)).cast("int64").cast("string")
    where = ibis.literal(" (first at line ") + first_line
    if len(file_names) > 1:
        other = ibis.cases(
            *((first_src == i, ibis.literal(f" of {name}")) for i, name in enumerate(file_names)),
            else_=ibis.literal(""),
        )
        where = where + ibis.cases((first_src != t["_src"].cast("int64"), other),
                                   else_=ibis.literal(""))
    text = _key_text(t, key)
    label = "/".join(key)
    reason = _quoted(f"duplicate {label}", text) + where + ibis.literal(")")
    return t.select(
        *(c for c in checked.columns if c not in ("_reason", "_column", "_value")),
        _reason=ibis.cases((dup, reason), else_=t["_reason"]),
        _column=ibis.cases((dup, ibis.literal(key[0] if len(key) == 1 else label)),
                           else_=t["_column"]),
        _value=ibis.cases((dup, text), else_=t["_value"]),
    )


def check_references(
    entity: Entity, checked: ir.Table, targets: Mapping[str, ir.Column]
) -> ir.Table:
    """Reject rows whose required reference names no known id.

    ``targets`` maps each required reference column to the column of known ids
    (the referenced workspace table, which holds this import's earlier entities).
    """
    checks = [
        (name, checked[name].notnull() & ~checked[name].isin(ids))
        for name, ids in targets.items()
        if entity.column(name).required
    ]
    if not checks:
        return checked
    t = checked.mutate(
        **{f"__unknown_{name}": cond.fill_null(False) for name, cond in checks}
    )
    failed = [(name, t["_reason"].isnull() & t[f"__unknown_{name}"]) for name, _ in checks]
    reason_cases = [(cond, _quoted(f"unknown {name}", t[name].cast("string")))
                    for name, cond in failed]
    return t.select(
        *(c for c in checked.columns if c not in ("_reason", "_column", "_value")),
        _reason=ibis.cases(*reason_cases, else_=t["_reason"]),
        _column=ibis.cases(*((c, ibis.literal(n)) for n, c in failed), else_=t["_column"]),
        _value=ibis.cases(*((c, t[n].cast("string")) for n, c in failed), else_=t["_value"]),
    )


def validate(
    entity: Entity,
    strings: ir.Table,
    rules: Rules,
    *,
    file_names: Sequence[str],
    targets: Mapping[str, ir.Column],
) -> ir.Table:
    """Run every check that decides rejection: fields, duplicates, required references."""
    checked = check_fields(entity, strings, rules)
    checked = check_duplicates(entity, checked, file_names)
    return check_references(entity, checked, targets)


def _unknown(value: ir.Value, ids: ir.Column) -> ir.BooleanValue:
    """Whether a reference names an id that ``ids`` does not hold (NULL names none)."""
    out: ir.BooleanValue = value.notnull() & ~value.isin(ids)
    return out


def flag_rows(checked: ir.Table, targets: Mapping[str, ir.Column]) -> ir.Table:
    """Return the rows of ``checked`` that are rejected or hold an unknown reference.

    ``targets`` maps optional reference columns to their known ids. The result
    (bookkeeping and ``_reason`` columns plus those reference columns) is small
    when the data is clean, and holds what both :func:`unknown_references` and
    the rejects need, so one pass over the rows serves both.
    """
    flagged = checked["_reason"].notnull()
    for name, ids in targets.items():
        flagged = flagged | _unknown(checked[name], ids)
    return checked.filter(flagged).select(
        "_src", "_line", "_column", "_value", "_reason", "_fields_ok", *targets)


def unknown_references(
    entity: Entity, accepted: ir.Table, targets: Mapping[str, ir.Column]
) -> ir.Table | None:
    """Return the accepted rows' unknown optional references, one row per occurrence.

    The result has ``_src``, ``line``, ``column``, ``value`` and ``reason``; None
    when the entity has no optional references to check.
    """
    parts = []
    for name, ids in targets.items():
        if entity.column(name).required:
            continue
        hit = accepted.filter(_unknown(accepted[name], ids))
        value = hit[name].cast("string")
        parts.append(hit.select(
            _src=hit["_src"],
            line=hit["_line"],
            column=ibis.literal(name),
            value=value,
            reason=_quoted(f"unknown {name}", value, " (row kept)"),
        ))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)

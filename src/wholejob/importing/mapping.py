"""Mapping files: turn any CRM export into the canonical data contract.

A mapping file is TOML validated with pydantic. It lists sources; each names the
input files it matches, the contract entity they feed, and how every contract
column is made from the file's columns: a rename, a constant or a derived field
from a small set of operations, then an optional value map and date format. All
of it compiles to Ibis expressions, so a mapping runs inside the engine with no
Python per row. The format is documented in ``docs/importing.md``.

Values that a mapping cannot make sense of (an unmapped stage, a date in another
format) pass through unchanged so that validation rejects the row with a reason,
rather than the mapping silently dropping it.
"""

from __future__ import annotations

import fnmatch
import string
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from wholejob.config import format_validation_error
from wholejob.errors import MappingError
from wholejob.importing.dateformats import compile_format, reformat
from wholejob.schema import ENTITIES, entity

__all__ = [
    "Mapping",
    "Route",
    "load_mapping",
    "load_preset",
    "preset_names",
]

LINE = "_line"
_STR = ibis.dtype("string")
_FORMAT_DTYPES = ("date", "timestamp")

# ---------------------------------------------------------------------------
# The file format, as pydantic models
# ---------------------------------------------------------------------------

Names = list[str]


def _as_list(v: Any) -> Any:
    return [v] if isinstance(v, str) else v


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ValueMap(_Strict):
    """Replace values of one contract column; matching ignores case and outer spaces."""

    map: dict[str, str]
    default: str | None = None  # for non-empty values the map lacks; "" means empty


class Condition(_Strict):
    """One test of a ``when`` operation and the value it yields."""

    column: str | None = None
    equals: str | None = None
    in_: Names | None = Field(default=None, alias="in")
    startswith: Names | None = None
    contains: Names | None = None
    empty: bool | None = None
    value: str | None = None
    value_from: str | None = None

    _lists = field_validator("startswith", "contains", mode="before")(_as_list)

    @model_validator(mode="after")
    def _one_test_one_value(self) -> Condition:
        tests = [self.equals, self.in_, self.startswith, self.contains, self.empty]
        if sum(t is not None for t in tests) != 1:
            raise ValueError("give exactly one of equals, in, startswith, contains, empty")
        if (self.value is None) == (self.value_from is None):
            raise ValueError("give exactly one of value, value_from")
        return self


class Duration(_Strict):
    """How ``duration_minutes`` is computed: two timestamps, or one duration column."""

    start: str | None = None
    end: str | None = None
    formats: Names = []
    seconds: str | None = None
    milliseconds: str | None = None
    hms: str | None = None  # "H:MM:SS" or "MM:SS"

    _lists = field_validator("formats", mode="before")(_as_list)

    @model_validator(mode="after")
    def _one_mode(self) -> Duration:
        pair = self.start is not None or self.end is not None
        if pair and (self.start is None or self.end is None):
            raise ValueError("start and end go together")
        modes = [
            pair,
            self.seconds is not None,
            self.milliseconds is not None,
            self.hms is not None,
        ]
        if sum(modes) != 1:
            raise ValueError("give exactly one of start+end, seconds, milliseconds, hms")
        for f in self.formats:
            compile_format(f)
        return self


class PrefixId(_Strict):
    """Keep the first of the columns whose value starts with one of the prefixes."""

    column: Names
    prefix: Names

    _lists = field_validator("column", "prefix", mode="before")(_as_list)


class FirstItem(_Strict):
    """Keep the first item of a list-valued cell such as "123;456"."""

    column: str
    separator: str = ";"


_OPS = ("template", "coalesce", "when", "duration_minutes", "prefix_id", "first_item")


class Derived(_Strict):
    """A derived contract column: exactly one operation, optionally made an id key."""

    template: str | None = None
    coalesce: Names | None = None
    when: list[Condition] | None = None
    column: str | None = None  # default column of the when-conditions
    else_: str | None = Field(default=None, alias="else")
    else_from: str | None = None
    duration_minutes: Duration | None = None
    prefix_id: PrefixId | None = None
    first_item: FirstItem | None = None
    as_key: bool = False

    @field_validator("template")
    @classmethod
    def _template_fields(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                fields = _template_fields(v)
            except ValueError as e:
                raise ValueError(f"bad template: {e}") from None
            if not fields:
                raise ValueError("template names no {column}; use a constant instead")
        return v

    @model_validator(mode="after")
    def _one_op(self) -> Derived:
        given = [op for op in _OPS if getattr(self, op) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one operation of {', '.join(_OPS)}")
        if self.when is None and (self.column or self.else_ is not None or self.else_from):
            raise ValueError("column, else and else_from belong to a when operation")
        if self.else_ is not None and self.else_from is not None:
            raise ValueError("give at most one of else, else_from")
        for i, c in enumerate(self.when or ()):
            if c.column is None and self.column is None:
                raise ValueError(f"when.{i}: no column (set it here or on the operation)")
        return self

    def inputs(self) -> list[str]:
        """Source columns the operation reads, in order of mention."""
        out: list[str] = []
        if self.template is not None:
            out += _template_fields(self.template)
        out += self.coalesce or []
        for c in self.when or ():
            out += [c.column or self.column or "", *([c.value_from] if c.value_from else [])]
        out += [self.else_from] if self.else_from else []
        d = self.duration_minutes
        if d is not None:
            out += [x for x in (d.start, d.end, d.seconds, d.milliseconds, d.hms) if x]
        out += self.prefix_id.column if self.prefix_id else []
        out += [self.first_item.column] if self.first_item else []
        return list(dict.fromkeys(out))


class Source(_Strict):
    """One kind of input file: which files, which entity, and how each column is made."""

    files: Names = Field(min_length=1)
    exclude: Names = []
    entity: str
    label: str | None = None
    columns: dict[str, str | Names] = {}
    optional: Names = []
    constants: dict[str, str] = {}
    derived: dict[str, Derived] = {}
    values: dict[str, ValueMap] = {}
    formats: dict[str, str | Names] = {}

    _lists = field_validator("files", "exclude", "optional", mode="before")(_as_list)

    @field_validator("entity")
    @classmethod
    def _known_entity(cls, v: str) -> str:
        try:
            return entity(v).name
        except KeyError:
            raise ValueError(f"unknown entity {v!r} (one of {', '.join(ENTITIES)})") from None

    @model_validator(mode="after")
    def _columns_fit_entity(self) -> Source:
        ent = ENTITIES[self.entity]
        known = set(ent.column_names)
        made: dict[str, str] = {}
        for part in ("columns", "constants", "derived"):
            for col in getattr(self, part):
                if col not in known:
                    raise ValueError(f"{part}.{col}: {self.entity} has no column {col!r}")
                if col in made:
                    raise ValueError(f"{part}.{col}: {col} is already made by {made[col]}")
                made[col] = part
        for part in ("values", "formats"):
            for col in getattr(self, part):
                if col not in made:
                    raise ValueError(f"{part}.{col}: {col} is not mapped, constant or derived")
        for col, fmts in self.formats.items():
            if ent.column(col).dtype not in _FORMAT_DTYPES:
                raise ValueError(f"formats.{col}: {col} is not a date or timestamp column")
            for f in _as_list(fmts):
                try:
                    compile_format(f)
                except ValueError as e:
                    raise ValueError(f"formats.{col}: {e}") from None
        missing = [c for c in ent.required if c not in made]
        if missing:
            raise ValueError(
                f"{self.entity} needs {', '.join(missing)} mapped, constant or derived"
            )
        return self

    def inputs(self) -> list[str]:
        """Every source column the source reads."""
        out: list[str] = []
        for v in self.columns.values():
            out += _as_list(v)
        for d in self.derived.values():
            out += d.inputs()
        return list(dict.fromkeys(out))


class MappingFile(_Strict):
    """A whole mapping file."""

    name: str = Field(min_length=1)
    description: str = ""
    sources: list[Source] = Field(alias="source", min_length=1)


def _template_fields(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]


def _null() -> ir.StringValue:
    return ibis.null(_STR)


def _nonempty(x: ir.StringValue) -> ir.StringValue:
    x = x.strip()
    return ibis.ifelse(x == "", _null(), x)


# ---------------------------------------------------------------------------
# Routes: one source applied to one file
# ---------------------------------------------------------------------------


def _header_key(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").split()).casefold()


class Route:
    """One source of a mapping applied to one input file."""

    def __init__(self, mapping: Mapping, index: int, source: Source, file: Path) -> None:
        self.mapping_name = mapping.name
        self.where = f"{mapping.where}: source.{index}"
        self.source = source
        self.file = Path(file)
        self.entity: str = source.entity
        self.label: str = source.label or f"{self.file.name} → {self.entity} ({mapping.name})"
        self._resolved: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"Route({self.label!r})"

    def source_column(self, contract_column: str) -> str | None:
        """Name the file column a contract column comes from, if exactly one does."""
        src = self.source
        if contract_column in src.columns:
            names = _as_list(src.columns[contract_column])
            found = [self._resolved[n] for n in names if self._resolved.get(n)]
            return found[0] if found else names[0]
        if contract_column in src.derived:
            inputs = src.derived[contract_column].inputs()
            if len(inputs) == 1:
                return self._resolved.get(inputs[0]) or inputs[0]
        return None

    def _resolve(self, header: list[str]) -> dict[str, str | None]:
        """Match every column the source names to a header of the file."""
        by_key = {_header_key(h): h for h in header}
        optional = {_header_key(o) for o in self.source.optional}
        found: dict[str, str | None] = {}
        for name in self.source.inputs():
            hit = name if name in header else by_key.get(_header_key(name))
            found[name] = hit
        for contract, names in self.source.columns.items():
            alts = _as_list(names)
            if any(found[a] for a in alts) or any(_header_key(a) in optional for a in alts):
                continue
            raise self._missing(alts, contract, header)
        for name, hit in found.items():
            renamed = any(name in _as_list(v) for v in self.source.columns.values())
            if hit is None and not renamed and _header_key(name) not in optional:
                raise self._missing([name], None, header)
        self._resolved = {k: v for k, v in found.items() if v}
        return found

    def _missing(self, names: list[str], contract: str | None, header: list[str]) -> MappingError:
        what = " or ".join(repr(n) for n in names)
        role = f" (for {self.entity}.{contract})" if contract else ""
        shown = ", ".join(header[:12]) + (", ..." if len(header) > 12 else "")
        return MappingError(
            f"{self.file}: column {what}{role} named by {self.where} is not in the file "
            f"(it has: {shown}); fix the header or list the column under `optional`"
        )

    def apply(self, raw: ir.Table) -> ir.Table:
        """Map a raw table (VARCHAR columns as in the file, plus ``_line``) to the contract.

        Returns ``_line`` and the contract columns this source makes, all strings,
        empty values as NULL, in contract order.
        """
        header = [c for c in raw.columns if c != LINE]
        found = self._resolve(header)

        def col(name: str) -> ir.StringValue:
            hit = found.get(name)
            if hit is None:
                return _null()
            return _nonempty(raw[hit].cast("string"))

        src = self.source
        ent = ENTITIES[self.entity]
        out: dict[str, ir.Value] = {LINE: raw[LINE]}
        for c in ent.columns:
            if c.name in src.columns:
                expr = ibis.coalesce(*[col(n) for n in _as_list(src.columns[c.name])])
            elif c.name in src.constants:
                expr = _nonempty(ibis.literal(src.constants[c.name], _STR))
            elif c.name in src.derived:
                expr = _derive(src.derived[c.name], col)
            else:
                continue
            if c.name in src.values:
                expr = _value_map(expr, src.values[c.name])
            if c.name in src.formats:
                expr = reformat(expr, _as_list(src.formats[c.name]), c.dtype)
            out[c.name] = expr.cast(_STR)
        return raw.select(**out)


def _value_map(x: ir.StringValue, vm: ValueMap) -> ir.StringValue:
    """Replace values found in the map; others get the default or pass unchanged."""
    low = x.lower()
    branches: list[tuple[ir.BooleanValue, ir.StringValue]] = []
    for k, v in vm.map.items():
        key = k.strip().lower()
        test = x.isnull() if key == "" else low == key
        branches.append((test, _nonempty(ibis.literal(v, _STR))))
    if vm.default is None:
        other = x
    else:
        other = ibis.ifelse(x.isnull(), _null(), _nonempty(ibis.literal(vm.default, _STR)))
    return ibis.cases(*branches, else_=other) if branches else other


def _condition(c: Condition, x: ir.StringValue) -> ir.BooleanValue:
    low = x.lower()
    if c.equals is not None:
        return low == c.equals.strip().lower()
    if c.in_ is not None:
        return low.isin([v.strip().lower() for v in c.in_])
    if c.empty is not None:
        return x.isnull() if c.empty else x.notnull()
    tests = c.startswith or c.contains or []
    op = "startswith" if c.startswith is not None else "contains"
    anyof = [getattr(low, op)(t.lower()) for t in tests]
    result = anyof[0]
    for t in anyof[1:]:
        result = result | t
    return result.fill_null(False)


def _duration(d: Duration, col: Any) -> ir.StringValue:
    if d.start is not None and d.end is not None:
        tz = ibis.dtype("timestamp('UTC')")

        def ts(name: str) -> ir.TimestampValue:
            text = reformat(col(name), d.formats, "timestamp") if d.formats else col(name)
            return text.try_cast(tz)

        secs = ts(d.end).epoch_seconds() - ts(d.start).epoch_seconds()
        return (secs / 60).round(2).cast(_STR)
    if d.hms is not None:
        x = col(d.hms)
        rx = r"^(?:(\d+):)?(\d{1,2}):(\d{2})$"
        hours = ibis.ifelse(x.re_extract(rx, 1) == "", "0", x.re_extract(rx, 1))
        mins = (
            hours.cast("float64") * 60
            + x.re_extract(rx, 2).cast("float64")
            + x.re_extract(rx, 3).cast("float64") / 60
        )
        return ibis.ifelse(x.re_search(rx), mins.round(2).cast(_STR), x)
    name, per_minute = (d.seconds, 60) if d.seconds is not None else (d.milliseconds, 60_000)
    x = col(name)
    number = x.try_cast("float64")
    return ibis.ifelse(number.isnull(), x, (number / per_minute).round(2).cast(_STR))


def _derive(d: Derived, col: Any) -> ir.StringValue:
    """Compile one derived field to an Ibis string expression."""
    expr: ir.StringValue
    if d.template is not None:
        text: ir.StringValue = ibis.literal("", _STR)
        for literal, field, _, _ in string.Formatter().parse(d.template):
            text = text + literal
            if field is not None:
                text = text + col(field).fill_null("")
        expr = _nonempty(text)
    elif d.coalesce is not None:
        expr = ibis.coalesce(*[col(c) for c in d.coalesce])
    elif d.when is not None:

        def pick(value: str | None, column: str | None) -> ir.StringValue:
            return col(column) if column else _nonempty(ibis.literal(value or "", _STR))

        expr = ibis.cases(
            *[
                (_condition(c, col(c.column or d.column)), pick(c.value, c.value_from))
                for c in d.when
            ],
            else_=pick(d.else_, d.else_from),
        )
    elif d.duration_minutes is not None:
        expr = _duration(d.duration_minutes, col)
    elif d.prefix_id is not None:
        p = d.prefix_id
        expr = ibis.cases(
            *[
                (ibis.or_(*[col(c).startswith(x) for x in p.prefix]).fill_null(False), col(c))
                for c in p.column
            ],
            else_=_null(),
        )
    else:
        assert d.first_item is not None
        f = d.first_item
        expr = _nonempty(col(f.column).split(f.separator)[0])
    if d.as_key:
        expr = _as_key(expr)
    return expr


def _as_key(x: ir.StringValue) -> ir.StringValue:
    """Normalise a display name to an id: lower case, note in brackets dropped, dashes."""
    key = x.lower().re_replace(r"\s*\([^)]*\)\s*$", "")
    key = key.re_replace(r"[^\p{L}\p{N}@.]+", "-").re_replace(r"^-+|-+$", "")
    return _nonempty(key)


# ---------------------------------------------------------------------------
# Mappings
# ---------------------------------------------------------------------------


def _matches(pattern: str, file: Path) -> bool:
    name = file.name.casefold()
    target = name if "." in pattern else file.stem.casefold()
    return fnmatch.fnmatchcase(target, pattern.casefold())


class Mapping:
    """A loaded, validated mapping: a name and its sources."""

    def __init__(self, spec: MappingFile, where: str) -> None:
        self.spec = spec
        self.name: str = spec.name
        self.description = spec.description
        self.where = where  # how errors name the mapping: a path or "preset NAME"

    def __repr__(self) -> str:
        return f"Mapping({self.name!r})"

    @property
    def sources(self) -> list[Source]:
        """The sources, in file order."""
        return list(self.spec.sources)

    def route(self, file: Path) -> list[Route]:
        """Return the routes of the sources matching ``file``; [] when none does."""
        file = Path(file)
        return [
            Route(self, i, s, file)
            for i, s in enumerate(self.spec.sources)
            if any(_matches(p, file) for p in s.files)
            and not any(_matches(p, file) for p in s.exclude)
        ]


def _parse(text: str, where: str) -> Mapping:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise MappingError(f"{where}: not valid TOML: {e}") from None
    try:
        spec = MappingFile.model_validate(data)
    except ValidationError as e:
        raise MappingError(format_validation_error(e, where)) from None
    return Mapping(spec, where)


def load_mapping(path: Path) -> Mapping:
    """Read and validate a mapping file; errors name the file and the key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MappingError(f"{path}: mapping file not found") from None
    except UnicodeDecodeError:
        raise MappingError(f"{path}: not UTF-8 text") from None
    except OSError as e:
        raise MappingError(f"{path}: cannot read mapping file: {e.strerror}") from None
    return _parse(text, str(path))


def _presets() -> Any:
    return resources.files("wholejob").joinpath("data", "presets")


def preset_names() -> list[str]:
    """Names of the packaged presets."""
    return sorted(
        p.name.removesuffix(".toml") for p in _presets().iterdir() if p.name.endswith(".toml")
    )


def load_preset(name: str) -> Mapping:
    """Load a packaged preset by name ("salesforce", "hubspot")."""
    names = preset_names()
    if name not in names:
        raise MappingError(f"unknown preset {name!r} (presets: {', '.join(names)})")
    text = _presets().joinpath(f"{name}.toml").read_text(encoding="utf-8")
    return _parse(text, f"preset {name}")

"""strptime-style date formats compiled to engine expressions that rewrite dates as ISO text.

A mapping file names the format of a date or timestamp column the way Python's
``strptime`` does (``%m/%d/%Y``). Parsing with the engine's own ``strptime`` would
fail the whole query on one bad value, and engines disagree on directives, so a
format is compiled to an anchored regular expression instead: values that match
are rebuilt as ISO 8601 text from the captured parts, values that do not pass
unchanged so validation rejects them with a reason. Supported directives: %Y %y
%m %d %b %B %H %I %M %S %f %p %z and %%; a two-digit year %y is 20yy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

__all__ = ["DateFormat", "compile_format", "reformat"]


_DIRECTIVES: dict[str, tuple[str, str]] = {
    "Y": ("Y", r"(\d{4})"),
    "y": ("y", r"(\d{2})"),
    "m": ("m", r"(\d{1,2})"),
    "d": ("d", r"(\d{1,2})"),
    "b": ("b", r"([A-Za-z]{3})"),
    "B": ("b", r"([A-Za-z]{3,9})"),
    "H": ("H", r"(\d{1,2})"),
    "I": ("I", r"(\d{1,2})"),
    "M": ("M", r"(\d{2})"),
    "S": ("S", r"(\d{2})"),
    "f": ("f", r"(\d{1,9})"),
    "p": ("p", r"([AaPp]\.?[Mm]\.?)"),
    "z": ("z", r"(Z|[+-]\d{2}:?\d{2})"),
}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


@dataclass(frozen=True)
class DateFormat:
    """A compiled format: an anchored pattern and the capture group of each part."""

    pattern: str
    groups: dict[str, int]  # directive -> capture group (1-based)


def compile_format(fmt: str) -> DateFormat:
    """Translate a strptime-style format into an anchored regular expression."""
    parts: list[str] = ["^"]
    groups: dict[str, int] = {}
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%":
            if i + 1 >= len(fmt):
                raise ValueError(f"format {fmt!r} ends with a lone %")
            d = fmt[i + 1]
            i += 2
            if d == "%":
                parts.append("%")
                continue
            if d not in _DIRECTIVES:
                raise ValueError(
                    f"format {fmt!r}: %{d} is not supported (use %{', %'.join(_DIRECTIVES)})"
                )
            key, rx = _DIRECTIVES[d]
            if key in groups:
                raise ValueError(f"format {fmt!r} repeats %{d}")
            groups[key] = len(groups) + 1
            parts.append(rx)
            continue
        parts.append(r"\s+" if ch.isspace() else re.escape(ch))
        i += 1
    if not ({"Y", "y"} & groups.keys() and "d" in groups and {"m", "b"} & groups.keys()):
        raise ValueError(f"format {fmt!r} needs a year, a month and a day")
    if "I" in groups and "p" not in groups:
        raise ValueError(f"format {fmt!r} uses %I without %p")
    return DateFormat("".join(parts) + "$", groups)


def _iso_from(value: ir.StringValue, fmt: DateFormat, dtype: str) -> ir.StringValue:
    """Build the ISO 8601 text of ``value`` parsed with ``fmt`` (assumed to match)."""

    def g(key: str) -> ir.StringValue:
        return value.re_extract(fmt.pattern, fmt.groups[key])

    def two(x: ir.StringValue) -> ir.StringValue:
        return x.lpad(2, "0")

    gs = fmt.groups
    year = g("Y") if "Y" in gs else "20" + g("y")
    if "m" in gs:
        month = two(g("m"))
    else:
        abbrev = g("b").substr(0, 3).lower()
        month = ibis.cases(*[(abbrev == m, f"{n:02d}") for n, m in enumerate(_MONTHS, 1)])
    out = year + "-" + month + "-" + two(g("d"))
    if dtype == "date":
        return out
    if "H" in gs:
        hour = two(g("H"))
    elif "I" in gs:
        h12 = g("I").cast("int64") % 12
        pm = g("p").lower().startswith("p")
        hour = two(ibis.ifelse(pm, h12 + 12, h12).cast("string"))
    else:
        hour = ibis.literal("00")
    minute = g("M") if "M" in gs else ibis.literal("00")
    second = g("S") if "S" in gs else ibis.literal("00")
    out = out + "T" + hour + ":" + minute + ":" + second
    if "f" in gs:
        out = out + "." + g("f")
    if "z" in gs:
        z = g("z")
        offset = ibis.ifelse(z == "Z", "+00:00", z.re_replace(r"^([+-]\d{2}):?(\d{2})$", r"\1:\2"))
        out = out + offset
    return out


def reformat(value: ir.StringValue, fmts: list[str], dtype: str) -> ir.StringValue:
    """Rewrite values matching one of ``fmts`` as ISO text; others pass unchanged."""
    compiled = [compile_format(f) for f in fmts]
    return ibis.cases(
        *[(value.re_search(c.pattern), _iso_from(value, c, dtype)) for c in compiled],
        else_=value,
    )

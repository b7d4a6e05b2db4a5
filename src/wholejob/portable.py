"""Ibis expressions that give the same answer on every engine.

Ibis compiles a few operations to SQL whose meaning differs between engines.
The analysis uses these helpers instead, so DuckDB and Spark (and other
engines) agree; each one says what it replaces and why.
"""

from __future__ import annotations

import ibis.expr.types as ir

__all__ = ["WHITESPACE", "epoch_seconds", "strip"]

# The characters ``str.strip`` and DuckDB's ``trim`` remove, as a regex class:
# space, tab, newline, carriage return, vertical tab, form feed. Written with
# regex escapes (understood by RE2 and Java alike), not as raw characters.
WHITESPACE = r"[ \t\n\r\x0B\x0C]"
_STRIP = rf"\A{WHITESPACE}+|{WHITESPACE}+\z"


def strip(s: ir.StringValue) -> ir.StringValue:
    """Remove leading and trailing whitespace, like ``StringValue.strip()``.

    Not ``strip()``: Ibis renders it as ``TRIM(' \\t\\n\\r\\v\\f' FROM s)``, and
    Spark reads ``\\v`` and ``\\f`` in a SQL string as the letters ``v`` and
    ``f``, so on Spark it also strips those letters ("follow-up" becomes
    "ollow-up"). ``\\A``/``\\z`` anchor at the ends of the whole string in both
    RE2 (DuckDB) and Java (Spark) regexes, where ``$`` would differ before a
    final newline.
    """
    return s.re_replace(_STRIP, "")


def epoch_seconds(ts: ir.TimestampValue) -> ir.FloatingValue:
    """Seconds since 1970-01-01 of a (time-zone-less) timestamp, as float64.

    ``epoch_seconds()`` alone is a DOUBLE on DuckDB but a BIGINT on Spark
    (``unix_timestamp``), and Spark reads a literal such as ``86400.0`` as a
    DECIMAL: ``bigint / 86400.0`` is then decimal division rounded to a few
    digits (11.2690972 days instead of 11.269097222...). Casting first keeps
    every later division in double precision on both engines.

    Spark interprets a timestamp without time zone in the session time zone
    here, so a Spark session must run in UTC (``spark.sql.session.timeZone``)
    for differences across a daylight-saving change to match DuckDB's. Spark
    also drops fractions of a second, which wholejob's data does not carry.
    """
    out: ir.FloatingValue = ts.epoch_seconds().cast("float64")
    return out

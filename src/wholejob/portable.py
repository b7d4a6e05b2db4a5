"""Ibis expressions that give the same answer on every engine.

Ibis compiles a few operations to SQL whose meaning differs between engines.
The analysis uses these helpers instead, so DuckDB and Spark (and other
engines) agree; each one says what it replaces and why.
"""

from __future__ import annotations

import ibis.expr.types as ir

__all__ = ["WHITESPACE", "strip"]

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

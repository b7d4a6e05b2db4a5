"""Ibis expressions that give the same answer on every engine.

Ibis compiles a few operations to SQL whose meaning differs between engines.
The analysis uses these helpers instead, so DuckDB and Spark (and other
engines) agree; each one says what it replaces and why. (Where Ibis's Spark SQL
is simply wrong, as for ``strip()``, the Spark engine's compiler is fixed
instead: :func:`wholejob.engine._spark_compiler`.)
"""

from __future__ import annotations

import ibis.expr.types as ir

__all__ = ["epoch_seconds"]


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

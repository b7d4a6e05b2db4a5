"""How a measure is declared: its engine expression and the shapes of its result.

Every measure compiles to one Ibis table with one row per rep that has evidence:
``rep_id``, ``numerator``, ``denominator``, ``value`` and ``ids`` (the record ids
behind the figure, an array). The helpers here build that table from a
record-level table (one row per opportunity, activity, ...) for the usual
shapes: a share, a mean, a median, a sum and a difference of two rates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from wholejob.measures.base import Inputs

__all__ = [
    "MeasureSpec",
    "finish",
    "lift_of_rates",
    "mean_of",
    "median_of",
    "share_of",
    "sum_of",
]

Compute = Callable[[Inputs], ibis.Table]


@dataclass(frozen=True)
class MeasureSpec:
    """A measure's implementation and what it needs.

    ``table`` names the table its record ids come from. ``needs_activities``
    makes the value unknown for a rep with no activities in the period (counting
    zero contacts or zero touches there would mistake missing data for neglect).
    ``zero_when_absent`` gives 0 to a rep with no evidence rows, provided the
    workspace has opportunities at all (a rep with no referral deals created
    none; a workspace with no deals says nothing). ``target`` is the value the
    job is aiming for, where there is a natural one.
    """

    measure_id: str
    practice: str
    unit: str
    table: str
    compute: Compute
    family: str
    needs_activities: bool = False
    zero_when_absent: bool = False
    target: float | None = None


def finish(
    t: ibis.Table,
    *,
    numerator: ir.Value | None,
    denominator: ir.Value | None,
    value: ir.Value,
    ids: ir.Value,
) -> ibis.Table:
    """Select the standard result columns with fixed types, so families can union."""
    null = ibis.null("float64")
    return t.select(
        rep_id=t.rep_id.cast("string"),
        numerator=(numerator if numerator is not None else null).cast("float64"),
        denominator=(denominator if denominator is not None else null).cast("float64"),
        value=value.cast("float64"),
        ids=ids.cast("array<string>"),
    )


def _div(a: ir.NumericValue, b: ir.NumericValue) -> ir.NumericValue:
    """Divide, giving NULL (unknown) when the denominator is zero."""
    out: ir.NumericValue = a.cast("float64") / b.cast("float64").nullif(0.0)
    return out


def share_of(records: ibis.Table, rid: str, num: ir.BooleanValue) -> ibis.Table:
    """Share of records (per rep) where ``num`` holds; ids are those records."""
    r = records.mutate(_num=num.fill_null(False))
    g = r.group_by("rep_id").aggregate(
        _n=r._num.cast("int64").sum(), _d=r.count(), _ids=r[rid].collect(where=r._num)
    )
    return finish(g, numerator=g._n, denominator=g._d, value=_div(g._n, g._d), ids=g._ids)


def mean_of(records: ibis.Table, rid: str, x: ir.NumericValue) -> ibis.Table:
    """Mean of ``x`` over records with a known ``x``; numerator is the sum."""
    r = records.mutate(_x=x.cast("float64")).filter(lambda t: t._x.notnull())
    g = r.group_by("rep_id").aggregate(_s=r._x.sum(), _d=r.count(), _ids=r[rid].collect())
    return finish(g, numerator=g._s, denominator=g._d, value=_div(g._s, g._d), ids=g._ids)


def median_of(records: ibis.Table, rid: str, x: ir.NumericValue) -> ibis.Table:
    """Median of ``x`` over records with a known ``x``; denominator is their count."""
    r = records.mutate(_x=x.cast("float64")).filter(lambda t: t._x.notnull())
    g = r.group_by("rep_id").aggregate(_m=r._x.median(), _d=r.count(), _ids=r[rid].collect())
    return finish(g, numerator=None, denominator=g._d, value=g._m, ids=g._ids)


def sum_of(records: ibis.Table, rid: str, x: ir.NumericValue, per: float = 1.0) -> ibis.Table:
    """Sum of ``x`` divided by ``per`` (e.g. weeks); numerator is the sum."""
    r = records.mutate(_x=x.cast("float64").fill_null(0.0))
    g = r.group_by("rep_id").aggregate(_s=r._x.sum(), _ids=r[rid].collect())
    return finish(
        g, numerator=g._s, denominator=ibis.literal(per) if per != 1.0 else None,
        value=g._s / per, ids=g._ids,
    )


def lift_of_rates(
    records: ibis.Table, rid: str, group: ir.BooleanValue, hit: ir.BooleanValue
) -> ibis.Table:
    """Rate of ``hit`` inside ``group`` minus the rate outside it, per rep.

    Records whose ``group`` is unknown (NULL) count on neither side. The value is
    unknown unless both sides have records. Numerator and denominator are the
    hits and records inside the group; ids are the records inside the group.
    """
    r = records.mutate(_g=group, _h=hit.fill_null(False).cast("int64")).filter(
        lambda t: t._g.notnull()
    )
    g = r.group_by("rep_id").aggregate(
        _hi=r._h.sum(where=r._g), _ni=r._g.cast("int64").sum(),
        _ho=r._h.sum(where=~r._g), _no=(~r._g).cast("int64").sum(),
        _ids=r[rid].collect(where=r._g),
    )
    inside = _div(g._hi.fill_null(0), g._ni)
    outside = _div(g._ho.fill_null(0), g._no)
    return finish(g, numerator=g._hi.fill_null(0), denominator=g._ni,
                  value=inside - outside, ids=g._ids)

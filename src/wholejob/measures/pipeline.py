"""Pipeline creation measures: where new opportunities come from and how much.

Prospecting, referrals, social selling, land and expand, marketing alignment
and new logos are judged by the opportunities they produce. All of these read
opportunities only (plus first touches for marketing leads), so they are known
in a workspace without activities.
"""

from __future__ import annotations

import ibis

from wholejob.measures.base import Inputs
from wholejob.measures.spec import MeasureSpec, finish, lift_of_rates, median_of, share_of, sum_of
from wholejob.portable import epoch_seconds

__all__ = ["COVERAGE_TARGET", "SPECS"]

# Pipeline needed per period = quota for the period x this coverage: the usual
# 3x rule of thumb (a one-in-three win rate turns it back into quota).
COVERAGE_TARGET = 3.0
DAYS_PER_YEAR = 365.0


def _created(inp: Inputs, source: str) -> ibis.Table:
    o = inp.opps
    return o.filter(o.created_in_period & (o.source == source))


def self_sourced_pipeline(inp: Inputs) -> ibis.Table:
    """Outbound-sourced pipeline $ created per week of the period."""
    return sum_of(_created(inp, "outbound"), "opportunity_id", _created(inp, "outbound").amount,
                  per=inp.period.n_weeks)


def pipeline_vs_needed(inp: Inputs) -> ibis.Table:
    """Pipeline $ created in the period / (quota for the period x coverage target)."""
    o = inp.opps
    made = o.filter(o.created_in_period)
    g = made.group_by("rep_id").aggregate(_s=made.amount.sum(), _ids=made.opportunity_id.collect())
    reps = inp.ws.table("reps")
    share_of_year = inp.period.days / DAYS_PER_YEAR
    r = reps.select(rep_id=reps.rep_id, _need=reps.quota * share_of_year * COVERAGE_TARGET)
    j = r.left_join(g, r.rep_id == g.rep_id).select(
        "rep_id", "_need", _s=g._s.fill_null(0.0),
        _ids=g._ids.fill_null(ibis.literal([], type="array<string>")),
    )
    return finish(j, numerator=j._s, denominator=j._need,
                  value=j._s / j._need.nullif(0.0), ids=j._ids)


def referral_pipeline(inp: Inputs) -> ibis.Table:
    """Referral-sourced pipeline $ created in the period."""
    t = _created(inp, "referral")
    return sum_of(t, "opportunity_id", t.amount)


def referral_win_rate_lift(inp: Inputs) -> ibis.Table:
    """Win rate of referral deals minus that of other deals, closed in the period."""
    o = inp.opps.filter(inp.opps.closed_in_period)
    return lift_of_rates(o, "opportunity_id", o.source.fill_null("") == "referral",
                         o.status == "won")


def social_sourced_pipeline(inp: Inputs) -> ibis.Table:
    """Social-sourced pipeline $ created in the period."""
    t = _created(inp, "social")
    return sum_of(t, "opportunity_id", t.amount)


def expansion_from_recent_lands(inp: Inputs) -> ibis.Table:
    """Expansion pipeline $ created in the period at accounts landed <= 365 days before."""
    o = inp.opps
    age = o.created_on.delta(o.customer_since, unit="day")
    t = o.filter(o.created_in_period & (o.kind == "expansion") & age.between(0, 365))
    return sum_of(t, "opportunity_id", t.amount)


def time_to_first_expansion(inp: Inputs) -> ibis.Table:
    """Median days from customer_since to the account's first won expansion.

    Counted for accounts whose first won expansion closed in the period, and
    credited to the owner of that expansion.
    """
    o = inp.opps
    won = o.filter((o.kind == "expansion") & (o.status == "won") & o.customer_since.notnull()
                   & o.close_date.notnull())
    first = won.mutate(
        _rn=ibis.row_number().over(group_by="account_id", order_by=["close_date",
                                                                    "opportunity_id"])
    )
    p = inp.period
    first = first.filter((first._rn == 0) & first.close_date.between(p.since, p.until))
    return median_of(first, "opportunity_id",
                     first.close_date.delta(first.customer_since, unit="day"))


def marketing_lead_conversion(inp: Inputs) -> ibis.Table:
    """Share of marketing-sourced deals created in the period that got past the first stage."""
    t = _created(inp, "marketing")
    advanced = (t.status == "won") | t.h_won.fill_null(False) | (t.reached_rank > 0)
    return share_of(t, "opportunity_id", advanced)


def hours_to_first_touch(inp: Inputs) -> ibis.Table:
    """Median hours from creation of marketing-sourced deals to the rep's first touch.

    The clock starts at the start of the creation day (``created_on`` has no
    time). A deal never touched by the end of the period counts with the hours
    until then: its true delay is at least that long, which keeps the median
    honest instead of dropping the worst cases.
    """
    t = _created(inp, "marketing")
    a = inp.acts
    touches = a.filter(a.opportunity_id.notnull()).select(
        _t_opp=a.opportunity_id, _t_rep=a.rep_id, _t_at=a.started_at
    )
    start = t.created_on.cast("timestamp")
    j = t.mutate(_start=start).left_join(
        touches,
        [t.opportunity_id == touches._t_opp, t.rep_id == touches._t_rep],
    )
    j = j.filter(j._t_at.isnull() | (j._t_at >= j._start))
    first = j.group_by("rep_id", "opportunity_id", "_start").aggregate(_first=j._t_at.min())
    end = ibis.timestamp(inp.period.until.isoformat() + " 23:59:59")
    hours = (epoch_seconds(first._first.fill_null(end)) - epoch_seconds(first._start)) / 3600.0
    return median_of(first, "opportunity_id", hours)


def new_customers_won(inp: Inputs) -> ibis.Table:
    """Won $ in the period at accounts that were not yet customers (or of kind new_logo)."""
    o = inp.opps
    new = (o.kind == "new_logo").fill_null(False) | o.customer_since.isnull() | (
        o.customer_since >= o.close_date
    ).fill_null(False)
    t = o.filter(o.closed_in_period & (o.status == "won") & new)
    return sum_of(t, "opportunity_id", t.amount)


_O = "opportunities"
SPECS: list[MeasureSpec] = [
    MeasureSpec("self_sourced_pipeline", "prospecting", "per_week", _O, self_sourced_pipeline,
                "pipeline", zero_when_absent=True),
    MeasureSpec("pipeline_vs_needed", "prospecting", "ratio", _O, pipeline_vs_needed,
                "pipeline", target=1.0),
    MeasureSpec("referral_pipeline", "referrals", "currency", _O, referral_pipeline,
                "pipeline", zero_when_absent=True),
    MeasureSpec("referral_win_rate_lift", "referrals", "ratio", _O, referral_win_rate_lift,
                "pipeline"),
    MeasureSpec("social_sourced_pipeline", "social_selling", "currency", _O,
                social_sourced_pipeline, "pipeline", zero_when_absent=True),
    MeasureSpec("expansion_from_recent_lands", "land_and_expand", "currency", _O,
                expansion_from_recent_lands, "pipeline", zero_when_absent=True),
    MeasureSpec("time_to_first_expansion", "land_and_expand", "days", _O,
                time_to_first_expansion, "pipeline"),
    MeasureSpec("marketing_lead_conversion", "marketing_alignment", "ratio", _O,
                marketing_lead_conversion, "pipeline"),
    MeasureSpec("hours_to_first_touch", "marketing_alignment", "hours", _O,
                hours_to_first_touch, "pipeline", needs_activities=True),
    MeasureSpec("new_customers_won", "new_logos", "currency", _O, new_customers_won,
                "pipeline", zero_when_absent=True),
]

"""Deal measures: how opportunities move, win and close, from opportunities and history.

Qualification, proposals, closing, buying process, sales process, ICP focus and
the renewal side of account growth. "Closed in the period" means status won or
lost with a close date inside the period; "open" means open at the end of the
period (see :mod:`wholejob.measures.base`).
"""

from __future__ import annotations

import ibis

from wholejob.measures.base import Inputs
from wholejob.measures.spec import (
    MeasureSpec,
    finish,
    lift_of_rates,
    mean_of,
    median_of,
    share_of,
)
from wholejob.portable import epoch_seconds

__all__ = ["SPECS", "STALL_FACTOR"]

# A deal stalls when it has sat in its stage for longer than this multiple of
# the team's median time in that stage.
STALL_FACTOR = 2.0
DAYS_PER_YEAR = 365.0


def _closed(inp: Inputs) -> ibis.Table:
    return inp.opps.filter(inp.opps.closed_in_period)


def _open(inp: Inputs) -> ibis.Table:
    return inp.opps.filter(inp.opps.open_at_end)


def win_rate(inp: Inputs) -> ibis.Table:
    """Won / (won + lost) among opportunities closed in the period."""
    c = _closed(inp)
    return share_of(c, "opportunity_id", c.status == "won")


def late_stage_loss_share(inp: Inputs) -> ibis.Table:
    """Lost deals whose highest open stage was proposal or later / all lost (with history)."""
    c = _closed(inp)
    lost = c.filter((c.status == "lost") & c.h_max_rank.notnull())
    return share_of(lost, "opportunity_id", lost.h_max_rank >= inp.ladder.proposal)


def days_on_lost_deals(inp: Inputs) -> ibis.Table:
    """Mean days from creation to close of deals lost in the period."""
    c = _closed(inp)
    lost = c.filter(c.status == "lost")
    return mean_of(lost, "opportunity_id", lost.close_date.delta(lost.created_on, unit="day"))


def qualification_fields_complete(inp: Inputs) -> ibis.Table:
    """Open deals past qualification with amount, close date and next step filled."""
    o = _open(inp)
    past = o.filter(o.cur_rank > inp.ladder.qualification)
    filled = (past.amount > 0) & past.close_date.notnull() & (
        past.next_step.strip().length() > 0
    )
    return share_of(past, "opportunity_id", filled)


def proposal_win_rate(inp: Inputs) -> ibis.Table:
    """Won / closed among deals closed in the period that reached proposal."""
    c = _closed(inp)
    reached = c.filter(c.reached_rank >= inp.ladder.proposal)
    return share_of(reached, "opportunity_id", reached.status == "won")


def business_case_share(inp: Inputs) -> ibis.Table:
    """Share of deals that first reached proposal in the period with a business case.

    Deals whose business_case is not recorded count on neither side.
    """
    o = inp.opps
    p = inp.period
    day = o.h_proposal_at.date()
    t = o.filter(day.between(p.since, p.until).fill_null(False) & o.business_case.notnull())
    return share_of(t, "opportunity_id", t.business_case)


def discount_depth(inp: Inputs) -> ibis.Table:
    """Mean of 1 - won amount / largest amount in history, over deals won in the period."""
    c = _closed(inp)
    w = c.filter((c.status == "won") & (c.h_max_amount > 0))
    depth = ibis.greatest(1.0 - w.amount / w.h_max_amount, 0.0)
    return mean_of(w, "opportunity_id", depth)


def late_stage_win_rate(inp: Inputs) -> ibis.Table:
    """Won / closed among deals closed in the period that reached negotiation."""
    c = _closed(inp)
    late = c.filter((c.reached_rank >= inp.ladder.negotiation) | c.h_won.fill_null(False))
    return share_of(late, "opportunity_id", late.status == "won")


def cycle_time(inp: Inputs) -> ibis.Table:
    """Median days from creation to close of deals won in the period."""
    c = _closed(inp)
    w = c.filter(c.status == "won")
    return median_of(w, "opportunity_id", w.close_date.delta(w.created_on, unit="day"))


def bookings_vs_quota(inp: Inputs) -> ibis.Table:
    """Won $ in the period / (annual quota x days in period / 365)."""
    c = _closed(inp)
    w = c.filter(c.status == "won")
    g = w.group_by("rep_id").aggregate(_s=w.amount.sum(), _ids=w.opportunity_id.collect())
    reps = inp.ws.table("reps")
    r = reps.select(rep_id=reps.rep_id,
                    _q=reps.quota * (inp.period.days / DAYS_PER_YEAR))
    j = r.left_join(g, r.rep_id == g.rep_id).select(
        "rep_id", "_q", _s=g._s.fill_null(0.0),
        _ids=g._ids.fill_null(ibis.literal([], type="array<string>")),
    )
    return finish(j, numerator=j._s, denominator=j._q, value=j._s / j._q.nullif(0.0),
                  ids=j._ids)


def _stage_stays(inp: Inputs) -> ibis.Table:
    """Completed stays in open stages: days from entering a stage to entering the next."""
    h = inp.hist
    done = h.filter(h.rank.notnull() & h.next_entered_at.notnull())
    return done.mutate(
        days=(epoch_seconds(done.next_entered_at) - epoch_seconds(done.entered_at)) / 86400.0
    )


def stage_velocity(inp: Inputs) -> ibis.Table:
    """Team median days per stage stay / the rep's median, over stays ended in the period."""
    s = _stage_stays(inp)
    p = inp.period
    s = s.filter(s.next_entered_at.date().between(p.since, p.until))
    team = s.aggregate(_team=s.days.median())
    g = s.group_by("rep_id").aggregate(
        _rep=s.days.median(), _ids=s.opportunity_id.collect(distinct=True)
    )
    j = g.cross_join(team)
    return finish(j, numerator=j._team, denominator=j._rep,
                  value=j._team / j._rep.nullif(0.0), ids=j._ids)


def stalled_deals(inp: Inputs) -> ibis.Table:
    """Share of open deals in their stage longer than twice the team median for it."""
    s = _stage_stays(inp)
    med = s.group_by(_m_stage=s.stage).aggregate(_med=s.days.median())
    o = _open(inp).filter(lambda t: t.cur_rank.notnull() & t.h_last_entered.notnull())
    end = ibis.timestamp(inp.period.until.isoformat() + " 23:59:59")
    o = o.left_join(med, o.stage == med._m_stage)
    in_stage = (epoch_seconds(end) - epoch_seconds(o.h_last_entered)) / 86400.0
    return share_of(o, "opportunity_id", in_stage > STALL_FACTOR * o._med)


def close_dates_pushed(inp: Inputs) -> ibis.Table:
    """Mean number of close-date moves later per deal closed in the period (with history)."""
    c = _closed(inp)
    t = c.filter(c.h_close_known > 0)
    return mean_of(t, "opportunity_id", t.h_pushes)


def next_step_coverage(inp: Inputs) -> ibis.Table:
    """Share of open deals with a next step dated on or after the period's end."""
    o = _open(inp)
    ok = (o.next_step.strip().length() > 0) & (o.next_step_on >= inp.period.until)
    return share_of(o, "opportunity_id", ok)


def overdue_close_dates(inp: Inputs) -> ibis.Table:
    """Share of open deals whose close date is before the period's end."""
    o = _open(inp)
    return share_of(o, "opportunity_id", o.close_date < inp.period.until)


def skipped_stages(inp: Inputs) -> ibis.Table:
    """Share of deals closed in the period whose history skips an open stage.

    From the first open stage entered up to the highest reached (the last open
    stage for a win), every open stage should appear in the history.
    """
    c = _closed(inp)
    t = c.filter(c.h_min_rank.notnull())
    last_open = len(inp.ladder.open_rank) - 1
    top = ibis.cases((t.status == "won", ibis.literal(last_open)), else_=t.h_max_rank)
    skipped = t.h_distinct_ranks < (top - t.h_min_rank + 1)
    return share_of(t, "opportunity_id", skipped)


def icp_pipeline_share(inp: Inputs) -> ibis.Table:
    """Open pipeline $ at ICP-fit accounts / all open pipeline $ (fit known)."""
    o = _open(inp)
    o = o.filter(o.icp_fit.notnull())
    g = o.group_by("rep_id").aggregate(
        _n=o.amount.sum(where=o.icp_fit), _d=o.amount.sum(),
        _ids=o.opportunity_id.collect(where=o.icp_fit),
    )
    n = g._n.fill_null(0.0)
    return finish(g, numerator=n, denominator=g._d, value=n / g._d.nullif(0.0), ids=g._ids)


def icp_win_rate_lift(inp: Inputs) -> ibis.Table:
    """Win rate at ICP-fit accounts minus win rate elsewhere, deals closed in the period."""
    c = _closed(inp)
    return lift_of_rates(c, "opportunity_id", c.icp_fit, c.status == "won")


def icp_deal_size_ratio(inp: Inputs) -> ibis.Table:
    """Median won $ at ICP-fit accounts / median won $ elsewhere, won in the period."""
    c = _closed(inp)
    w = c.filter((c.status == "won") & c.icp_fit.notnull())
    # Filter by masking, not ``median(where=...)``: Spark compiles a filtered
    # median to percentile(x, IF(cond, 0.5, NULL)), which it rejects (the
    # percentage must be a constant).
    none = ibis.null("float64")
    g = w.group_by("rep_id").aggregate(
        _a=ibis.ifelse(w.icp_fit, w.amount, none).median(),
        _b=ibis.ifelse(~w.icp_fit, w.amount, none).median(),
        _ids=w.opportunity_id.collect(where=w.icp_fit),
    )
    return finish(g, numerator=g._a, denominator=g._b, value=g._a / g._b.nullif(0.0),
                  ids=g._ids)


def renewals_won(inp: Inputs) -> ibis.Table:
    """Won / closed among renewals closed in the period."""
    c = _closed(inp)
    r = c.filter(c.kind == "renewal")
    return share_of(r, "opportunity_id", r.status == "won")


def gross_retention(inp: Inputs) -> ibis.Table:
    """Won renewal $ / renewal $ due (close date) in the period, whatever their status."""
    o = inp.opps
    p = inp.period
    due = o.filter((o.kind == "renewal") & o.close_date.between(p.since, p.until))
    won = due.status == "won"
    g = due.group_by("rep_id").aggregate(
        _n=due.amount.sum(where=won), _d=due.amount.sum(),
        _ids=due.opportunity_id.collect(where=won),
    )
    n = g._n.fill_null(0.0)
    return finish(g, numerator=n, denominator=g._d, value=n / g._d.nullif(0.0), ids=g._ids)


_O = "opportunities"
SPECS: list[MeasureSpec] = [
    MeasureSpec("icp_pipeline_share", "icp_focus", "ratio", _O, icp_pipeline_share, "deals"),
    MeasureSpec("icp_win_rate_lift", "icp_focus", "ratio", _O, icp_win_rate_lift, "deals"),
    MeasureSpec("icp_deal_size_ratio", "icp_focus", "ratio", _O, icp_deal_size_ratio, "deals"),
    MeasureSpec("late_stage_loss_share", "qualification", "ratio", _O, late_stage_loss_share,
                "deals"),
    MeasureSpec("win_rate", "qualification", "ratio", _O, win_rate, "deals"),
    MeasureSpec("days_on_lost_deals", "qualification", "days", _O, days_on_lost_deals, "deals"),
    MeasureSpec("qualification_fields_complete", "qualification", "ratio", _O,
                qualification_fields_complete, "deals", target=1.0),
    MeasureSpec("stage_velocity", "buying_process", "ratio", _O, stage_velocity, "deals"),
    MeasureSpec("stalled_deals", "buying_process", "ratio", _O, stalled_deals, "deals"),
    MeasureSpec("close_dates_pushed", "buying_process", "count", _O, close_dates_pushed,
                "deals"),
    MeasureSpec("next_step_coverage", "sales_process", "ratio", _O, next_step_coverage,
                "deals", target=1.0),
    MeasureSpec("overdue_close_dates", "sales_process", "ratio", _O, overdue_close_dates,
                "deals", target=0.0),
    MeasureSpec("skipped_stages", "sales_process", "ratio", _O, skipped_stages, "deals"),
    MeasureSpec("proposal_win_rate", "proposals", "ratio", _O, proposal_win_rate, "deals"),
    MeasureSpec("business_case_share", "proposals", "ratio", _O, business_case_share, "deals",
                target=1.0),
    MeasureSpec("discount_depth", "proposals", "ratio", _O, discount_depth, "deals"),
    MeasureSpec("late_stage_win_rate", "closing", "ratio", _O, late_stage_win_rate, "deals"),
    MeasureSpec("cycle_time", "closing", "days", _O, cycle_time, "deals"),
    MeasureSpec("bookings_vs_quota", "closing", "ratio", _O, bookings_vs_quota, "deals",
                target=1.0),
    MeasureSpec("renewals_won", "account_growth", "ratio", _O, renewals_won, "deals"),
    MeasureSpec("gross_retention", "account_growth", "ratio", _O, gross_retention, "deals"),
]

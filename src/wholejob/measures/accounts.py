"""Engagement measures: who is engaged at accounts and on deals, and how deals are worked.

Customer understanding, relationships, key-account care and stale deals join
activities to opportunities, accounts and contacts. They need activities, so a
rep without activities in the period has them unknown.
"""

from __future__ import annotations

from datetime import timedelta

import ibis

from wholejob.measures.base import Inputs
from wholejob.measures.spec import MeasureSpec, finish, lift_of_rates, share_of

__all__ = ["DISCOVERY_PRACTICES", "SPECS", "STALE_DAYS"]

# Activities that count as discovery on a deal.
DISCOVERY_PRACTICES: tuple[str, ...] = ("qualification", "customer_understanding")
STALE_DAYS = 30
DAYS_PER_MONTH = 365.0 / 12.0


def _discovery(inp: Inputs) -> ibis.Table:
    """First discovery activity per opportunity (linked to it), before its close."""
    a = inp.acts
    d = a.filter(a.practice.isin(list(DISCOVERY_PRACTICES)) & a.opportunity_id.notnull())
    return d.group_by(_d_opp=d.opportunity_id).aggregate(_d_first=d.started_at.min())


def discovery_before_proposal(inp: Inputs) -> ibis.Table:
    """Share of deals first reaching proposal in the period with discovery before it."""
    o = inp.opps
    p = inp.period
    t = o.filter(o.h_proposal_at.date().between(p.since, p.until).fill_null(False))
    d = _discovery(inp)
    t = t.left_join(d, t.opportunity_id == d._d_opp)
    return share_of(t, "opportunity_id", t._d_first < t.h_proposal_at)


def win_rate_with_discovery(inp: Inputs) -> ibis.Table:
    """Win rate of deals closed in the period with discovery minus those without."""
    o = inp.opps
    t = o.filter(o.closed_in_period)
    d = _discovery(inp)
    t = t.left_join(d, t.opportunity_id == d._d_opp)
    had = (t._d_first.date() <= t.close_date).fill_null(False)
    return lift_of_rates(t, "opportunity_id", had, t.status == "won")


def _contacts_per_open_deal(inp: Inputs, *, period_only: bool) -> ibis.Table:
    o = inp.opps.filter(inp.opps.open_at_end)
    a = inp.acts
    a = a.filter(a.opportunity_id.notnull() & a.contact_id.notnull())
    if period_only:
        a = a.filter(a.in_period)
    c = a.group_by(_c_opp=a.opportunity_id).aggregate(_n=a.contact_id.nunique())
    t = o.left_join(c, o.opportunity_id == c._c_opp)
    g = t.group_by("rep_id").aggregate(
        _s=t._n.fill_null(0).sum(), _d=t.count(), _ids=t.opportunity_id.collect()
    )
    return finish(g, numerator=g._s, denominator=g._d,
                  value=g._s.cast("float64") / g._d.cast("float64").nullif(0.0), ids=g._ids)


def stakeholders_known(inp: Inputs) -> ibis.Table:
    """Mean distinct contacts in activities on each open deal, ever up to the period's end."""
    return _contacts_per_open_deal(inp, period_only=False)


def contacts_per_opportunity(inp: Inputs) -> ibis.Table:
    """Mean distinct contacts in activities on each open deal during the period."""
    return _contacts_per_open_deal(inp, period_only=True)


def contacts_per_account(inp: Inputs) -> ibis.Table:
    """Distinct (account, contact) pairs touched in the period / accounts with activity."""
    a = inp.acts
    a = a.filter(a.in_period & a.account_id.notnull())
    g = a.group_by("rep_id").aggregate(
        _pairs=(a.account_id + "\x1f" + a.contact_id).nunique(),
        _accts=a.account_id.nunique(),
        _ids=a.contact_id.collect(distinct=True),
    )
    return finish(g, numerator=g._pairs, denominator=g._accts,
                  value=g._pairs.cast("float64") / g._accts.cast("float64").nullif(0.0),
                  ids=g._ids)


def executive_contacts(inp: Inputs) -> ibis.Table:
    """Distinct executive contacts touched in the period."""
    a = inp.acts
    c = inp.ws.table("contacts")
    execs = c.filter(c.seniority == "executive").select(_x=c.contact_id)
    a = a.filter(a.in_period)
    t = a.inner_join(execs, a.contact_id == execs._x)
    g = t.group_by("rep_id").aggregate(
        _n=t.contact_id.nunique(), _ids=t.contact_id.collect(distinct=True)
    )
    return finish(g, numerator=g._n, denominator=None, value=g._n, ids=g._ids)


def touches_per_key_account(inp: Inputs) -> ibis.Table:
    """Activities per key account per month: customers the rep owns that fit the ICP.

    Key accounts are accounts owned by the rep that were customers by the end
    of the period and fit the ICP (their tier, else the ICP rules).
    """
    from wholejob.classification import _icp_fit

    accts = inp.ws.table("accounts")
    key = accts.filter(
        (accts.customer_since <= inp.period.until) & _icp_fit(accts, inp.ws.config.icp)
    ).select(_k_acc=accts.account_id, _k_rep=accts.owner_id)
    a = inp.acts.filter(inp.acts.in_period)
    per_acc = a.group_by(_t_acc=a.account_id, _t_rep=a.rep_id).aggregate(_n=a.count())
    t = key.left_join(per_acc, [key._k_acc == per_acc._t_acc, key._k_rep == per_acc._t_rep])
    months = inp.period.days / DAYS_PER_MONTH
    g = t.group_by(rep_id=t._k_rep).aggregate(
        _n=t._n.fill_null(0).sum(), _k=t.count(), _ids=t._k_acc.collect()
    )
    den = g._k.cast("float64") * months
    return finish(g, numerator=g._n, denominator=den,
                  value=g._n.cast("float64") / den.nullif(0.0), ids=g._ids)


def stale_deals(inp: Inputs) -> ibis.Table:
    """Share of open deals with no linked activity in the 30 days up to the period's end."""
    o = inp.opps.filter(inp.opps.open_at_end)
    a = inp.acts
    start = inp.period.until - timedelta(days=STALE_DAYS - 1)
    recent = a.filter(a.opportunity_id.notnull() & (a.day >= start)).select(
        _r_opp=a.opportunity_id
    ).distinct()
    t = o.left_join(recent, o.opportunity_id == recent._r_opp)
    return share_of(t, "opportunity_id", t._r_opp.isnull())


_O, _A, _C = "opportunities", "activities", "contacts"
SPECS: list[MeasureSpec] = [
    MeasureSpec("discovery_before_proposal", "customer_understanding", "ratio", _O,
                discovery_before_proposal, "engagement", needs_activities=True),
    MeasureSpec("stakeholders_known", "customer_understanding", "count", _O,
                stakeholders_known, "engagement", needs_activities=True),
    MeasureSpec("win_rate_with_discovery", "customer_understanding", "ratio", _O,
                win_rate_with_discovery, "engagement", needs_activities=True),
    MeasureSpec("contacts_per_account", "relationships", "count", _C, contacts_per_account,
                "engagement", needs_activities=True),
    MeasureSpec("contacts_per_opportunity", "relationships", "count", _O,
                contacts_per_opportunity, "engagement", needs_activities=True),
    MeasureSpec("executive_contacts", "relationships", "count", _C, executive_contacts,
                "engagement", needs_activities=True, zero_when_absent=True),
    MeasureSpec("touches_per_key_account", "account_growth", "per_month", "accounts",
                touches_per_key_account, "engagement", needs_activities=True),
    MeasureSpec("stale_deals", "sales_process", "ratio", _O, stale_deals, "engagement",
                needs_activities=True),
]

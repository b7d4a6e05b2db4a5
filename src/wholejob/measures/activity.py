"""Touch measures: what follows a customer interaction, and what comes before a meeting.

These read activities and opportunity history through one prepared table,
:func:`touch_outcomes`: for each activity one of them reads, when the next
inbound activity from the same contact or from the same account came, when the
same rep next called or met the account, when its linked opportunity next
advanced, and when the rep last prepared for the account. It is window
functions over the activities, a range join to opportunity history and joins
back on ``activity_id``, computed once and cached. Follow-ups are looked for
among the prepared activities, which stop at the end of the period (no peeking
at later activities); opportunity history is read whole.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from wholejob.measures.base import CUSTOMER_FACING, Inputs
from wholejob.measures.spec import MeasureSpec, finish, lift_of_rates, share_of

__all__ = ["SPECS", "touch_outcomes"]

REPLY_DAYS = 14  # insight: reply or advance within two weeks
NEXT_STEP_DAYS = 7  # value creation, meetings, social replies: within a week
PREP_DAYS = 3  # call planning: preparation in the three days before a meeting


def _at(t: ibis.Table, when: ir.BooleanValue) -> ir.TimestampValue:
    """``started_at`` where ``when`` holds, else NULL."""
    out: ir.TimestampValue = ibis.cases((when, t.started_at), else_=ibis.null("timestamp"))
    return out


def _next(t: ibis.Table, keys: list[str], at: ir.TimestampValue) -> ir.TimestampValue:
    """Least ``at`` over the later rows of the same ``keys`` partition.

    ``at`` holds ``started_at`` or NULL, so this is the time of the next row
    where it is not NULL; "later" follows ``(started_at, activity_id)``.
    """
    w = ibis.window(group_by=keys, order_by=["started_at", "activity_id"], rows=(1, None))
    out: ir.TimestampValue = at.min().over(w)
    return out


def _last(t: ibis.Table, keys: list[str], at: ir.TimestampValue) -> ir.TimestampValue:
    """Greatest ``at`` over the earlier rows of the same ``keys`` partition."""
    w = ibis.window(group_by=keys, order_by=["started_at", "activity_id"], rows=(None, -1))
    out: ir.TimestampValue = at.max().over(w)
    return out


def _touches(t: ibis.Table) -> ir.BooleanValue:
    """Outbound (or undirected) customer-facing activities at an account, in the period."""
    out: ir.BooleanValue = (
        t.in_period & t.account_id.notnull() & t.type.isin(list(CUSTOMER_FACING))
        & (t.direction.fill_null("outbound") != "inbound") & (t.practice != "other")
    )
    return out


def _meetings_at_accounts(t: ibis.Table) -> ir.BooleanValue:
    """Customer meetings at an account, in the period (whatever their direction)."""
    out: ir.BooleanValue = (
        t.in_period & (t.type == "meeting") & t.account_id.notnull() & (t.practice != "other")
    )
    return out


def _social_touches(t: ibis.Table) -> ir.BooleanValue:
    """Outbound (or undirected) social touches with a contact, in the period."""
    out: ir.BooleanValue = (
        t.in_period & (t.type == "social") & t.contact_id.notnull()
        & (t.direction.fill_null("outbound") == "outbound")
    )
    return out


_MEET = ("call", "meeting")
_COLUMNS = ("activity_id", "rep_id", "type", "started_at", "account_id", "contact_id",
            "direction", "practice", "in_period")


def touch_outcomes(inp: Inputs) -> ibis.Table:
    """Return (and cache) the activities the touch measures read, with what followed them.

    Rows are the customer touches (:func:`_touches`), the customer meetings
    (:func:`_meetings_at_accounts`) and the outbound social touches
    (:func:`_social_touches`); columns are the activity columns those measures
    read plus five times, each filled only on the rows whose measure reads it
    (NULL elsewhere, and NULL when nothing followed or preceded):

    - ``reply_contact_at``, on social touches: the next inbound activity of the
      same contact;
    - ``reply_account_at``, on customer touches: the next inbound activity at
      the account;
    - ``next_meeting_at``, on meetings and on touches that are calls or
      meetings: the next call or meeting by the same rep at the account;
    - ``last_prep_at``, on meetings: the latest earlier ``call_planning``
      activity by the same rep at the account;
    - ``advance_at``, on touches and meetings: the first advance of the linked
      opportunity within :data:`REPLY_DAYS` after the activity.

    "Next" and "earlier" follow ``(started_at, activity_id)``. Each window runs
    only over the rows it answers for and the rows that can be its answer, and
    every filled time equals what the window over all activities would give.
    """
    if "touches" in inp.derived:
        return inp.derived["touches"]
    a = inp.acts
    # Each branch starts from `acts` itself, not from a shared projection: a
    # shared subquery becomes a CTE that DuckDB materialises, which cost more
    # than scanning the cached table again.
    # The windows sort only the columns they need: each row's flag and candidate
    # time are computed in a projection before the window, not carried as text.
    inbound = a.direction == "inbound"
    c = a.filter(a.contact_id.notnull() & (_social_touches(a) | inbound))
    c = c.select("activity_id", "contact_id", "started_at", _on=_social_touches(c),
                 _inb=_at(c, c.direction == "inbound"))
    c = c.select(_c_id=c.activity_id, _on=c._on,
                 reply_contact_at=_next(c, ["contact_id"], c._inb))
    c = c.filter(c._on).drop("_on")
    r = a.filter(_touches(a) | (a.account_id.notnull() & inbound))
    r = r.select("activity_id", "account_id", "started_at", _on=_touches(r),
                 _inb=_at(r, r.direction == "inbound"))
    r = r.select(_r_id=r.activity_id, _on=r._on,
                 reply_account_at=_next(r, ["account_id"], r._inb))
    r = r.filter(r._on).drop("_on")
    m = a.filter(a.account_id.notnull()
                 & (a.type.isin(list(_MEET)) | (a.practice == "call_planning")))
    meeting = _meetings_at_accounts(m)
    m = m.select(
        "activity_id", "rep_id", "account_id", "started_at", _meeting=meeting,
        _on=meeting | (_touches(m) & m.type.isin(list(_MEET))),
        _meet=_at(m, m.type.isin(list(_MEET))), _prep=_at(m, m.practice == "call_planning"),
    )
    m = m.select(
        _m_id=m.activity_id, _meeting=m._meeting, _on=m._on,
        next_meeting_at=_next(m, ["rep_id", "account_id"], m._meet),
        last_prep_at=_last(m, ["rep_id", "account_id"], m._prep),
    )
    m = m.filter(m._on).select(
        "_m_id", "next_meeting_at",
        last_prep_at=ibis.cases((m._meeting, m.last_prep_at), else_=ibis.null("timestamp")),
    )
    h = inp.hist.filter(inp.hist.is_advance)
    adv = h.select(_h_opp=h.opportunity_id, _h_at=h.entered_at)
    linked = a.filter((_touches(a) | _meetings_at_accounts(a)) & a.opportunity_id.notnull())
    linked = linked.select(_l_id="activity_id", _l_opp="opportunity_id", _l_at="started_at")
    horizon = ibis.interval(days=REPLY_DAYS)
    pairs = linked.inner_join(
        adv,
        [linked._l_opp == adv._h_opp, adv._h_at > linked._l_at,
         adv._h_at <= linked._l_at + horizon],
    )
    advance = pairs.group_by("_l_id").aggregate(advance_at=pairs._h_at.min())
    o = a.filter(_touches(a) | _meetings_at_accounts(a) | _social_touches(a)).select(*_COLUMNS)
    t = (
        o.left_join(c, o.activity_id == c._c_id)
        .left_join(r, o.activity_id == r._r_id)
        .left_join(m, o.activity_id == m._m_id)
        .left_join(advance, o.activity_id == advance._l_id)
        .drop("_c_id", "_r_id", "_m_id", "_l_id")
    )
    t = inp.cache(t)
    inp.derived["touches"] = t
    return t


def _within(at: ir.TimestampValue, start: ir.TimestampValue, days: int) -> ir.BooleanValue:
    out: ir.BooleanValue = (at <= start + ibis.interval(days=days)).fill_null(False)
    return out


def _customer_touches(t: ibis.Table) -> ibis.Table:
    """Outbound (or undirected) customer-facing activities at an account, in the period."""
    return t.filter(_touches(t))


def advance_after_insight(inp: Inputs) -> ibis.Table:
    """Share of insight touches followed by a reply or advance within 14 days, minus others'."""
    t = _customer_touches(touch_outcomes(inp))
    hit = _within(t.reply_account_at, t.started_at, REPLY_DAYS) | _within(
        t.advance_at, t.started_at, REPLY_DAYS
    )
    return lift_of_rates(t, "activity_id", t.practice == "insight", hit)


def interactions_with_next_step(inp: Inputs) -> ibis.Table:
    """Share of customer calls and meetings followed within 7 days by a next step.

    A next step is another call or meeting by the same rep at the account, an
    inbound activity from the account, or an advance of the linked opportunity.
    """
    t = touch_outcomes(inp)
    t = t.filter(_touches(t) & t.type.isin(list(_MEET)))
    hit = (
        _within(t.next_meeting_at, t.started_at, NEXT_STEP_DAYS)
        | _within(t.reply_account_at, t.started_at, NEXT_STEP_DAYS)
        | _within(t.advance_at, t.started_at, NEXT_STEP_DAYS)
    )
    return share_of(t, "activity_id", hit)


def social_reply_rate(inp: Inputs) -> ibis.Table:
    """Share of outbound social touches answered by the same contact within 7 days."""
    t = touch_outcomes(inp)
    t = t.filter(_social_touches(t))
    return share_of(t, "activity_id", _within(t.reply_contact_at, t.started_at, NEXT_STEP_DAYS))


def _meetings(inp: Inputs) -> ibis.Table:
    t = touch_outcomes(inp)
    return t.filter(_meetings_at_accounts(t))


def meetings_prepared(inp: Inputs) -> ibis.Table:
    """Share of customer meetings the rep prepared for at the account in the 3 days before."""
    m = _meetings(inp)
    prepared = (m.last_prep_at >= m.started_at - ibis.interval(days=PREP_DAYS)).fill_null(False)
    return share_of(m, "activity_id", prepared)


def meeting_next_step_rate(inp: Inputs) -> ibis.Table:
    """Share of customer meetings followed within 7 days by a call/meeting or an advance."""
    m = _meetings(inp)
    hit = _within(m.next_meeting_at, m.started_at, NEXT_STEP_DAYS) | _within(
        m.advance_at, m.started_at, NEXT_STEP_DAYS
    )
    return share_of(m, "activity_id", hit)


def meetings_per_100_touches(inp: Inputs) -> ibis.Table:
    """100 x meetings at prospects / outbound calls, emails and social touches at prospects.

    A prospect is an account that was not a customer on the activity's day.
    """
    a = inp.acts
    o = inp.ws.table("accounts")
    acc = o.select(_acc=o.account_id, _since=o.customer_since)
    t = a.filter(a.in_period & a.account_id.notnull()).left_join(acc, a.account_id == acc._acc)
    t = t.filter(t._since.isnull() | (t._since > t.day))
    meeting = t.type == "meeting"
    touch = t.type.isin(["call", "email", "social"]) & (t.direction == "outbound")
    g = t.group_by("rep_id").aggregate(
        _m=meeting.cast("int64").sum(), _t=touch.cast("int64").sum(),
        _ids=t.activity_id.collect(where=meeting),
    )
    return finish(g, numerator=g._m, denominator=g._t,
                  value=100.0 * g._m.cast("float64") / g._t.cast("float64").nullif(0.0),
                  ids=g._ids)


_A = "activities"
SPECS: list[MeasureSpec] = [
    MeasureSpec("meetings_per_100_touches", "prospecting", "per_100", _A,
                meetings_per_100_touches, "touches", needs_activities=True),
    MeasureSpec("advance_after_insight", "insight", "ratio", _A, advance_after_insight,
                "touches", needs_activities=True),
    MeasureSpec("interactions_with_next_step", "value_creation", "ratio", _A,
                interactions_with_next_step, "touches", needs_activities=True),
    MeasureSpec("social_reply_rate", "social_selling", "ratio", _A, social_reply_rate,
                "touches", needs_activities=True),
    MeasureSpec("meetings_prepared", "call_planning", "ratio", _A, meetings_prepared,
                "touches", needs_activities=True),
    MeasureSpec("meeting_next_step_rate", "call_planning", "ratio", _A, meeting_next_step_rate,
                "touches", needs_activities=True),
]

"""Contract tables for accounts, opportunities and stage history from the simulation.

The simulation works in week indices; this module turns them into dates and
timestamps, names deals, and fills the fields that depend on a rep's discipline
(next steps, close dates kept current, business cases).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from wholejob.demo.accounts import NOT_CUSTOMER, Accounts
from wholejob.demo.pipeline import KINDS, LOST, SOURCES, STAGES, WON, Pipeline
from wholejob.demo.profiles import practice_index
from wholejob.demo.team import Calendar, Team
from wholejob.demo.text import load_phrases, make_ids, pick

__all__ = ["account_table", "history_table", "opportunity_ids", "opportunity_table"]

IntArray = npt.NDArray[np.int64]
P = practice_index


def _day(cal: Calendar, t: IntArray, day: IntArray) -> npt.NDArray[np.datetime64]:
    return cal.sim_start + (7 * t + day).astype("timedelta64[D]")


def _dates(values: npt.NDArray[np.datetime64], valid: npt.NDArray[np.bool_]) -> pa.Array:
    return pa.array(values.astype("datetime64[D]"), pa.date32(), mask=~valid)


def _event_days(pipe: Pipeline, cal: Calendar) -> npt.NDArray[np.datetime64]:
    ev = pipe.events
    return _day(cal, ev["t"], ev["day"])


def _close_days(pipe: Pipeline, cal: Calendar) -> npt.NDArray[np.datetime64]:
    """Return each opportunity's date of its last stage event (the close for closed deals)."""
    ev = pipe.events
    n = len(pipe.opp["rep"])
    stamp = 7 * ev["t"] + ev["day"]
    last = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last, ev["opp"], stamp)
    return cal.sim_start + last.astype("timedelta64[D]")


def opportunity_ids(pipe: Pipeline) -> pa.Array:
    """Return the opportunity ids in simulation order."""
    return make_ids("OP", np.arange(len(pipe.opp["rep"])) + 1, 8)


def account_table(
    team: Team, acc: Accounts, pipe: Pipeline, cal: Calendar, rng: np.random.Generator
) -> pa.Table:
    """Return the accounts table; customer_since is the first win of a new logo."""
    ph = load_phrases()
    since = _day(cal, np.minimum(pipe.account_since_t, 0), rng.integers(0, 5, acc.n))
    o = pipe.opp
    landed = np.flatnonzero((o["stage"] == WON) & (o["kind"] == 0))
    close = _close_days(pipe, cal)[landed].astype(np.int64)
    first_win = np.full(acc.n, np.iinfo(np.int64).max)
    np.minimum.at(first_win, o["acc"][landed], close)
    won_here = first_win != np.iinfo(np.int64).max
    since = np.where(won_here, first_win.astype("datetime64[D]"), since)
    is_cust = (pipe.account_since_t != NOT_CUSTOMER) | won_here
    return pa.table(
        {
            "account_id": acc.ids,
            "name": acc.name,
            "industry": pick(ph.names("industries"), acc.industry),
            "employees": pa.array(acc.employees, pa.int64()),
            "annual_revenue": pa.array(acc.revenue, pa.float64()),
            "region": pick(ph.names("regions"), acc.region),
            "owner_id": pick(team.rep_ids, acc.rep),
            "customer_since": _dates(since, is_cust),
            "icp_tier": pick(["A", "B", "C"], acc.tier),
        }
    )


def opportunity_table(
    team: Team, acc: Accounts, pipe: Pipeline, cal: Calendar, rng: np.random.Generator
) -> pa.Table:
    """Return the opportunities table as it stands at the end of the window."""
    ph = load_phrases()
    o = pipe.opp
    n = len(o["rep"])
    rep, stage = o["rep"], o["stage"]
    is_open = stage < WON
    end = np.datetime64(cal.end, "D")
    created = _day(cal, o["created_t"], o["created_day"])
    process = pipe.mean_effect[rep, P("sales_process")]

    # Open deals: the close date was set at creation; disciplined reps keep it current.
    expected = created + rng.integers(60, 120, n).astype("timedelta64[D]")
    overdue = expected < end
    kept = rng.random(n) < 0.2 + 1.5 * process
    pushed = end + rng.integers(7, 75, n).astype("timedelta64[D]")
    open_close = np.where(overdue & kept, pushed, expected)
    close = np.where(is_open, open_close, _close_days(pipe, cal))

    has_next = is_open & (rng.random(n) < np.clip(0.15 + 1.3 * process, 0, 0.97))
    late_next = rng.random(n) < np.clip(0.6 - 1.0 * process, 0.03, 0.6)
    next_on = np.where(
        late_next,
        end - rng.integers(1, 30, n).astype("timedelta64[D]"),
        end + rng.integers(0, 21, n).astype("timedelta64[D]"),
    )
    steps = ph.section("opportunities", "next_step")
    next_step = pick(steps, rng.integers(0, len(steps), n))

    early = ph.section("opportunities", "lost_early")
    late = ph.section("opportunities", "lost_late")
    reasons = [*early, *late]
    ridx = np.where(
        o["lost_reason"] == 1,
        len(early) + rng.integers(0, len(late), n),
        rng.integers(0, len(early), n),
    )
    is_lost = stage == LOST

    products = ph.names("products")
    suffix = np.array(["", " expansion", " renewal"])[o["kind"]]
    name = pc.binary_join_element_wise(
        acc.name.take(pa.array(o["acc"])),
        " - ",
        pick(products, rng.integers(0, len(products), n)),
        pa.array(suffix),
        "",
    )
    status = np.where(stage == WON, "won", np.where(is_lost, "lost", "open"))
    bc = o["bc"]
    return pa.table(
        {
            "opportunity_id": opportunity_ids(pipe),
            "account_id": acc.ids.take(pa.array(o["acc"])),
            "owner_id": pick(team.rep_ids, rep),
            "name": name,
            "created_on": _dates(created, np.ones(n, dtype=np.bool_)),
            "close_date": _dates(close, np.ones(n, dtype=np.bool_)),
            "amount": pa.array(o["amount"], pa.float64()),
            "stage": pick(list(STAGES), stage),
            "status": pa.array(status, pa.string()),
            "kind": pick(list(KINDS), o["kind"]),
            "source": pick(list(SOURCES), o["source"]),
            "lost_reason": pc.if_else(pa.array(is_lost), pick(reasons, ridx),
                                      pa.scalar(None, pa.string())),
            "next_step": pc.if_else(pa.array(has_next), next_step, pa.scalar(None, pa.string())),
            "next_step_on": _dates(next_on, has_next),
            "business_case": pa.array(bc == 1, pa.bool_(), mask=bc < 0),
        }
    )


def history_table(
    opps: pa.Table, pipe: Pipeline, cal: Calendar, rng: np.random.Generator
) -> pa.Table:
    """Return one row per stage each opportunity entered, with amount and close date then.

    Close dates recorded along the way slip more for reps weak at facilitating the
    buying process, so pushed close dates are visible in the history.
    """
    ev = pipe.events
    m = len(ev["opp"])
    order = np.lexsort((ev["t"], ev["opp"]))
    e_opp, e_stage = ev["opp"][order], ev["stage"][order]
    e_day = _event_days(pipe, cal)[order]
    minutes = rng.integers(8 * 60, 18 * 60, m)
    entered = e_day.astype("datetime64[s]") + (60 * minutes).astype("timedelta64[s]")
    last = np.ones(m, dtype=np.bool_)
    last[:-1] = e_opp[1:] != e_opp[:-1]
    amount = pipe.opp["amount"][e_opp]
    amount = np.where(last, amount, np.round(amount * rng.uniform(0.8, 1.2, m), -2))
    buying = pipe.mean_effect[pipe.opp["rep"][e_opp], P("buying_process")]
    remaining = np.clip(WON - e_stage, 0, None) * 14
    slip = (rng.random(m) * 45 * (1 - buying)).astype(np.int64)
    closed = e_stage >= WON
    close = e_day + np.where(closed, 0, remaining + slip).astype("timedelta64[D]")
    return pa.table(
        {
            "opportunity_id": opps["opportunity_id"].take(pa.array(e_opp)),
            "stage": pick(list(STAGES), e_stage),
            "entered_at": pa.array(entered.astype("datetime64[us]"), pa.timestamp("us")),
            "amount": pa.array(amount, pa.float64()),
            "close_date": _dates(close, np.ones(m, dtype=np.bool_)),
        }
    )

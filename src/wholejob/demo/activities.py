"""Activities of the demo team: each rep's weekly hours per practice, as CRM records.

For every rep, week and practice the number of activities is Poisson with the
rep's hours divided by the practice's mean activity duration, so logged time
matches the time the simulation used. Each activity is linked to a record that
fits its practice (prospecting to prospects ahead of the rep's queue, closing to
late-stage deals, account growth to customers, ...), gets a type, duration,
timestamp in working hours, outcome and composed text, and carries an explicit
practice only when the rep tags their work. The true practice of every activity
goes to a separate truth table.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from wholejob.demo.accounts import LOOKAHEAD, Accounts
from wholejob.demo.pipeline import SOURCES, WON, Pipeline
from wholejob.demo.profiles import ALL_PRACTICES, practice_index
from wholejob.demo.team import Calendar, Team
from wholejob.demo.text import ACTIVITY_TYPES, compose_activity_text, make_ids, pick

__all__ = ["CHUNK_REPS", "generate_activities"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
CHUNK_REPS = 64  # reps per written block; fixed so output never depends on the machine

CALL, EMAIL, MEETING, SOCIAL, TASK, OTHER = range(6)
# Type mix of each practice: (type, share, mean minutes).
TYPE_MIX: dict[str, list[tuple[int, float, float]]] = {
    "prospecting": [(CALL, 0.45, 7), (EMAIL, 0.35, 4), (SOCIAL, 0.08, 3), (TASK, 0.12, 15)],
    "referrals": [(EMAIL, 0.5, 6), (CALL, 0.3, 10), (MEETING, 0.2, 30)],
    "icp_focus": [(TASK, 0.8, 30), (MEETING, 0.2, 30)],
    "qualification": [(CALL, 0.5, 25), (MEETING, 0.5, 40)],
    "customer_understanding": [(TASK, 0.4, 30), (MEETING, 0.45, 45), (CALL, 0.15, 20)],
    "relationships": [(MEETING, 0.45, 50), (CALL, 0.3, 15), (EMAIL, 0.25, 5)],
    "insight": [(EMAIL, 0.55, 8), (MEETING, 0.3, 40), (SOCIAL, 0.15, 4)],
    "buying_process": [(MEETING, 0.4, 40), (EMAIL, 0.4, 8), (TASK, 0.2, 25)],
    "value_creation": [(EMAIL, 0.5, 5), (CALL, 0.5, 10)],
    "sales_process": [(TASK, 0.65, 15), (MEETING, 0.35, 30)],
    "proposals": [(TASK, 0.7, 60), (EMAIL, 0.3, 10)],
    "closing": [(CALL, 0.5, 20), (MEETING, 0.35, 45), (EMAIL, 0.15, 6)],
    "new_logos": [(MEETING, 0.45, 45), (CALL, 0.3, 20), (EMAIL, 0.25, 6)],
    "account_growth": [(MEETING, 0.45, 45), (CALL, 0.3, 20), (EMAIL, 0.25, 6)],
    "social_selling": [(SOCIAL, 0.85, 4), (TASK, 0.15, 15)],
    "call_planning": [(TASK, 1.0, 20)],
    "land_and_expand": [(MEETING, 0.45, 40), (CALL, 0.3, 20), (EMAIL, 0.25, 6)],
    "marketing_alignment": [(CALL, 0.4, 8), (EMAIL, 0.35, 5), (MEETING, 0.25, 30)],
    "other": [(OTHER, 0.5, 45), (MEETING, 0.3, 30), (TASK, 0.2, 20)],
}

# Targets: what record an activity is about.
NONE, PROSPECT, PROSPECT_ICP, CUSTOMER, RECENT = range(5)
OPP_ANY, OPP_EARLY, OPP_MID, OPP_LATE, OPP_PROPOSAL, OPP_NEWLOGO, OPP_CUST, OPP_MKT = range(5, 13)
N_CAT = 8  # opportunity categories, OPP_ANY .. OPP_MKT
TARGETS: dict[str, tuple[list[tuple[int, float]], int]] = {
    # practice: ([(target, share)], fallback when no fitting opportunity is open)
    "prospecting": ([(PROSPECT, 0.88), (NONE, 0.12)], NONE),
    "referrals": ([(CUSTOMER, 0.9), (NONE, 0.1)], NONE),
    "icp_focus": ([(PROSPECT_ICP, 0.7), (NONE, 0.3)], NONE),
    "qualification": ([(OPP_EARLY, 0.9), (PROSPECT, 0.1)], PROSPECT),
    "customer_understanding": ([(OPP_MID, 0.6), (CUSTOMER, 0.3), (NONE, 0.1)], CUSTOMER),
    "relationships": ([(CUSTOMER, 0.5), (OPP_ANY, 0.5)], CUSTOMER),
    "insight": ([(OPP_ANY, 0.5), (PROSPECT, 0.3), (CUSTOMER, 0.2)], PROSPECT),
    "buying_process": ([(OPP_LATE, 0.5), (OPP_MID, 0.5)], NONE),
    "value_creation": ([(OPP_ANY, 1.0)], CUSTOMER),
    "sales_process": ([(OPP_ANY, 0.6), (NONE, 0.4)], NONE),
    "proposals": ([(OPP_PROPOSAL, 0.8), (OPP_LATE, 0.2)], NONE),
    "closing": ([(OPP_LATE, 1.0)], NONE),
    "new_logos": ([(OPP_NEWLOGO, 1.0)], PROSPECT),
    "account_growth": ([(CUSTOMER, 0.6), (OPP_CUST, 0.4)], CUSTOMER),
    "social_selling": ([(PROSPECT, 0.6), (NONE, 0.4)], NONE),
    "call_planning": ([(OPP_ANY, 0.7), (PROSPECT, 0.3)], PROSPECT),
    "land_and_expand": ([(RECENT, 0.7), (OPP_CUST, 0.3)], CUSTOMER),
    "marketing_alignment": ([(OPP_MKT, 0.5), (NONE, 0.5)], NONE),
    "other": ([(NONE, 1.0)], NONE),
}
# Practices whose contact is more often an executive, the more the rep invests
# in relationships.
EXEC_PRACTICES = ("relationships", "closing", "insight", "account_growth", "proposals")
# Outcomes per type: the good one first; value creation makes it likelier.
OUTCOMES: dict[int, list[str]] = {
    CALL: ["meeting booked", "connected", "left voicemail", "no answer"],
    EMAIL: ["replied", "sent", "sent", "bounced"],
    MEETING: ["next step agreed", "held", "rescheduled", "no-show"],
    SOCIAL: ["replied", "connection accepted", "sent", "viewed"],
    TASK: ["completed", "completed", "open", "deferred"],
}


def _tables() -> dict[str, npt.NDArray[np.float64]]:
    n_p, n_t = len(ALL_PRACTICES), len(ACTIVITY_TYPES)
    share = np.zeros((n_p, n_t))
    minutes = np.ones((n_p, n_t))
    target = np.zeros((n_p, 13))
    fallback = np.zeros(n_p)
    for i, p in enumerate(ALL_PRACTICES):
        for ty, s, m in TYPE_MIX[p]:
            share[i, ty], minutes[i, ty] = s, m
        options, fb = TARGETS[p]
        for code, s in options:
            target[i, code] = s
        fallback[i] = fb
    return {
        "type_cum": np.cumsum(share, axis=1),
        "minutes": minutes,
        "mean": (share * minutes).sum(axis=1),
        "target_cum": np.cumsum(target, axis=1),
        "fallback": fallback,
    }


def _draw(cum: FloatArray, rng: np.random.Generator) -> IntArray:
    """Draw a category per row from rows of cumulative probabilities."""
    u = rng.random(len(cum)) * cum[:, -1]
    return np.asarray((u[:, None] >= cum).sum(axis=1), dtype=np.int64)


class _OpenDeals:
    """Open opportunities per rep, week and category, for sampling activity targets."""

    def __init__(self, pipe: Pipeline, cal: Calendar) -> None:
        ev, o = pipe.events, pipe.opp
        order = np.lexsort((ev["t"], ev["opp"]))
        e_opp, e_stage, e_t = ev["opp"][order], ev["stage"][order], ev["t"][order]
        nxt = np.empty_like(e_t)
        nxt[:-1] = e_t[1:]
        last = np.ones(len(e_t), dtype=np.bool_)
        last[:-1] = e_opp[1:] != e_opp[:-1]
        # A stage is worked from the week after it was entered until the week it is left.
        stop = np.where(last, cal.total - 1, nxt)
        keep = e_stage < WON
        start, stop = np.maximum(e_t[keep] + 1, cal.burn_in), stop[keep]
        e_opp, e_stage = e_opp[keep], e_stage[keep]
        weeks = np.maximum(stop - start + 1, 0)
        row = np.repeat(np.arange(len(weeks)), weeks)
        t = start[row] + np.arange(len(row)) - np.repeat(np.cumsum(weeks) - weeks, weeks)
        opp, stage = e_opp[row], e_stage[row]
        kind, source = o["kind"][opp], o["source"][opp]
        mkt = np.isin(source, [SOURCES.index("marketing"), SOURCES.index("inbound")])
        members = [
            np.ones(len(opp), dtype=np.bool_), stage <= 1, (stage >= 1) & (stage <= 3),
            stage >= 3, stage == 3, kind == 0, kind != 0, mkt,
        ]
        base = (o["rep"][opp] * cal.total + t) * N_CAT
        keys = np.concatenate([base[m] + c for c, m in enumerate(members)])
        opps = np.concatenate([opp[m] for m in members])
        srt = np.argsort(keys, kind="stable")
        self.keys, self.opps, self.total = keys[srt], opps[srt], cal.total

    def sample(self, rep: IntArray, t: IntArray, cat: IntArray, u: FloatArray) -> IntArray:
        """Return a random open opportunity per row, or -1 when there is none."""
        k = (rep * self.total + t) * N_CAT + cat
        lo = np.searchsorted(self.keys, k, "left")
        hi = np.searchsorted(self.keys, k, "right")
        idx = lo + (u * (hi - lo)).astype(np.int64)
        return np.where(hi > lo, self.opps[np.minimum(idx, len(self.opps) - 1)], -1)


class _Customers:
    """Customers per rep ordered by the week they landed, for sampling targets."""

    OFFSET = 1000

    def __init__(self, pipe: Pipeline, cal: Calendar) -> None:
        c = pipe.customers
        self.span = cal.total + 2 * self.OFFSET
        self.keys = c["rep"] * self.span + c["since_t"] + self.OFFSET
        self.acc = c["acc"]

    def sample(self, rep: IntArray, t: IntArray, u: FloatArray, recent: bool) -> IntArray:
        """Return a random customer account per row (landed within 52 weeks if recent)."""
        base = rep * self.span + self.OFFSET
        lo = np.searchsorted(self.keys, base + t - 52 if recent else base - self.OFFSET,
                             "right" if recent else "left")
        hi = np.searchsorted(self.keys, base + t, "right")
        idx = lo + (u * (hi - lo)).astype(np.int64)
        return np.where(hi > lo, self.acc[np.minimum(idx, len(self.acc) - 1)], -1)


def _resolve_targets(
    practice: IntArray, rep: IntArray, t: IntArray, tab: dict[str, FloatArray],
    acc: Accounts, pipe: Pipeline, deals: _OpenDeals, custs: _Customers,
    rng: np.random.Generator,
) -> tuple[IntArray, IntArray]:
    """Return (account, opportunity) per activity, -1 where there is none."""
    n = len(practice)
    code = _draw(tab["target_cum"][practice], rng)
    account = np.full(n, -1, dtype=np.int64)
    opp = np.full(n, -1, dtype=np.int64)
    todo = np.ones(n, dtype=np.bool_)
    for _ in range(3):  # each pass resolves or falls back one step (opp → customer → none)
        is_opp = todo & (code >= OPP_ANY)
        i = np.flatnonzero(is_opp)
        got = deals.sample(rep[i], t[i], code[i] - OPP_ANY, rng.random(len(i)))
        ok = got >= 0
        opp[i[ok]] = got[ok]
        account[i[ok]] = pipe.opp["acc"][got[ok]]
        code[i[~ok]] = tab["fallback"][practice[i[~ok]]].astype(np.int64)
        todo[i[ok]] = False

        for c, recent in ((CUSTOMER, False), (RECENT, True)):
            i = np.flatnonzero(todo & (code == c))
            got = custs.sample(rep[i], t[i], rng.random(len(i)), recent)
            ok = got >= 0
            account[i[ok]] = got[ok]
            code[i[~ok]] = CUSTOMER if recent else NONE
            todo[i[ok]] = False

        for c in (PROSPECT, PROSPECT_ICP):
            i = np.flatnonzero(todo & (code == c))
            r = rep[i]
            q = np.zeros(len(i), dtype=np.int64)
            if c == PROSPECT:
                q = (rng.random(len(i)) >= pipe.icp_share[r]).astype(np.int64)
            cur = pipe.cursor[r, q, t[i]]
            pos = (cur + rng.integers(0, LOOKAHEAD, len(i))) % acc.q_cap[r, q]
            account[i] = acc.q_start[r, q] + pos
            todo[i] = False
        todo &= code != NONE
    return account, opp


def _contacts(
    practice: IntArray, atype: IntArray, rep: IntArray, account: IntArray,
    team: Team, acc: Accounts, rng: np.random.Generator,
) -> IntArray:
    n = len(practice)
    a = np.maximum(account, 0)
    with_contact = (account >= 0) & (rng.random(n) < np.where(atype == TASK, 0.3, 0.92))
    pick_any = acc.con_start[a] + (rng.random(n) * acc.con_n[a]).astype(np.int64)
    exec_prac = np.isin(practice, [practice_index(p) for p in EXEC_PRACTICES])
    relationship = team.skill[rep, practice_index("relationships")]
    want_exec = exec_prac & (rng.random(n) < 0.15 + 0.7 * relationship) & (acc.con_exec[a] > 0)
    pick_exec = acc.con_start[a] + (rng.random(n) * acc.con_exec[a]).astype(np.int64)
    return np.where(with_contact, np.where(want_exec, pick_exec, pick_any), -1)


def _outcomes(atype: IntArray, quality: FloatArray, rng: np.random.Generator) -> pa.Array:
    n = len(atype)
    good = rng.random(n) < 0.1 + 0.4 * quality
    rest = rng.integers(1, 4, n)
    slot = np.where(good, 0, rest)
    flat = [o for ty in range(5) for o in OUTCOMES[ty]]
    idx = np.minimum(atype, 4) * 4 + slot
    values = pick(flat, idx)
    return pc.if_else(pa.array(atype == OTHER), pa.scalar(None, pa.string()), values)


def _nullable_take(values: pa.Array, idx: IntArray) -> pa.Array:
    return values.take(pa.array(np.maximum(idx, 0), mask=idx < 0))


def generate_activities(
    team: Team, acc: Accounts, pipe: Pipeline, opp_ids: pa.Array, cal: Calendar,
    rng: np.random.Generator,
) -> Iterator[tuple[pa.Table, pa.Table, int]]:
    """Yield (activities, truth, reps done) for blocks of ``CHUNK_REPS`` reps, in rep order."""
    tab = _tables()
    deals = _OpenDeals(pipe, cal)
    custs = _Customers(pipe, cal)
    rep_ids = pa.array(team.rep_ids, pa.string())
    window = np.datetime64(cal.window_start, "s")
    next_id = 1
    for r0 in range(0, team.n, CHUNK_REPS):
        hours = team.hours[r0 : r0 + CHUNK_REPS, cal.burn_in :, :]
        counts = rng.poisson(hours * 60.0 / tab["mean"]).ravel()
        c, w, p = hours.shape
        cell = np.repeat(np.arange(c * w * p), counts)
        rep = r0 + cell // (w * p)
        week = (cell // p) % w
        practice = cell % p
        n = len(cell)

        atype = _draw(tab["type_cum"][practice], rng)
        mean = tab["minutes"][practice, atype]
        dur = mean * rng.lognormal(-0.06, 0.35, n)
        dur = np.where(atype == MEETING, np.maximum(15, np.rint(dur / 15) * 15),
                       np.maximum(1, np.rint(dur)))
        weekend = rng.random(n) < np.where((atype == EMAIL) | (atype == SOCIAL), 0.03, 0.0)
        day = np.where(weekend, 5, rng.integers(0, 5, n))
        latest = np.maximum(8 * 60 + 1, 18 * 60 - dur).astype(np.int64)
        minute = rng.integers(8 * 60, latest)
        minute = np.where(atype == MEETING, minute // 30 * 30, minute)
        started = window + ((week * 7 + day) * 86400 + minute * 60).astype("timedelta64[s]")

        order = np.lexsort((practice, started, rep))
        rep, week, practice, atype = rep[order], week[order], practice[order], atype[order]
        dur, started = dur[order], started[order]

        t = week + cal.burn_in
        account, opp = _resolve_targets(practice, rep, t, tab, acc, pipe, deals, custs, rng)
        contact = _contacts(practice, atype, rep, account, team, acc, rng)
        quality = team.skill[rep, practice_index("value_creation")]
        inbound = rng.random(n) < np.where(np.isin(atype, [CALL, EMAIL]), 0.15, 0.0)
        direction = pa.array(np.where(inbound, "inbound", "outbound"), pa.string(),
                             mask=np.isin(atype, [MEETING, TASK, OTHER]))
        tagged = rng.random(n) < team.tag_rate[rep]
        names = pa.array(ALL_PRACTICES, pa.string())
        subject, body = compose_activity_text(
            practice, atype, _nullable_take(acc.contact_first, contact),
            _nullable_take(acc.name, account), rng,
        )
        ids = make_ids("AV", np.arange(next_id, next_id + n), 9)
        next_id += n
        rep_col = rep_ids.take(pa.array(rep))
        activities = pa.table(
            {
                "activity_id": ids,
                "rep_id": rep_col,
                "type": pick(list(ACTIVITY_TYPES), atype),
                "started_at": pa.array(started.astype("datetime64[us]"), pa.timestamp("us")),
                "duration_minutes": pa.array(dur, pa.float64()),
                "subject": subject,
                "body": body,
                "account_id": _nullable_take(acc.ids, account),
                "contact_id": _nullable_take(acc.contact_ids, contact),
                "opportunity_id": _nullable_take(opp_ids, opp),
                "direction": direction,
                "outcome": _outcomes(atype, quality, rng),
                "practice": names.take(pa.array(practice, mask=~tagged)),
            }
        )
        truth = pa.table(
            {"activity_id": ids, "rep_id": rep_col, "practice": names.take(pa.array(practice))}
        )
        yield activities, truth, min(r0 + CHUNK_REPS, team.n)

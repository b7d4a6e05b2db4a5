"""Week-by-week pipeline simulation: behaviour in, opportunities and customers out.

Each week, vectorised over reps and deals:

* new-logo opportunities arrive at Poisson rates set by prospecting, referral,
  social and marketing effort (:mod:`wholejob.demo.response`);
* customers bring expansion opportunities at rates set by account-growth and
  land-and-expand effort, and a renewal opportunity before every anniversary;
* every open deal advances, stalls or is lost with probabilities set by the
  rep's effort and skill in qualification, discovery, the buying and sales
  process, proposals and closing. A deal that is not a real fit is found out
  early by a good qualifier; a bad qualifier carries it to the proposal stage,
  where it dies late;
* won new logos become customers, lost renewals churn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from wholejob.config import DEFAULT_STAGES
from wholejob.demo.accounts import NOT_CUSTOMER, Accounts
from wholejob.demo.profiles import ALL_PRACTICES, BALANCED_HOURS, practice_index
from wholejob.demo.response import NEW_LOGO_SOURCES, icp_share, new_logo_rates, saturation
from wholejob.demo.team import Calendar, Team

__all__ = [
    "KINDS",
    "LOST",
    "SOURCES",
    "STAGES",
    "WON",
    "Pipeline",
    "simulate_pipeline",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

STAGES: tuple[str, ...] = tuple(s.name for s in DEFAULT_STAGES)
WON, LOST = STAGES.index("closed_won"), STAGES.index("closed_lost")
LAST_OPEN = WON - 1  # negotiation
PROPOSAL = STAGES.index("proposal")
KINDS: tuple[str, ...] = ("new_logo", "expansion", "renewal")
SOURCES: tuple[str, ...] = (*NEW_LOGO_SOURCES, "customer")
RENEWAL_LEAD_WEEKS = 8
MAX_OPEN_WEEKS = 40
P = practice_index
_REF = np.array([max(BALANCED_HOURS[p], 0.5) for p in ALL_PRACTICES])
# How much more likely a deal is a real fit, by source (outbound is the baseline).
_FIT_BONUS = np.array([0.0, 0.1, 0.2, 0.05, 0.05, 0.1, 0.0])


class _Table:
    """Columns of equal length that grow by appending rows in blocks."""

    def __init__(self, **dtypes: Any) -> None:
        self.n = 0
        self.cols: dict[str, npt.NDArray[Any]] = {
            k: np.empty(1024, dtype=v) for k, v in dtypes.items()
        }

    def append(self, **values: npt.NDArray[Any]) -> IntArray:
        """Append rows and return their indices."""
        m = len(next(iter(values.values())))
        need = self.n + m
        if need > len(next(iter(self.cols.values()))):
            cap = max(need, 2 * self.n)
            for k, v in self.cols.items():
                grown = np.empty(cap, dtype=v.dtype)
                grown[: self.n] = v[: self.n]
                self.cols[k] = grown
        for k, v in values.items():
            self.cols[k][self.n : need] = v
        idx = np.arange(self.n, need, dtype=np.int64)
        self.n = need
        return idx

    def __getitem__(self, key: str) -> npt.NDArray[Any]:
        return self.cols[key][: self.n]

    def view(self, key: str) -> npt.NDArray[Any]:
        """Return the live column (writes go through) trimmed to the filled rows."""
        return self.cols[key][: self.n]


@dataclass
class Pipeline:
    """Result of the simulation: opportunities, stage events, customers and cursors."""

    opp: dict[str, npt.NDArray[Any]]
    events: dict[str, IntArray]  # opp, stage, t, day: one row per stage entered
    customers: dict[str, npt.NDArray[Any]]  # acc, rep, since_t, acv, active
    account_since_t: IntArray  # per account: week it became a customer
    cursor: IntArray  # (reps, 2, weeks): queue cursor at the start of each week
    icp_share: FloatArray  # (reps,) mean share of self-sourced deals at ICP accounts
    mean_effect: FloatArray  # (reps, practices + other) mean weekly effect, 0..1


def _effects(hours: FloatArray, skill: FloatArray) -> FloatArray:
    """Return the effect (0..1) of every practice for every rep this week."""
    return np.asarray(skill * saturation(hours * 1.2 / _REF, 1.0))


def _group_rank(key: IntArray, n_keys: int) -> IntArray:
    """Return each row's position among the rows with the same key, in row order."""
    order = np.argsort(key, kind="stable")
    counts = np.bincount(key, minlength=n_keys)
    starts = np.cumsum(counts) - counts
    rank = np.empty(len(key), dtype=np.int64)
    rank[order] = np.arange(len(key)) - starts[key[order]]
    return rank


def _pick_per_rep(
    reps: IntArray, pool_rep: IntArray, n_rep: int, rng: np.random.Generator
) -> IntArray:
    """For each requested rep, return the index of a random pool row owned by that rep.

    Reps with no pool rows get -1.
    """
    order = np.argsort(pool_rep, kind="stable")
    counts = np.bincount(pool_rep, minlength=n_rep)
    starts = np.cumsum(counts) - counts
    c = counts[reps]
    off = (rng.random(len(reps)) * np.maximum(c, 1)).astype(np.int64)
    return np.where(c > 0, order[np.minimum(starts[reps] + off, max(len(order) - 1, 0))], -1)


def simulate_pipeline(
    team: Team, accounts: Accounts, cal: Calendar, rng: np.random.Generator
) -> Pipeline:
    """Run the weekly simulation over every simulated week, burn-in included."""
    n_rep, n_t = team.n, cal.total
    opp = _Table(
        rep=np.int64, acc=np.int64, kind=np.int64, source=np.int64, fit=np.bool_,
        amount=np.float64, created_t=np.int64, created_day=np.int64, stage=np.int64,
        closed_t=np.int64, bc=np.int8, lost_reason=np.int64, max_stage=np.int64,
    )
    ev = _Table(opp=np.int64, stage=np.int64, t=np.int64, day=np.int64)
    is_cust = accounts.since_t != NOT_CUSTOMER
    cust = _Table(acc=np.int64, rep=np.int64, since_t=np.int64, acv=np.float64, active=np.bool_)
    init = np.flatnonzero(is_cust)
    cust.append(
        acc=init, rep=accounts.rep[init], since_t=accounts.since_t[init],
        acv=accounts.acv[init], active=np.ones(len(init), dtype=np.bool_),
    )
    acc_since = accounts.since_t.copy()
    acc_cust = np.full(accounts.n, -1, dtype=np.int64)
    acc_cust[init] = np.arange(len(init))
    cursor = np.zeros((n_rep, 2), dtype=np.int64)
    cursor_hist = np.zeros((n_rep, 2, n_t), dtype=np.int64)
    open_idx = np.zeros(0, dtype=np.int64)
    share_sum = np.zeros(n_rep)
    skill = team.skill
    effect_sum = np.zeros_like(skill)

    def new_opps(
        rep: IntArray, acc: IntArray, kind: IntArray, source: IntArray,
        fit: BoolArray, amount: FloatArray, t: int,
    ) -> None:
        m = len(rep)
        if m == 0:
            return
        day = rng.integers(0, 5, m)
        idx = opp.append(
            rep=rep, acc=acc, kind=kind, source=source, fit=fit,
            amount=np.maximum(np.round(amount, -2), 100.0),
            created_t=np.full(m, t), created_day=day, stage=np.zeros(m, dtype=np.int64),
            closed_t=np.full(m, -1), bc=np.full(m, -1, dtype=np.int8),
            lost_reason=np.full(m, -1), max_stage=np.zeros(m, dtype=np.int64),
        )
        ev.append(opp=idx, stage=np.zeros(m, dtype=np.int64), t=np.full(m, t), day=day)
        nonlocal open_idx
        open_idx = np.concatenate([open_idx, idx])

    for t in range(n_t):
        hours = team.hours[:, t, :]
        eff = _effects(hours, skill)
        effect_sum += eff
        cursor_hist[:, :, t] = cursor
        c_acc, c_rep, c_since = cust["acc"], cust["rep"], cust["since_t"]
        c_active = cust["active"] & (c_since <= t)
        n_cust = np.bincount(c_rep[c_active], minlength=n_rep).astype(np.float64)

        # --- new-logo arrivals -------------------------------------------------
        rates = new_logo_rates(hours, skill, n_cust)
        counts = rng.poisson(rates)
        rep = np.repeat(np.tile(np.arange(n_rep)[:, None], (1, rates.shape[1])).ravel(),
                        counts.ravel())
        source = np.repeat(np.tile(np.arange(rates.shape[1]), n_rep), counts.ravel())
        share = icp_share(hours, skill)
        share_sum += share
        self_sourced = np.isin(source, [SOURCES.index(s) for s in ("outbound", "referral",
                                                                   "social")])
        p_icp = np.where(self_sourced, share[rep], 0.5)
        q = (rng.random(len(rep)) >= p_icp).astype(np.int64)  # 0 = ICP queue
        key = rep * 2 + q
        rank = _group_rank(key, 2 * n_rep)
        pos = (cursor[rep, q] + rank) % accounts.q_cap[rep, q]
        acc = accounts.q_start[rep, q] + pos
        np.add.at(cursor, (rep, q), 1)
        tier = accounts.tier[acc]
        already = acc_since[acc] <= t  # a wrapped queue can reach a customer
        kind = np.where(already, KINDS.index("expansion"), 0)
        source = np.where(already, SOURCES.index("customer"), source)
        fit = rng.random(len(rep)) < (0.3 + 0.15 * (tier < 2) + 0.05 * (tier == 0)
                                       + _FIT_BONUS[source])
        mu = np.array([np.log(45_000), np.log(28_000), np.log(15_000)])[tier]
        new_opps(rep, acc, kind, source, fit, rng.lognormal(mu, 0.6), t)

        # --- expansions from customers ----------------------------------------
        ag, le = P("account_growth"), P("land_and_expand")
        recent = c_active & (c_since > t - 52)
        per_cust = 0.004 + 0.02 * saturation(hours[:, ag], 3.0) * (0.5 + skill[:, ag])
        per_recent = 0.03 * saturation(hours[:, le], 1.5) * (0.5 + skill[:, le])
        n_recent = np.bincount(c_rep[recent], minlength=n_rep)
        n_exp = rng.poisson(n_cust * per_cust)
        n_land = rng.poisson(n_recent * per_recent)
        for n_draw, mask, e_col in ((n_exp, c_active, ag), (n_land, recent, le)):
            want = np.repeat(np.arange(n_rep), n_draw)
            pool = np.flatnonzero(mask)
            hit = _pick_per_rep(want, c_rep[pool], n_rep, rng)
            want, ci = want[hit >= 0], pool[hit[hit >= 0]]
            fit = rng.random(len(ci)) < 0.45 + 0.4 * eff[want, e_col]
            amount = cust["acv"][ci] * rng.lognormal(np.log(0.3), 0.4, len(ci))
            new_opps(want, c_acc[ci], np.full(len(ci), KINDS.index("expansion")),
                     np.full(len(ci), SOURCES.index("customer")), fit, amount, t)

        # --- renewals before each anniversary ---------------------------------
        age = t + RENEWAL_LEAD_WEEKS - c_since
        due = np.flatnonzero(cust["active"] & (age > 0) & (age % 52 == 0) & (c_since <= t))
        r_rep = c_rep[due]
        fit = rng.random(len(due)) < 0.5 + 0.45 * eff[r_rep, ag]
        amount = cust["acv"][due] * (1 + rng.uniform(0.0, 0.08, len(due)))
        new_opps(r_rep, c_acc[due], np.full(len(due), KINDS.index("renewal")),
                 np.full(len(due), SOURCES.index("customer")), fit, amount, t)

        # --- progress of deals opened before this week ------------------------
        o = open_idx[opp["created_t"][open_idx] < t]
        if len(o) == 0:
            continue
        stage, r = opp["stage"][o], opp["rep"][o]
        good, kind = opp["fit"][o], opp["kind"][o]
        e = eff[r]
        process = 0.7 + 0.3 * e[:, P("sales_process")]
        qual = e[:, P("qualification")] + 0.3 * e[:, P("customer_understanding")]
        adv_good = np.select(
            [stage == 0, stage == 1, stage == 2, stage == 3],
            [
                0.35 + 0.25 * e[:, P("qualification")] + 0.1 * e[:, P("call_planning")],
                0.25 + 0.25 * e[:, P("customer_understanding")] + 0.15 * e[:, P("insight")],
                0.22 + 0.25 * e[:, P("buying_process")] + 0.15 * e[:, P("relationships")],
                0.18 + 0.35 * e[:, P("proposals")] + 0.1 * e[:, P("buying_process")],
            ],
            0.12 + 0.5 * e[:, P("closing")] + 0.1 * e[:, P("buying_process")],
        ) * process
        lose_good = np.select(
            [stage < 3, stage == 3],
            [np.full(len(o), 0.02), 0.02 + 0.05 * (1 - e[:, P("proposals")])],
            0.03 + 0.1 * (1 - e[:, P("closing")]),
        )
        # A bad fit is found out early by a good qualifier; otherwise it rides on
        # and dies at the proposal or negotiation stage.
        detect = 0.04 + 0.6 * qual
        adv_bad = np.where(stage < 3, 0.3 * process, 0.02 + 0.05 * e[:, P("closing")])
        lose_bad = np.select([stage < 2, stage == 2], [detect, 0.5 * detect], 0.22)
        # Customer deals move faster; new-logo deals need time spent on them.
        pace = np.where(kind != 0, 1.5, 0.65 + 0.6 * e[:, P("new_logos")])
        adv = np.where(good, adv_good, adv_bad) * pace
        lose = np.where(good, lose_good, lose_bad)
        adv = np.minimum(adv, 0.95 - lose)
        u = rng.random(len(o))
        lost = (u < lose) | (t - opp["created_t"][o] > MAX_OPEN_WEEKS)
        moved = ~lost & (u < lose + adv)
        skip = (
            moved & (stage <= 2)
            & (rng.random(len(o)) < 0.15 * (1 - e[:, P("sales_process")]) ** 2)
        )
        new_stage = np.where(lost, LOST, np.where(moved, stage + 1 + skip, stage))
        change = lost | moved
        co, cs = o[change], new_stage[change]
        day = rng.integers(0, 5, len(co))
        ev.append(opp=co, stage=cs, t=np.full(len(co), t), day=day)
        stage_col, max_col = opp.view("stage"), opp.view("max_stage")
        stage_col[co] = cs
        prev_max = max_col[co]
        max_col[co] = np.maximum(prev_max, np.where(cs == LOST, prev_max, cs))
        reached = (max_col[co] >= PROPOSAL) & (prev_max < PROPOSAL) & (cs != LOST)
        bc_col = opp.view("bc")
        rr = opp["rep"][co[reached]]
        bc_col[co[reached]] = rng.random(len(rr)) < 0.15 + 0.8 * eff[rr, P("proposals")]
        closed = (cs == WON) | (cs == LOST)
        opp.view("closed_t")[co[closed]] = t
        late = stage[change][cs == LOST] >= PROPOSAL
        opp.view("lost_reason")[co[cs == LOST]] = np.where(late, 1, 0)
        open_idx = open_idx[~np.isin(open_idx, co[closed])]

        # --- customers change with won and lost deals -------------------------
        won = co[cs == WON]
        w_kind, w_acc = opp["kind"][won], opp["acc"][won]
        land = won[(w_kind == 0) & (acc_since[w_acc] == NOT_CUSTOMER)]
        land_acc, first = np.unique(opp["acc"][land], return_index=True)
        land = land[first]
        if len(land):
            acc_since[land_acc] = t
            ci = cust.append(acc=land_acc, rep=opp["rep"][land], since_t=np.full(len(land), t),
                             acv=opp["amount"][land], active=np.ones(len(land), dtype=np.bool_))
            acc_cust[land_acc] = ci
        ci = acc_cust[w_acc]
        acv = cust.view("acv")
        exp_w = (w_kind == KINDS.index("expansion")) & (ci >= 0)
        np.add.at(acv, ci[exp_w], opp["amount"][won[exp_w]])
        ren_w = (w_kind == KINDS.index("renewal")) & (ci >= 0)
        acv[ci[ren_w]] = opp["amount"][won[ren_w]]
        lost_ren = co[(cs == LOST)]
        lost_ren = lost_ren[opp["kind"][lost_ren] == KINDS.index("renewal")]
        cust.view("active")[acc_cust[opp["acc"][lost_ren]]] = False

    c_order = np.lexsort((cust["since_t"], cust["rep"]))
    return Pipeline(
        opp={k: opp[k].copy() for k in opp.cols},
        events={k: ev[k].copy() for k in ev.cols},
        customers={k: cust[k][c_order].copy() for k in cust.cols},
        account_since_t=acc_since,
        cursor=cursor_hist,
        icp_share=share_sum / n_t,
        mean_effect=effect_sum / n_t,
    )

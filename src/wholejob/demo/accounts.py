"""Accounts and contacts of the demo team: each rep's customers and prospect queues.

Every rep owns a block of accounts: the customers they start with, then a queue
of ICP-fit prospects (tiers A and B) and a queue of non-ICP prospects (tier C).
New-logo opportunities take the next account of a queue, so a prospect gets at
most one new-logo opportunity until its queue wraps, and the accounts just ahead
of the cursor are the ones a rep is prospecting into.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from wholejob.demo.response import NEW_LOGO_SOURCES, icp_share, new_logo_rates
from wholejob.demo.team import Calendar, Team
from wholejob.demo.text import load_phrases, make_ids, pick

__all__ = ["LOOKAHEAD", "NOT_CUSTOMER", "Accounts", "build_accounts"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

LOOKAHEAD = 30  # prospects ahead of a queue cursor that a rep is working on
NOT_CUSTOMER = 1 << 30  # customer-since week of an account that is not a customer
SELF_SOURCED = ("outbound", "referral", "social")


@dataclass(frozen=True)
class Accounts:
    """All accounts (index order = id order) and their contacts."""

    ids: pa.Array
    name: pa.Array
    rep: IntArray
    tier: IntArray  # 0 = A, 1 = B, 2 = C
    industry: IntArray
    employees: IntArray
    revenue: FloatArray
    region: IntArray
    since_t: IntArray  # week an initial customer landed (negative: before the simulation)
    acv: FloatArray  # annual contract value of initial customers, 0 for prospects
    cust_start: IntArray  # per rep: first initial-customer account
    cust_n: IntArray
    q_start: IntArray  # (reps, 2): first account of the ICP and non-ICP queues
    q_cap: IntArray  # (reps, 2): queue lengths
    con_start: IntArray  # per account: first contact
    con_n: IntArray
    con_exec: IntArray  # executives come first within an account's contacts
    contact_ids: pa.Array
    contact_first: pa.Array
    contacts_table: pa.Table

    @property
    def n(self) -> int:
        """Number of accounts."""
        return len(self.rep)


def _queue_caps(team: Team, cal: Calendar, customers: FloatArray) -> IntArray:
    """Size each rep's prospect queues for the opportunities the rep will create."""
    mean_hours = team.hours.mean(axis=1)
    rates = new_logo_rates(mean_hours, team.skill, customers)
    self_cols = [NEW_LOGO_SOURCES.index(s) for s in SELF_SOURCED]
    self_rate = rates[:, self_cols].sum(axis=1)
    other_rate = rates.sum(axis=1) - self_rate
    share = icp_share(mean_hours, team.skill)
    icp = (self_rate * share + other_rate * 0.5) * cal.total
    non = (self_rate * (1 - share) + other_rate * 0.5) * cal.total
    caps = np.stack([icp, non], axis=1) * 1.3 + LOOKAHEAD + 10
    return np.ceil(caps).astype(np.int64)


def build_accounts(team: Team, cal: Calendar, rng: np.random.Generator) -> Accounts:
    """Create every rep's customers and prospect queues, and contacts at each account."""
    ph = load_phrases()
    n_rep = team.n
    cust_n = (2 + rng.poisson(10 * team.customer_book)).astype(np.int64)
    caps = _queue_caps(team, cal, cust_n.astype(np.float64))
    per_rep = cust_n + caps.sum(axis=1)
    rep_start = np.concatenate([[0], np.cumsum(per_rep)[:-1]]).astype(np.int64)
    n = int(per_rep.sum())
    rep = np.repeat(np.arange(n_rep), per_rep)
    pos = np.arange(n) - rep_start[rep]
    # Block within the rep: 0 = initial customer, 1 = ICP queue, 2 = non-ICP queue.
    block = np.where(pos < cust_n[rep], 0, np.where(pos < cust_n[rep] + caps[rep, 0], 1, 2))

    u = rng.random(n)
    tier = np.where(
        block == 0,
        np.where(u < 0.35, 0, np.where(u < 0.8, 1, 2)),
        np.where(block == 1, np.where(u < 0.4, 0, 1), 2),
    ).astype(np.int64)
    n_ind = len(ph.names("industries"))
    # ICP accounts come from the first half of the industry list (the target verticals).
    industry = np.where(
        tier < 2, rng.integers(0, n_ind // 2, n), rng.integers(0, n_ind, n)
    ).astype(np.int64)
    size_mu = np.array([np.log(2000), np.log(400), np.log(60)])[tier]
    employees = np.maximum(5, rng.lognormal(size_mu, 0.5)).astype(np.int64)
    revenue = np.round(employees * rng.lognormal(np.log(180_000), 0.4, n), -3)
    n_reg = len(ph.names("regions"))
    region = np.where(
        rng.random(n) < 0.85, team.region[rep], rng.integers(0, n_reg, n)
    ).astype(np.int64)
    since_t = np.where(block == 0, -rng.integers(1, 156, n), NOT_CUSTOMER).astype(np.int64)
    acv_mu = np.array([np.log(60_000), np.log(35_000), np.log(18_000)])[tier]
    acv = np.where(block == 0, np.round(rng.lognormal(acv_mu, 0.5), -2), 0.0)

    heads, tails = ph.names("account_head"), ph.names("account_tail")
    kinds, legal = ph.names("account_kind"), ph.names("account_legal")
    name = pc.binary_join_element_wise(
        pick(heads, rng.integers(0, len(heads), n)),
        pick(tails, rng.integers(0, len(tails), n)),
        pick(kinds, rng.integers(0, len(kinds), n)),
        pick(legal, rng.integers(0, len(legal), n)),
        "",
    )

    # Contacts: customers know more people than prospects; executives first.
    con_n = np.where(
        block == 0, 3 + rng.poisson(2.5, n), 1 + rng.poisson(np.where(tier < 2, 1.5, 0.8))
    ).astype(np.int64)
    exec_p = np.where(block == 0, 0.5, 0.4)
    con_exec = np.minimum(con_n, (block == 0) + (rng.random(n) < exec_p)).astype(np.int64)
    con_start = np.concatenate([[0], np.cumsum(con_n)[:-1]]).astype(np.int64)
    m = int(con_n.sum())
    con_acc = np.repeat(np.arange(n), con_n)
    con_pos = np.arange(m) - con_start[con_acc]
    seniority = np.where(
        con_pos < con_exec[con_acc], 0, np.where(rng.random(m) < 0.45, 1, 2)
    ).astype(np.int64)
    firsts, lasts = ph.names("first"), ph.names("last")
    first = pick(firsts, rng.integers(0, len(firsts), m))
    full = pc.binary_join_element_wise(first, pick(lasts, rng.integers(0, len(lasts), m)), " ")
    titles = [ph.names(k) for k in ("title_executive", "title_manager", "title_staff")]
    flat_titles = [t for group in titles for t in group]
    t_start = np.cumsum([0, *(len(g) for g in titles[:-1])])
    t_len = np.array([len(g) for g in titles])
    title_idx = t_start[seniority] + (rng.random(m) * t_len[seniority]).astype(np.int64)

    ids = make_ids("AC", np.arange(n) + 1, 7)
    contact_ids = make_ids("CT", np.arange(m) + 1, 8)
    contacts = pa.table(
        {
            "contact_id": contact_ids,
            "account_id": ids.take(pa.array(con_acc)),
            "name": full,
            "title": pick(flat_titles, title_idx),
            "seniority": pick(["executive", "manager", "staff"], seniority),
        }
    )
    q_start = np.stack([rep_start + cust_n, rep_start + cust_n + caps[:, 0]], axis=1)
    return Accounts(
        ids=ids,
        name=name,
        rep=rep,
        tier=tier,
        industry=industry,
        employees=employees,
        revenue=revenue,
        region=region,
        since_t=since_t,
        acv=acv,
        cust_start=rep_start,
        cust_n=cust_n,
        q_start=q_start,
        q_cap=caps,
        con_start=con_start,
        con_n=con_n,
        con_exec=con_exec,
        contact_ids=contact_ids,
        contact_first=first,
        contacts_table=contacts,
    )

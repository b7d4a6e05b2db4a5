"""The shared tables every measure reads, prepared once per scorecard in the engine.

:class:`Inputs` holds three prepared Ibis tables, cached in the engine so the
expensive parts (classification, history windows) run once however many
measures read them:

- ``acts``: every activity up to ``until``, with its practice (``unclassified``
  when nothing recognises it), the account-attribute tags, hours, its week index
  and whether it falls in the period. Activities before ``since`` stay, because
  some measures look back (contacts known, preparation before a meeting).
- ``opps``: every opportunity with its status (from the stage when empty), ICP
  fit, the account's ``customer_since``, the open-stage rank of its stage and
  what its history says (highest open stage reached, stages skipped, close date
  pushes, largest amount, when it first reached proposal).
- ``hist``: opportunity history with each entry's open-stage rank, when the
  next entry came (days in stage) and whether the entry was an advance.

Stage ranks count open stages of the configured ladder from 0; won and lost
stages have no rank. "Proposal or later" means a rank at least that of the
``proposal`` stage (else the second-to-last open stage), "negotiation" the rank
of ``negotiation`` (else the last open stage), "past qualification" a rank above
``qualification`` (else above the first open stage).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir

from wholejob.classification import _icp_fit
from wholejob.config import WorkspaceConfig
from wholejob.effort import UNCLASSIFIED, classified_activities
from wholejob.jobmodel import OTHER, JobModel
from wholejob.measures.period import Period, week_index
from wholejob.workspace import Workspace

__all__ = ["CUSTOMER_FACING", "Inputs", "Ladder", "prepare_inputs"]

# Activity types that reach a customer (tasks and "other" do not).
CUSTOMER_FACING: tuple[str, ...] = ("call", "email", "meeting", "social")


@dataclass(frozen=True)
class Ladder:
    """Open-stage ranks of the configured stage ladder and the ranks measures use."""

    open_rank: dict[str, int]
    proposal: int
    negotiation: int
    qualification: int

    @classmethod
    def from_config(cls, config: WorkspaceConfig) -> Ladder:
        """Derive ranks from the configuration's stage ladder."""
        opens = config.open_stages
        rank = {s: i for i, s in enumerate(opens)}
        last = max(len(opens) - 1, 0)
        return cls(
            open_rank=rank,
            proposal=rank.get("proposal", max(last - 1, 0)),
            negotiation=rank.get("negotiation", last),
            qualification=rank.get("qualification", 0),
        )

    def rank(self, stage: ir.StringValue) -> ir.IntegerValue:
        """Return the open-stage rank of a stage column (NULL for won/lost/unknown)."""
        out: ir.IntegerValue = stage.substitute(self.open_rank, else_=ibis.null("int64"))
        return out


@dataclass
class Inputs:
    """Prepared engine tables and context shared by all measures of one scorecard."""

    ws: Workspace
    model: JobModel
    period: Period
    ladder: Ladder
    acts: ibis.Table
    opps: ibis.Table
    hist: ibis.Table
    has_activities: bool
    has_opportunities: bool
    has_history: bool
    derived: dict[str, ibis.Table] = field(default_factory=dict)
    _cached: list[ibis.Table] = field(default_factory=list)

    def release(self) -> None:
        """Drop the engine-side caches."""
        for t in self._cached:
            # A cache the engine already dropped needs no release.
            with contextlib.suppress(Exception):
                t.release()
        self._cached.clear()

    def cache(self, t: ibis.Table) -> ibis.Table:
        """Materialise a table in the engine and remember to release it."""
        c = t.cache()
        self._cached.append(c)
        return c


def _status(opps: ibis.Table, config: WorkspaceConfig) -> ir.StringValue:
    derived = opps.stage.substitute(config.stage_status(), else_=ibis.null("string"))
    out: ir.StringValue = opps.status.fill_null(derived)
    return out


def _activities(
    ws: Workspace, model: JobModel, period: Period, rep_ids: list[str] | None
) -> ibis.Table:
    # One classification pass gives practice and account tags together.
    a = classified_activities(ws, model, tags=True)
    a = a.rename({f"_tag_{p}": f"tag_{p}" for p in model.account_ids})
    day = a.started_at.date()
    a = a.filter(day <= period.until)
    if rep_ids is not None:
        a = a.filter(a.rep_id.isin(rep_ids))
    practice = a.practice.fill_null(UNCLASSIFIED)
    selling = practice != OTHER
    return a.select(
        "activity_id", "rep_id", "type", "started_at", "account_id", "contact_id",
        "opportunity_id", "direction",
        practice=practice,
        day=day,
        hours=a.duration_minutes.fill_null(0).cast("float64") / 60.0,
        in_period=day >= period.since,
        week=week_index(day, period),
        # Account-attribute practices tag selling time only: `other` at an ICP
        # account is still not selling.
        **{
            f"tag_{p}": (a[f"_tag_{p}"].fill_null(False) & selling) | (practice == p)
            for p in model.account_ids
        },
    )


def _history(ws: Workspace, ladder: Ladder, config: WorkspaceConfig) -> ibis.Table:
    h = ws.table("opportunity_history")
    status = h.stage.substitute(config.stage_status(), else_=ibis.null("string"))
    by_opp = ibis.window(group_by="opportunity_id", order_by=["entered_at", "stage"])
    h = h.mutate(rank=ladder.rank(h.stage), h_status=status)
    h = h.mutate(
        next_entered_at=h.entered_at.lead().over(by_opp),
        prev_rank=h.rank.lag().over(by_opp),
        prev_close=h.close_date.lag().over(by_opp),
        max_rank_before=h.rank.max().over(
            ibis.window(group_by="opportunity_id", order_by=["entered_at", "stage"],
                        rows=(None, -1))
        ),
    )
    return h.mutate(
        # An advance enters a higher open stage than any before, or wins. The
        # first entry is the deal's creation, not an advance.
        is_advance=(h.h_status == "won")
        | (h.rank > h.max_rank_before).fill_null(False),
        is_push=(h.close_date > h.prev_close).fill_null(False),
    )


def _opportunities(
    ws: Workspace, ladder: Ladder, hist: ibis.Table, period: Period, rep_ids: list[str] | None
) -> ibis.Table:
    config = ws.config
    o = ws.table("opportunities")
    if rep_ids is not None:
        o = o.filter(o.owner_id.isin(rep_ids))
    accts = ws.table("accounts")
    acc = accts.select(
        _acc=accts.account_id, icp_fit=_icp_fit(accts, config.icp),
        customer_since=accts.customer_since, icp_tier=accts.icp_tier,
    )
    hk = hist.filter(hist.entered_at.date() <= period.until)
    hagg = hk.group_by(_h_opp=hk.opportunity_id).aggregate(
        h_n=hk.count(),
        h_max_rank=hk.rank.max(),
        h_min_rank=hk.rank.min(),
        h_distinct_ranks=hk.rank.nunique(),
        h_won=(hk.h_status == "won").any(),
        h_proposal_at=hk.entered_at.min(where=hk.rank >= ladder.proposal),
        h_max_amount=hk.amount.max(),
        h_pushes=hk.is_push.cast("int64").sum(),
        h_close_known=hk.close_date.count(),
        h_last_entered=hk.entered_at.max(),
    )
    status = _status(o, config)
    j = o.left_join(acc, o.account_id == acc._acc).left_join(
        hagg, o.opportunity_id == hagg._h_opp
    )
    s, u = period.since, period.until
    j = j.select(
        "opportunity_id", "account_id", "created_on", "close_date", "amount", "stage",
        "kind", "source", "next_step", "next_step_on", "business_case", "icp_fit",
        "customer_since", "icp_tier", "h_n", "h_max_rank", "h_min_rank", "h_distinct_ranks",
        "h_won", "h_proposal_at", "h_max_amount", "h_pushes", "h_close_known",
        "h_last_entered",
        rep_id=o.owner_id,
        status=status,
        cur_rank=ladder.rank(o.stage),
    )
    closed = j.status.isin(["won", "lost"])
    return j.mutate(
        closed_in_period=closed & j.close_date.between(s, u).fill_null(False),
        created_in_period=j.created_on.between(s, u),
        # Open at the end of the period: created by then and either still open
        # or closed only afterwards.
        open_at_end=(j.created_on <= u)
        & ((j.status == "open") | (closed & (j.close_date > u))).fill_null(False),
        # Highest open rank reached, from history when there is any.
        reached_rank=ibis.cases((j.h_n > 0, j.h_max_rank), else_=j.cur_rank),
    )


def prepare_inputs(
    ws: Workspace, model: JobModel, period: Period, rep_ids: list[str] | None = None
) -> Inputs:
    """Prepare and cache the shared tables; ``rep_ids`` limits them to some reps."""
    ladder = Ladder.from_config(ws.config)
    inputs = Inputs(
        ws=ws, model=model, period=period, ladder=ladder,
        acts=ibis.memtable({"x": [1]}), opps=ibis.memtable({"x": [1]}),
        hist=ibis.memtable({"x": [1]}),
        has_activities=False, has_opportunities=False, has_history=False,
    )
    hist = inputs.cache(_history(ws, ladder, ws.config))
    opps = inputs.cache(_opportunities(ws, ladder, hist, period, rep_ids))
    owners = opps.select(_o_opp=opps.opportunity_id, _o_rep=opps.rep_id)
    hist = hist.inner_join(owners, hist.opportunity_id == owners._o_opp).rename(
        rep_id="_o_rep"
    ).drop("_o_opp")
    acts = inputs.cache(_activities(ws, model, period, rep_ids))
    inputs.acts, inputs.opps, inputs.hist = acts, opps, hist
    inputs.has_activities = int(acts.count().execute()) > 0
    inputs.has_opportunities = int(opps.count().execute()) > 0
    inputs.has_history = int(hist.count().execute()) > 0
    return inputs

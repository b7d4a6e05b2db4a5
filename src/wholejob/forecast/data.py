"""As-of snapshots: what the workspace knew on a date, aggregated in the engine.

A :class:`Snapshot` holds NumPy arrays that the forecast model fits on. Every read
is an Ibis expression aggregated where the data lives and only then pulled into
NumPy. A snapshot *as of* date ``D`` uses only what was known at the end of ``D``:

* opportunities created on or before ``D`` (later ones do not exist yet);
* each opportunity's stage and amount from its latest history row entered on or
  before ``D``; an opportunity with no such row is in its current stage if that
  stage is open, or closed before ``D`` by its close date, and otherwise in the
  first open stage;
* activities started on or before ``D``.

Weeks are counted back from ``D``: lookback week 0 is the seven days ending on
``D``, week 1 the seven before, and so on; forecast week ``k`` is the seven days
ending on ``D + 7k``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt

from wholejob.errors import ForecastDataError
from wholejob.portable import epoch_seconds
from wholejob.workspace import Workspace

__all__ = [
    "SEGMENTS",
    "STREAMS",
    "STREAM_PRACTICE",
    "ForecastDataError",
    "Snapshot",
    "actual_bookings",
    "classify_once",
    "first_created_date",
    "last_known_date",
    "load_snapshot",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Where new opportunities come from (the contract's ``source``; "other" when empty).
STREAMS: tuple[str, ...] = (
    "outbound", "referral", "social", "marketing", "inbound", "partner", "customer", "other",
)
# The practice whose hours drive each stream's arrival rate (None: not effort-driven).
STREAM_PRACTICE: dict[str, str | None] = {
    "outbound": "prospecting",
    "referral": "referrals",
    "social": "social_selling",
    "marketing": "marketing_alignment",
    "inbound": None,
    "partner": None,
    "customer": "account_growth",
    "other": None,
}
# Deals to customers (expansions, renewals) move through the ladder differently
# from new-logo deals, so each segment has its own ladder.
SEGMENTS: tuple[str, ...] = ("new", "customer")
_SECONDS_PER_WEEK = 7 * 24 * 3600.0


@dataclass(frozen=True)
class Snapshot:
    """Everything the forecast model fits on, as known at the end of ``as_of``.

    Arrays are indexed by rep (``rep_ids`` order), segment (:data:`SEGMENTS`),
    open stage (``stages[:n_open]``) and stream (:data:`STREAMS`). ``hours`` is
    ``None`` when no rep has activities (effort unknown); otherwise weeks before
    the first activity of the workspace are NaN.
    """

    as_of: date
    rep_ids: list[str]
    teams: list[str | None]
    quota: FloatArray  # (R,) annual bookings quota, NaN when unknown
    stages: list[str]  # open stages in ladder order, then "won", "lost"
    n_open: int
    open_count: FloatArray  # (R, G, S) open deals
    open_amount: FloatArray  # (R, G, S) sum of their amounts
    open_amount_sq: FloatArray  # (R, G, S) sum of squared amounts
    exposure: FloatArray  # (R, G, S) deal-weeks spent in each open stage
    moves: FloatArray  # (R, G, S, S + 2) stage changes: from open stage to any state
    arrivals: FloatArray  # (R, L, C) opportunities created per lookback week and stream
    segment_share: FloatArray  # (C, G) share of each stream's deals in each segment
    created_log_amount: FloatArray  # (C, 2) mean and variance of log amount, created deals
    won_log_amount: FloatArray  # (G, 2) mean and variance of log amount, won deals
    practices: list[str]
    hours: FloatArray | None  # (R, L, P) hours per lookback week and practice
    stage_practices: FloatArray  # (P, S) 1 where a practice drives conversion at a stage
    won_weekly: FloatArray  # (R, L) bookings won per lookback week (NaN before the data)
    won_weekly_sq: FloatArray  # (R, L) sums of squared won amounts per lookback week

    @property
    def lookback_weeks(self) -> int:
        """Number of lookback weeks in ``arrivals`` and ``hours``."""
        return int(self.arrivals.shape[1])

    def rep_index(self, rep_id: str) -> int:
        """Return the position of ``rep_id`` in the snapshot."""
        try:
            return self.rep_ids.index(rep_id)
        except ValueError:
            raise ForecastDataError(f"rep {rep_id!r} is not in this forecast") from None


def _end_of(d: date) -> datetime:
    return datetime.combine(d + timedelta(days=1), time())


def _scalar(expr: ir.Scalar) -> Any:
    """Return a scalar expression's value, None for null (never NaT or NaN)."""
    return expr.to_pyarrow().as_py()


def last_known_date(ws: Workspace) -> date:
    """Return the date of the newest opportunity, stage change or activity."""
    o, h, a = ws.table("opportunities"), ws.table("opportunity_history"), ws.table("activities")
    values = [_scalar(o.created_on.max()), _scalar(h.entered_at.max()),
              _scalar(a.started_at.max())]
    known = [_to_date(v) for v in values if v is not None]
    if not known:
        raise ForecastDataError("the workspace has no opportunities: nothing to forecast")
    return max(known)


def first_created_date(ws: Workspace) -> date | None:
    """Return the creation date of the oldest opportunity (None when there are none)."""
    v = _scalar(ws.table("opportunities").created_on.min())
    return None if v is None else _to_date(v)


def _to_date(v: object) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    raise TypeError(f"not a date: {v!r}")


def select_reps(ws: Workspace, rep: str | None = None, team: str | None = None) -> ir.Table:
    """Return the sellers to forecast: role rep (or empty), optionally one rep or team."""
    r = ws.table("reps")
    if rep is not None:
        out = r.filter(r.rep_id == rep)
        if int(out.count().execute()) == 0:
            raise ForecastDataError(f"no rep with id {rep!r}")
        return out
    r = r.filter(r.role.isnull() | (r.role == "rep"))
    if team is not None:
        r = r.filter(r.team == team)
        if int(r.count().execute()) == 0:
            raise ForecastDataError(f"no reps in team {team!r}")
    return r


def _stage_case(col: ir.StringValue, mapping: dict[str, int], default: int) -> ir.IntegerValue:
    case: ir.IntegerValue = ibis.cases(*((col == k, v) for k, v in mapping.items()),
                                       else_=default)
    return case


def _opps_as_of(ws: Workspace, as_of: date, rep_ids: list[str]) -> ir.Table:
    """Return opportunities known on ``as_of`` with their stage index and amount then."""
    cfg = ws.config
    open_st = cfg.open_stages
    status = cfg.stage_status()
    idx = {s: i for i, s in enumerate(open_st)}
    for s, st in status.items():
        if st != "open":
            idx[s] = len(open_st) + (0 if st == "won" else 1)
    end = ibis.literal(_end_of(as_of))
    o = ws.table("opportunities")
    o = o.filter((o.created_on <= as_of) & o.owner_id.isin(rep_ids))
    h = ws.table("opportunity_history")
    h = h.filter(h.entered_at < end)
    last = h.group_by("opportunity_id").aggregate(
        h_stage=h.stage.argmax(h.entered_at),
        h_amount=h.amount.argmax(h.entered_at),
    )
    j = o.left_join(last, "opportunity_id")
    cur = _stage_case(j.stage, idx, 0)
    closed_before = (cur >= len(open_st)) & j.close_date.notnull() & (j.close_date <= as_of)
    fallback = (cur < len(open_st)) | closed_before
    st = j.h_stage.isnull().ifelse(fallback.ifelse(cur, 0), _stage_case(j.h_stage, idx, 0))
    kind_customer = j.kind.isin(["expansion", "renewal"]) | (j.source == "customer")
    return j.select(
        "opportunity_id",
        rep=j.owner_id,
        stage_i=st,
        seg=kind_customer.ifelse(1, 0),
        stream=j.source.fill_null("other"),
        amount=j.h_amount.fill_null(j.amount).fill_null(0.0),
        created_on=j.created_on,
    )


def _dense(rows: Mapping[str, Sequence[Any]], keys: Sequence[tuple[str, Mapping[Any, int]]],
           value: str, shape: tuple[int, ...]) -> FloatArray:
    out = np.zeros(shape)
    n = len(rows[value])
    if n == 0:
        return out
    idx = []
    keep = np.ones(n, dtype=bool)
    for col, lookup in keys:
        pos = np.array([lookup.get(v, -1) for v in rows[col]], dtype=np.int64)
        keep &= pos >= 0
        idx.append(pos)
    vals = np.asarray(rows[value], dtype=np.float64)
    np.add.at(out, tuple(i[keep] for i in idx), vals[keep])
    return out


def load_snapshot(
    ws: Workspace,
    as_of: date | None = None,
    *,
    rep: str | None = None,
    team: str | None = None,
    lookback_weeks: int = 52,
    ladder_weeks: int = 104,
    activities: ir.Table | None = None,
) -> Snapshot:
    """Read what the workspace knew at the end of ``as_of`` (default: its last date).

    ``activities`` is the workspace's classified activities
    (:func:`wholejob.effort.classified_activities`), for callers that load several
    snapshots of one workspace (a backtest) and classify once; rows after
    ``as_of`` are filtered out here either way.
    """
    as_of = as_of or last_known_date(ws)
    reps = select_reps(ws, rep, team).order_by("rep_id")
    rep_rows = reps.select("rep_id", "team", "quota").to_pyarrow().to_pydict()
    rep_ids: list[str] = rep_rows["rep_id"]
    if not rep_ids:
        raise ForecastDataError("no reps to forecast (no rep with role 'rep')")
    ri = {r: i for i, r in enumerate(rep_ids)}
    cfg = ws.config
    open_st = cfg.open_stages
    n_open, n_rep, n_seg, n_str = len(open_st), len(rep_ids), len(SEGMENTS), len(STREAMS)
    si = {s: i for i, s in enumerate(STREAMS)}
    lit = ibis.literal(as_of)

    opps = _opps_as_of(ws, as_of, rep_ids)
    # Open pipeline on the as-of date.
    op = opps.filter(opps.stage_i < n_open)
    agg = op.group_by(["rep", "seg", "stage_i"]).aggregate(
        n=op.count(), a1=op.amount.sum(), a2=(op.amount * op.amount).sum()
    ).to_pyarrow().to_pydict()
    keys3: list[tuple[str, Mapping[Any, int]]] = [
        ("rep", ri), ("seg", {0: 0, 1: 1}), ("stage_i", {i: i for i in range(n_open)}),
    ]
    shape3 = (n_rep, n_seg, n_open)
    open_count = _dense(agg, keys3, "n", shape3)
    open_amount = _dense(agg, keys3, "a1", shape3)
    open_amount_sq = _dense(agg, keys3, "a2", shape3)

    exposure, moves = _ladder_counts(ws, as_of, opps, ri, n_open, ladder_weeks)

    # Arrivals per rep, lookback week and stream.
    recent = opps.mutate(week=(lit.delta(opps.created_on, unit="day") // 7))
    recent = recent.filter(recent.week < lookback_weeks)
    arr = recent.group_by(["rep", "week", "stream"]).aggregate(n=recent.count())
    arr_rows = arr.to_pyarrow().to_pydict()
    arrivals = _dense(
        arr_rows, [("rep", ri), ("week", {w: w for w in range(lookback_weeks)}), ("stream", si)],
        "n", (n_rep, lookback_weeks, n_str),
    )
    first = first_created_date(ws)
    if first is not None:
        # Weeks before the first opportunity of the workspace are unknown, not empty.
        arrivals[:, (as_of - first).days // 7 + 1:, :] = np.nan
    seg_rows = recent.group_by(["stream", "seg"]).aggregate(n=recent.count()).to_pyarrow()
    seg_counts = _dense(seg_rows.to_pydict(), [("stream", si), ("seg", {0: 0, 1: 1})], "n",
                        (n_str, n_seg))
    # One pseudo-deal: an unseen stream counts as new business, "customer" as customer.
    seg_counts[:, 0] += 1.0
    seg_counts[si["customer"]] += [-1.0, 1.0]
    segment_share = seg_counts / seg_counts.sum(axis=1, keepdims=True)

    created_log_amount = _log_moments(recent.filter(recent.amount > 0), "stream", si, n_str)
    won = opps.filter((opps.stage_i == n_open) & (opps.amount > 0))
    won_log_amount = _log_moments(won, "seg", {0: 0, 1: 1}, n_seg)

    practices, hours = _weekly_hours(ws, as_of, rep_ids, lookback_weeks, activities)
    stage_practices = _stage_practices(ws, practices, open_st)
    won_weekly, won_weekly_sq = _won_weekly(ws, as_of, rep_ids, lookback_weeks)
    nan_weeks = np.isnan(arrivals[0, :, 0]) if n_rep else np.zeros(lookback_weeks, bool)
    won_weekly[:, nan_weeks] = np.nan
    won_weekly_sq[:, nan_weeks] = np.nan
    quota = np.array([np.nan if q is None else float(q) for q in rep_rows["quota"]])
    return Snapshot(
        as_of=as_of, rep_ids=rep_ids, teams=rep_rows["team"], quota=quota,
        stages=[*open_st, "won", "lost"], n_open=n_open,
        open_count=open_count, open_amount=open_amount, open_amount_sq=open_amount_sq,
        exposure=exposure, moves=moves, arrivals=arrivals, segment_share=segment_share,
        created_log_amount=created_log_amount, won_log_amount=won_log_amount,
        practices=practices, hours=hours, stage_practices=stage_practices,
        won_weekly=won_weekly, won_weekly_sq=won_weekly_sq,
    )


def _won_weekly(ws: Workspace, as_of: date, rep_ids: list[str], lookback_weeks: int
                ) -> tuple[FloatArray, FloatArray]:
    """Return bookings and squared amounts won per rep and lookback week, known on ``as_of``."""
    won_stages = [s for s, st in ws.config.stage_status().items() if st == "won"]
    h = ws.table("opportunity_history")
    h = h.filter(h.stage.isin(won_stages) & (h.entered_at < ibis.literal(_end_of(as_of))))
    first_won = h.group_by("opportunity_id").aggregate(
        won_at=h.entered_at.min(), amount=h.amount.argmin(h.entered_at))
    o = ws.table("opportunities").filter(lambda t: t.owner_id.isin(rep_ids))
    j = first_won.inner_join(o.select("opportunity_id", "owner_id", o_amount=o.amount),
                             "opportunity_id")
    j = j.mutate(week=ibis.literal(as_of).delta(j.won_at.date(), unit="day") // 7,
                 a=j.amount.fill_null(j.o_amount))
    j = j.filter(j.week < lookback_weeks)
    rows = j.group_by(["owner_id", "week"]).aggregate(
        b=j.a.sum(), b2=(j.a * j.a).sum()).to_pyarrow().to_pydict()
    keys: list[tuple[str, Mapping[Any, int]]] = [
        ("owner_id", {r: i for i, r in enumerate(rep_ids)}),
        ("week", {w: w for w in range(lookback_weeks)}),
    ]
    shape = (len(rep_ids), lookback_weeks)
    return _dense(rows, keys, "b", shape), _dense(rows, keys, "b2", shape)


def _stage_practices(ws: Workspace, practices: list[str], open_st: list[str]) -> FloatArray:
    """Return which practices drive conversion or velocity at each open stage (job model)."""
    from wholejob.jobmodel import load_job_model

    model = load_job_model(ws.config, source=str(ws.config_path))
    out = np.zeros((len(practices), len(open_st)))
    for i, pid in enumerate(practices):
        drives = model.practices[pid].drives
        if not {"conversion", "velocity"} & set(drives.flows):
            continue
        for s in drives.stages:
            if s in open_st:
                out[i, open_st.index(s)] = 1.0
    return out


def _log_moments(t: ir.Table, key: str, lookup: Mapping[Any, int], n: int) -> FloatArray:
    """Return per-key mean and variance of log amounts, pooled values for thin keys."""
    la = t.amount.ln()
    pooled = t.aggregate(m=la.mean(), v=la.var(), n=t.count()).to_pyarrow().to_pylist()[0]
    pm = pooled["m"] if pooled["m"] is not None else np.log(10_000.0)
    pv = pooled["v"] if pooled["v"] is not None and pooled["n"] > 2 else 0.5
    rows = t.group_by(key).aggregate(m=la.mean(), v=la.var(), n=t.count()).to_pyarrow()
    out = np.tile([pm, pv], (n, 1)).astype(np.float64)
    for r in rows.to_pylist():
        i = lookup.get(r[key], -1)
        if i < 0 or r["n"] < 5:
            continue
        # Shrink towards the pooled moments with ten deals' weight.
        w = r["n"] / (r["n"] + 10.0)
        out[i, 0] = w * r["m"] + (1 - w) * pm
        out[i, 1] = w * (r["v"] or pv) + (1 - w) * pv
    return out


def _ladder_counts(
    ws: Workspace, as_of: date, opps: ir.Table, ri: dict[str, int], n_open: int,
    ladder_weeks: int,
) -> tuple[FloatArray, FloatArray]:
    """Return deal-weeks per open stage and counts of stage changes, as known on ``as_of``."""
    cfg = ws.config
    idx = {s: i for i, s in enumerate(cfg.open_stages)}
    for s, st in cfg.stage_status().items():
        if st != "open":
            idx[s] = n_open + (0 if st == "won" else 1)
    end = _end_of(as_of)
    h = ws.table("opportunity_history")
    h = h.filter(h.entered_at < ibis.literal(end))
    h = h.inner_join(opps.select("opportunity_id", "rep", "seg"), "opportunity_id")
    w = ibis.window(group_by=h.opportunity_id, order_by=[h.entered_at, h.stage])
    spells = h.mutate(
        nxt=h.stage.lead().over(w),
        t0=epoch_seconds(h.entered_at),
        t1=epoch_seconds(h.entered_at.lead().over(w)),
    )
    # Epoch seconds of naive timestamps count them as UTC, as the engines'
    # epoch_seconds do; datetime.timestamp() alone would use the machine's zone.
    horizon_start = (end - timedelta(weeks=ladder_weeks)).replace(tzinfo=UTC).timestamp()
    end_s = end.replace(tzinfo=UTC).timestamp()
    spells = spells.mutate(
        from_i=_stage_case(spells.stage, idx, -1),
        to_i=_stage_case(spells.nxt, idx, -1),
        t1c=spells.t1.fill_null(int(end_s)),
    )
    spells = spells.filter((spells.from_i >= 0) & (spells.from_i < n_open)
                           & (spells.t1c > horizon_start) & (spells.to_i != spells.from_i))
    # Exposure counts only the part of a spell inside the ladder window.
    weeks = (spells.t1c - ibis.greatest(spells.t0, int(horizon_start))) / _SECONDS_PER_WEEK
    g = spells.mutate(weeks=weeks, to_i=spells.nxt.isnull().ifelse(-1, spells.to_i))
    rows = g.group_by(["rep", "seg", "from_i", "to_i"]).aggregate(
        weeks=g.weeks.sum(), n=g.count()
    ).to_pyarrow().to_pydict()
    n_rep = len(ri)
    seg = {0: 0, 1: 1}
    frm = {i: i for i in range(n_open)}
    exposure = _dense(rows, [("rep", ri), ("seg", seg), ("from_i", frm)], "weeks",
                      (n_rep, 2, n_open))
    exposure = np.maximum(exposure, 0.0)
    moved = {k: list(v) for k, v in rows.items()}
    moves = _dense(moved, [("rep", ri), ("seg", seg), ("from_i", frm),
                           ("to_i", {i: i for i in range(n_open + 2)})], "n",
                   (n_rep, 2, n_open, n_open + 2))
    return exposure, moves


def _weekly_hours(
    ws: Workspace, as_of: date, rep_ids: list[str], lookback_weeks: int,
    classified: ir.Table | None = None,
) -> tuple[list[str], FloatArray | None]:
    """Return practice ids and hours per rep, lookback week and practice (None if no data)."""
    from wholejob.effort import classified_activities
    from wholejob.jobmodel import load_job_model

    model = load_job_model(ws.config, source=str(ws.config_path))
    practices = list(model.all_ids)
    acts = ws.table("activities")
    acts = acts.filter(acts.started_at < ibis.literal(_end_of(as_of)))
    first = _scalar(acts.started_at.min())
    if first is None:
        return practices, None
    a = classified if classified is not None else classified_activities(ws, model)
    a = a.filter((a.started_at < ibis.literal(_end_of(as_of))) & a.rep_id.isin(rep_ids))
    lit = ibis.literal(as_of)
    a = a.mutate(week=lit.delta(a.started_at.date(), unit="day") // 7)
    a = a.filter(a.week < lookback_weeks)
    g = a.group_by(["rep_id", "week", "practice"]).aggregate(
        h=(a.duration_minutes.fill_null(0) / 60.0).sum()
    ).to_pyarrow().to_pydict()
    hours = _dense(
        g, [("rep_id", {r: i for i, r in enumerate(rep_ids)}),
            ("week", {w: w for w in range(lookback_weeks)}),
            ("practice", {p: i for i, p in enumerate(practices)})],
        "h", (len(rep_ids), lookback_weeks, len(practices)),
    )
    first_week = (as_of - _to_date(first)).days // 7
    if first_week + 1 < lookback_weeks:
        hours[:, first_week + 1:, :] = np.nan
    return practices, hours


def classify_once(ws: Workspace) -> ir.Table | None:
    """Return the workspace's classified activities for reuse across snapshots (None if none)."""
    from wholejob.effort import classified_activities
    from wholejob.jobmodel import load_job_model

    if _scalar(ws.table("activities").count()) == 0:
        return None
    return classified_activities(ws, load_job_model(ws.config, source=str(ws.config_path)))


def actual_bookings(ws: Workspace, start: date, weeks: int, rep_ids: list[str]) -> FloatArray:
    """Return bookings won per rep in each of ``weeks`` weeks after ``start`` (R, weeks).

    A deal counts in the week its won stage was first entered (its close date when
    it has no history), at its final amount.
    """
    won_stages = [s for s, st in ws.config.stage_status().items() if st == "won"]
    h = ws.table("opportunity_history")
    h = h.filter(h.stage.isin(won_stages))
    first_won = h.group_by("opportunity_id").aggregate(won_at=h.entered_at.min())
    o = ws.table("opportunities")
    o = o.filter(o.stage.isin(won_stages) & o.owner_id.isin(rep_ids))
    j = o.left_join(first_won, "opportunity_id")
    day = j.won_at.date().fill_null(j.close_date)
    j = j.mutate(week=(day.delta(ibis.literal(start), unit="day") - 1) // 7)
    j = j.filter((j.week >= 0) & (j.week < weeks))
    rows = j.group_by(["owner_id", "week"]).aggregate(b=j.amount.sum()).to_pyarrow().to_pydict()
    return _dense(rows, [("owner_id", {r: i for i, r in enumerate(rep_ids)}),
                         ("week", {w: w for w in range(weeks)})], "b", (len(rep_ids), weeks))

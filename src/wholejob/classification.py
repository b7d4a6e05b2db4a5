"""Activity classification: which practice of the job each activity's time belongs to.

The job model's rules compile to one Ibis expression, so classification runs in
the engine where the activities are (DuckDB, Spark, a warehouse), with no Python
per row. Each activity gets one practice:

- ``label`` — the activity's own ``practice`` column names a known practice; it
  wins over everything, with confidence 1.0.
- ``rule`` — the first rule that matches, in :meth:`JobModel.ordered_rules` order
  (priority, then specificity); confidence is the rule's own, else 0.5 plus its
  specificity (capped at 0.95), so narrower rules are trusted more.
- ``unmatched`` — nothing matched; practice and confidence are NULL. A text model
  (:class:`TextClassifier`) can fill these later through :func:`arbitrate`.
- ``model`` — the text model decided: a row no rule matched, where the model is
  at least :data:`MODEL_MIN_CONFIDENCE` sure (below it the model abstains and the
  row stays unmatched), or a row only a *soft* rule matched (phrases alone, or a
  structural fall-back of negative priority), where the model disagrees and is
  at least :data:`MODEL_OVERRIDE_CONFIDENCE` sure. Labels and rules that look at
  the account or the opportunity are never overridden: the model reads only text.

Practices whose effort is an attribute of which account time goes to (ICP focus,
new logos, land and expand) also tag time classified as other practices; see
:func:`tag_account_practices`.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import re
from typing import Any, Protocol

import ibis
import ibis.expr.types as ir

from wholejob.config import IcpRules
from wholejob.jobmodel import JobModel, Rule

__all__ = [
    "LABEL_CONFIDENCE",
    "MODEL_MIN_CONFIDENCE",
    "MODEL_OVERRIDE_CONFIDENCE",
    "MODEL_OVERRIDE_STRUCTURAL",
    "TextClassifier",
    "arbitrate",
    "classify",
    "classify_rules",
    "explain_rules",
    "fill_unmatched",
    "soft_rules",
    "tag_account_practices",
]

LABEL_CONFIDENCE = 1.0
# Below this calibrated probability the text model abstains on a row no rule
# matched (it stays unmatched, counted as ``unclassified``): with 18 classes a
# uniform guess is 0.056, and answers under this level were right less than
# half the time on the development set (tests/fixtures/classification_dev.csv).
MODEL_MIN_CONFIDENCE = 0.30
# A soft rule (phrases only, or a fall-back on structure) gives way to the text
# model when the model picks another practice with at least this probability.
# Phrase rules are right about 80% of the time on held-out text; the model's
# confident answers where they disagree are right more often (see
# docs/classification.md, "Arbitration").
MODEL_OVERRIDE_CONFIDENCE = 0.60
# A rule that also reads the account or the opportunity (stage, kind, source)
# gives way only to a nearly certain model: its structure is evidence the text
# lacks, but a stage says only what work is typical, not what this activity was.
MODEL_OVERRIDE_STRUCTURAL = 0.90
# Conditions that look only at the activity itself; a rule made of these alone
# knows nothing the text model does not, so a confident model may override it.
_TEXT_CONDITIONS = frozenset({"phrases", "types", "direction"})
# The end of the latest stage-history entry: later than any activity.
_NO_END = dt.datetime(9999, 12, 31, 23, 59, 59)


class TextClassifier(Protocol):
    """A statistical model that predicts a practice from an activity's text."""

    def predict(self, activities: ibis.Table) -> ibis.Table:
        """Return ``activity_id``, ``practice`` and ``confidence`` for the given activities."""
        ...


def _uses(model: JobModel, condition: str, *, criteria: bool = False) -> bool:
    rules: list[Rule] = [r for _, r in model.ordered_rules()]
    if criteria:
        rules += [c for pid in model.account_ids for c in model.practices[pid].enabled_criteria]
    return any(getattr(r, condition) not in (None, ()) for r in rules)


def _icp_fit(accounts: ibis.Table, icp: IcpRules | None) -> ir.BooleanValue:
    """Whether each account fits the ICP: its given tier, else every rule that is set."""
    icp = icp or IcpRules()
    parts: list[ir.BooleanValue] = []
    if icp.industries:
        parts.append(accounts.industry.lower().isin([i.lower() for i in icp.industries]))
    if icp.regions:
        parts.append(accounts.region.lower().isin([r.lower() for r in icp.regions]))
    if icp.min_employees is not None:
        parts.append(accounts.employees >= icp.min_employees)
    if icp.max_employees is not None:
        parts.append(accounts.employees <= icp.max_employees)
    if icp.min_annual_revenue is not None:
        parts.append(accounts.annual_revenue >= icp.min_annual_revenue)
    # With no rules and no tier, fit is unknown (NULL), not "everyone fits".
    by_rules = functools.reduce(operator.and_, parts) if parts else ibis.null("boolean")
    return ibis.cases(
        (accounts.icp_tier.notnull(), accounts.icp_tier.isin(list(icp.fit_tiers))),
        else_=by_rules,
    )


def _features(
    activities: ibis.Table,
    accounts: ibis.Table,
    opportunities: ibis.Table,
    model: JobModel,
    stage_status: dict[str, str],
    *,
    history: ibis.Table | None,
    icp: IcpRules | None,
) -> ibis.Table:
    """Join each activity to what the rules look at, as underscore-prefixed columns."""
    a = activities
    base = a.select(
        activity_id=a.activity_id,
        _label=a.practice,
        _type=a.type,
        _direction=a.direction,
        _account_id=a.account_id,
        _opportunity_id=a.opportunity_id,
        _started_at=a.started_at,
        _day=a.started_at.date(),
        _text=(a.subject.fill_null("") + " " + a.body.fill_null("")).lower(),
    )
    acc = accounts.select(
        _acc_key=accounts.account_id,
        _customer_since=accounts.customer_since,
        _icp_fit=_icp_fit(accounts, icp),
    )
    opp = opportunities
    status = opp.status.fill_null(
        opp.stage.substitute(stage_status, else_=ibis.null("string"))
    )
    opps = opp.select(
        _opp_key=opp.opportunity_id,
        _current_stage=opp.stage,
        _kind=opp.kind,
        _source=opp.source,
        _status=status,
        _close_date=opp.close_date,
    )
    f = base.left_join(acc, base._account_id == acc._acc_key).left_join(
        opps, base._opportunity_id == opps._opp_key
    )
    f = f.drop("_acc_key", "_opp_key")
    if history is not None and _uses(model, "stages", criteria=True):
        # Each history entry holds from its time until the next entry of the same
        # opportunity: the activity falls in at most one such interval, so one
        # equi-join (with range conditions) on the small history table gives the
        # stage, with no join of every activity to all earlier entries and no
        # window over the activities. Entries of the same time are ordered by
        # stage name (NULL lowest); all but the last get an empty interval, so the
        # greatest stage wins. The last entry holds until _NO_END.
        h0 = history.filter(history.opportunity_id.notnull() & history.entered_at.notnull())
        h = h0.select(
            _h_opp=h0.opportunity_id,
            _stage_at=h0.stage,
            _h_from=h0.entered_at,
            _h_to=h0.entered_at.lead().over(
                group_by=h0.opportunity_id,
                order_by=[h0.entered_at, h0.stage.fill_null("")],
            ).fill_null(ibis.literal(_NO_END).cast(h0.entered_at.type())),
        )
        f = f.left_join(
            h,
            [
                f._opportunity_id == h._h_opp,
                h._h_from <= f._started_at,
                f._started_at < h._h_to,
            ],
        ).drop("_h_opp", "_h_from", "_h_to")
        f = f.mutate(_stage=f._stage_at.fill_null(f._current_stage)).drop("_stage_at")
    else:
        f = f.mutate(_stage=f._current_stage)
    if _uses(model, "account_open_opportunity", criteria=True):
        o = opportunities.select(
            _o_acc=opportunities.account_id,
            _o_created=opportunities.created_on,
            _o_close=opportunities.close_date,
            _o_status=status,
        )
        # Whether an account had an open opportunity depends only on the account
        # and the day: join the distinct (account, day) pairs, not every activity.
        days = (
            base.select("_account_id", "_day")
            .filter(lambda t: t._account_id.notnull() & t._day.notnull())
            .distinct()
        )
        open_then = (
            days.join(
                o,
                [
                    days._account_id == o._o_acc,
                    o._o_created <= days._day,
                    (o._o_status == "open") | o._o_close.isnull() | (o._o_close >= days._day),
                ],
            )
            .select(_ao_acc="_account_id", _ao_day="_day")
            .distinct()
            .mutate(_acct_open=ibis.literal(True))
        )
        f = f.left_join(
            open_then,
            [f._account_id == open_then._ao_acc, f._day == open_then._ao_day],
        ).drop("_ao_acc", "_ao_day")
        f = f.mutate(_acct_open=f._acct_open.fill_null(False))
    else:
        f = f.mutate(_acct_open=ibis.literal(False))
    return f.mutate(
        _is_customer=f._customer_since.notnull() & (f._customer_since <= f._day),
        _customer_days=f._day.delta(f._customer_since, unit="day"),
        # The linked opportunity was open when the activity happened: still open,
        # or closed on or after that day.
        _opp_open=f._status.notnull()
        & ((f._status == "open") | f._close_date.isnull() | (f._close_date >= f._day)),
    )


def _rule_parts(rule: Rule, f: ibis.Table) -> dict[str, ir.BooleanValue]:
    """Compile each condition of a rule to a boolean expression over the features."""
    parts: dict[str, ir.BooleanValue] = {}
    if rule.types:
        parts["types"] = f._type.isin(list(rule.types))
    if rule.direction is not None:
        parts["direction"] = f._direction == rule.direction
    if rule.pattern is not None:
        parts["phrases"] = f._text.re_search(rule.pattern)
    if rule.stages:
        parts["stages"] = f._stage.isin(list(rule.stages))
    if rule.kinds:
        parts["kinds"] = f._kind.isin(list(rule.kinds))
    if rule.sources:
        parts["sources"] = f._source.isin(list(rule.sources))
    if rule.account == "customer":
        parts["account"] = f._is_customer
    elif rule.account == "prospect":
        parts["account"] = f._account_id.notnull() & ~f._is_customer
    if rule.open_opportunity is not None:
        parts["open_opportunity"] = (
            f._opp_open if rule.open_opportunity else ~f._opp_open.fill_null(False)
        )
    if rule.account_open_opportunity is not None:
        parts["account_open_opportunity"] = (
            f._acct_open if rule.account_open_opportunity else ~f._acct_open
        )
    if rule.recent_customer_days is not None:
        parts["recent_customer_days"] = f._is_customer & f._customer_days.between(
            0, rule.recent_customer_days
        )
    if rule.icp_fit is not None:
        parts["icp_fit"] = f._icp_fit == rule.icp_fit
    return {k: v.fill_null(False) for k, v in parts.items()}


def _rule_condition(rule: Rule, f: ibis.Table) -> ir.BooleanValue:
    """All of a rule's conditions, the phrase regex last.

    An engine that evaluates AND left to right on the rows still in play (DuckDB
    in a CASE does) then runs the costly regex only on rows that pass the cheap
    conditions; the result is the same in any order.
    """
    parts = _rule_parts(rule, f)
    phrases = parts.pop("phrases", None)
    conds = [*parts.values(), *([phrases] if phrases is not None else [])]
    result: ir.BooleanValue = functools.reduce(operator.and_, conds)
    return result


def _tag_columns(f: ibis.Table, model: JobModel) -> dict[str, ir.BooleanValue]:
    """Return one boolean per account-attribute practice: any of its criteria holds."""
    cols: dict[str, ir.BooleanValue] = {}
    for pid in model.account_ids:
        conds = [_rule_condition(c, f) for c in model.practices[pid].enabled_criteria]
        cols[pid] = functools.reduce(operator.or_, conds)
    return cols


def soft_rules(model: JobModel) -> list[str]:
    """Return the ids (``practice.rule``) of rules a confident text model may override.

    Soft rules look only at the activity's own text, type and direction, or are
    structural fall-backs (negative priority); a rule that checks the account,
    the opportunity's stage, kind or source knows something the text does not.
    """
    return [
        f"{pid}.{r.id}" for pid, r in model.ordered_rules()
        if r.priority < 0 or set(r.conditions) <= _TEXT_CONDITIONS
    ]


# Up to this many phrase rules are tried one after another in a plain CASE; a
# longer list is split in two behind a gate (at least 1, so each half is
# shorter). Three and four gave the fewest regex scans per row on the 1 M test
# workspace: about 5 instead of 9 with no gate.
_GATE_LEAF = 3


def _gate(f: ibis.Table, rules: list[tuple[int, Rule]]) -> ir.BooleanValue:
    """A condition that holds wherever any of these rules does, at one regex scan.

    Every phrase rule needs its regex found, so one regex of all their phrases
    (RE2 runs it as one DFA, about the cost of one rule's) stands for them;
    rules without phrases are cheap and join the OR as they are, first, so the
    regex runs only where none of them holds.
    """
    cheap = [_rule_condition(r, f) for _, r in rules if r.pattern is None]
    pattern = "|".join(f"(?:{r.pattern})" for _, r in rules if r.pattern is not None)
    found = f._text.re_search(pattern).fill_null(False)
    result: ir.BooleanValue = functools.reduce(operator.or_, [*cheap, found])
    return result


def _first_rule(f: ibis.Table, rules: list[tuple[int, Rule]]) -> ir.IntegerValue:
    """The index of the first of ``rules`` (index, rule) that holds, else NULL.

    Most rows match one or two phrase rules after failing a dozen others, and a
    regex costs about the same to scan whatever its number of alternatives. So
    the list is halved: the first half is tried only where its :func:`_gate`
    holds, else the row goes straight to the second half; each half again. A
    row so costs a few scans down the tree, not one per rule. A gate holds
    wherever a rule behind it does, so the first rule that holds is the same as
    in a plain CASE; the COALESCE tries the second half only where the first
    gave nothing (DuckDB evaluates it lazily) and, unlike a nested CASE, needs
    each rule's condition written only once.
    """
    phrased = [j for j, (_, r) in enumerate(rules) if r.pattern is not None]
    if len(phrased) <= _GATE_LEAF:
        return ibis.cases(*[(_rule_condition(r, f), i) for i, r in rules],
                          else_=ibis.null("int64"))
    # Halve the regexes, not the rules: rules without phrases cost next to nothing.
    half = phrased[len(phrased) // 2 - 1] + 1
    first, second = rules[:half], rules[half:]
    tried = ibis.cases((_gate(f, first), _first_rule(f, first)), else_=ibis.null("int64"))
    return ibis.coalesce(tried, _first_rule(f, second))


def _classified(f: ibis.Table, model: JobModel, *, tags: bool = False) -> ibis.Table:
    rules = model.ordered_rules()
    is_label = f._label.isin(model.all_ids).fill_null(False)
    # One expression picks the winning rule's index; the outputs are looked up
    # from it, so each rule's regex runs at most once per row.
    idx = ibis.cases(
        (is_label, 0),
        else_=_first_rule(f, [(i + 1, r) for i, (_, r) in enumerate(rules)]).fill_null(-1),
    )
    t = f.mutate(_idx=idx)
    practice_of = {i + 1: pid for i, (pid, _) in enumerate(rules)}
    confidence_of = {i + 1: r.effective_confidence for i, (_, r) in enumerate(rules)}
    rule_of = {i + 1: f"{pid}.{r.id}" for i, (pid, r) in enumerate(rules)}
    return t.select(
        activity_id=t.activity_id,
        practice=ibis.cases(
            (t._idx == 0, t._label),
            else_=t._idx.substitute(practice_of, else_=ibis.null("string")),
        ),
        confidence=ibis.cases(
            (t._idx == 0, ibis.literal(LABEL_CONFIDENCE)),
            else_=t._idx.substitute(confidence_of, else_=ibis.null("float64")),
        ).cast("float64"),
        method=ibis.cases(
            (t._idx == 0, "label"), (t._idx > 0, "rule"), else_="unmatched"
        ),
        rule=ibis.cases(
            (t._idx == 0, ibis.literal("label")),
            else_=t._idx.substitute(rule_of, else_=ibis.null("string")),
        ),
        **({f"tag_{p}": c for p, c in _tag_columns(t, model).items()} if tags else {}),
    )


def classify_rules(
    activities: ibis.Table,
    accounts: ibis.Table,
    opportunities: ibis.Table,
    model: JobModel,
    stage_status: dict[str, str],
    *,
    history: ibis.Table | None = None,
    icp: IcpRules | None = None,
    tags: bool = False,
) -> ibis.Table:
    """Classify activities by explicit label and the job model's rules, in the engine.

    Returns one row per activity: ``activity_id``, ``practice``, ``confidence``,
    ``method`` (label | rule | unmatched) and ``rule`` (``practice.rule_id`` that
    fired, ``label``, or NULL); with ``tags``, also ``tag_<practice>`` for each
    account-attribute practice (as :func:`tag_account_practices` gives them, from
    the same joins, so one pass yields both). ``stage_status`` maps stage names to open, won or
    lost (for opportunities whose status is empty). With ``history``
    (opportunity_history), stage conditions use the stage the opportunity was in
    when the activity happened instead of its current stage (the latest entry at or
    before its start; of entries of the same time, the greatest stage name). ``icp`` gives the ICP
    rules for ``icp_fit`` conditions.
    """
    f = _features(
        activities, accounts, opportunities, model, stage_status, history=history, icp=icp
    )
    return _classified(f, model, tags=tags)


def arbitrate(
    classified: ibis.Table,
    activities: ibis.Table,
    text_model: TextClassifier,
    *,
    soft: list[str] | tuple[str, ...] = (),
    min_confidence: float = MODEL_MIN_CONFIDENCE,
    override_confidence: float = MODEL_OVERRIDE_CONFIDENCE,
    structural_confidence: float | None = MODEL_OVERRIDE_STRUCTURAL,
) -> ibis.Table:
    """Let the text model decide what rules leave open, and overrule rules it doubts.

    An unmatched row takes the model's answer when its confidence is at least
    ``min_confidence``. A row decided by a rule in ``soft`` (ids as
    :func:`soft_rules` gives them) takes it when the model names another
    practice with at least ``override_confidence``; a row decided by any other
    rule, with at least ``structural_confidence`` (``None``: never). Labels
    always stand. The method becomes ``model`` and ``rule`` says ``model`` (or
    ``model>practice.rule`` for an override). Other columns of ``classified``
    (such as account tags) pass through. Only rows that could change are sent
    to the model.
    """
    is_soft = classified.rule.isin(list(soft)) if soft else ibis.literal(False)
    open_ = (classified.method == "unmatched") | ((classified.method == "rule") & is_soft)
    if structural_confidence is not None:
        open_ = classified.method != "label"
    todo = activities.semi_join(
        classified.filter(open_), activities.activity_id == classified.activity_id
    )
    pred = text_model.predict(todo)
    pred = pred.select(
        _p_id=pred.activity_id, _p_practice=pred.practice,
        _p_conf=pred.confidence.cast("float64"),
    )
    j = classified.left_join(pred, classified.activity_id == pred._p_id)
    fill = (j.method == "unmatched") & (j._p_conf >= min_confidence).fill_null(False)
    soft_j = j.rule.isin(list(soft)) if soft else ibis.literal(False)
    bar = ibis.cases(
        (soft_j, override_confidence),
        else_=structural_confidence if structural_confidence is not None else 2.0,
    )
    over = (
        (j.method == "rule")
        & (j._p_conf >= bar).fill_null(False)
        & (j._p_practice != j.practice).fill_null(False)
    )
    use = fill | over
    extra = [c for c in classified.columns
             if c not in ("activity_id", "practice", "confidence", "method", "rule")]
    return j.select(
        activity_id=j.activity_id,
        practice=ibis.cases((use, j._p_practice), else_=j.practice),
        confidence=ibis.cases((use, j._p_conf), else_=j.confidence),
        method=ibis.cases((use, ibis.literal("model")), else_=j.method),
        rule=ibis.cases(
            (fill, ibis.literal("model")), (over, "model>" + j.rule), else_=j.rule
        ),
        **{c: j[c] for c in extra},
    )


def fill_unmatched(
    classified: ibis.Table,
    activities: ibis.Table,
    text_model: TextClassifier,
    *,
    min_confidence: float = 0.0,
) -> ibis.Table:
    """Fill unmatched rows with a text model's predictions (method ``model``).

    Rows already labelled or matched by a rule keep their answer; predictions below
    ``min_confidence`` leave a row unmatched. :func:`arbitrate` with no soft rules.
    """
    return arbitrate(classified, activities, text_model, min_confidence=min_confidence,
                     structural_confidence=None)


def classify(
    activities: ibis.Table,
    accounts: ibis.Table,
    opportunities: ibis.Table,
    model: JobModel,
    stage_status: dict[str, str],
    *,
    history: ibis.Table | None = None,
    icp: IcpRules | None = None,
    text_model: TextClassifier | None = None,
    tags: bool = False,
) -> ibis.Table:
    """Classify activities: labels and rules, then the text model (see :func:`arbitrate`)."""
    out = classify_rules(
        activities, accounts, opportunities, model, stage_status, history=history, icp=icp,
        tags=tags,
    )
    if text_model is not None:
        out = arbitrate(out, activities, text_model, soft=soft_rules(model))
    return out


def tag_account_practices(
    activities: ibis.Table,
    accounts: ibis.Table,
    opportunities: ibis.Table,
    model: JobModel,
    stage_status: dict[str, str],
    *,
    history: ibis.Table | None = None,
    icp: IcpRules | None = None,
) -> ibis.Table:
    """Tag each activity with the account-attribute practices its time also counts for.

    Returns ``activity_id`` and one boolean column per practice with effort
    ``account`` (icp_focus, new_logos, land_and_expand by default): true when any
    of the practice's criteria holds. These overlap the activity's own practice.
    """
    f = _features(
        activities, accounts, opportunities, model, stage_status, history=history, icp=icp
    )
    cols: dict[str, Any] = _tag_columns(f, model)
    return f.select("activity_id", **cols)


def explain_rules(
    activity_id: str,
    activities: ibis.Table,
    accounts: ibis.Table,
    opportunities: ibis.Table,
    model: JobModel,
    stage_status: dict[str, str],
    *,
    history: ibis.Table | None = None,
    icp: IcpRules | None = None,
) -> dict[str, Any]:
    """Explain one activity's classification: its features and every rule's verdict.

    Returns ``activity_id``, ``practice``, ``confidence``, ``method``, ``rule`` (as
    :func:`classify_rules` gives them), ``features`` (what the rules looked at) and
    ``rules``: each rule in the order tried with ``matched``, its conditions'
    results and the phrases found. Raises ``KeyError`` for an unknown activity.
    """
    one = activities.filter(activities.activity_id == activity_id)
    f = _features(one, accounts, opportunities, model, stage_status, history=history, icp=icp)
    rules = model.ordered_rules()
    checks: dict[str, Any] = {}
    for i, (_, r) in enumerate(rules):
        for name, expr in _rule_parts(r, f).items():
            checks[f"_c{i}_{name}"] = expr
    feature_cols = ["_label", "_type", "_direction", "_account_id", "_opportunity_id",
                    "_text", "_stage", "_kind", "_source", "_status", "_opp_open",
                    "_is_customer", "_customer_days", "_acct_open", "_icp_fit"]
    row_t = f.select(*feature_cols, **checks)
    rows = row_t.to_pyarrow().to_pylist()
    if not rows:
        raise KeyError(activity_id)
    row = rows[0]
    result = classify_rules(
        one, accounts, opportunities, model, stage_status, history=history, icp=icp
    ).to_pyarrow().to_pylist()[0]
    verdicts = []
    for i, (pid, r) in enumerate(rules):
        conds = {k.split("_", 2)[2]: bool(v) for k, v in row.items() if k.startswith(f"_c{i}_")}
        text = row["_text"] or ""
        found = [p for p in r.phrases if re.search(p, text)]
        verdicts.append({
            "practice": pid, "rule": r.id, "priority": r.priority,
            "specificity": r.specificity, "confidence": r.effective_confidence,
            "matched": all(conds.values()), "conditions": conds, "phrases_found": found,
        })
    features = {k.lstrip("_"): v for k, v in row.items() if k in feature_cols}
    return {**result, "features": features, "rules": verdicts}

"""Practice assignment for a workspace: labels, then rules, then the text model.

Every activity gets one practice (or ``other``) with a confidence and the method
that decided it: ``label`` (the activity's own ``practice`` column), ``rule``
(the first job-model rule that matches, see :mod:`wholejob.classification`) or
``model`` (the text model of :mod:`wholejob.textmodel`, for what no rule
recognises and where it confidently overrules a soft rule; see
:func:`wholejob.classification.arbitrate`). A row the model is unsure of stays
``unmatched``. The result stays an engine table, so measures downstream keep
running where the data is; effort and every measure read it through
:func:`wholejob.effort.classified_activities`.
"""

from __future__ import annotations

from typing import Any

import ibis

from wholejob.classification import (
    MODEL_MIN_CONFIDENCE,
    MODEL_OVERRIDE_CONFIDENCE,
    MODEL_OVERRIDE_STRUCTURAL,
    TextClassifier,
    arbitrate,
    classify_rules,
    explain_rules,
    soft_rules,
)
from wholejob.classification_cache import ClassificationCache
from wholejob.errors import WholejobError
from wholejob.jobmodel import JobModel, load_job_model
from wholejob.textmodel import (
    KNOWN_SHARE_FULL,
    TextModel,
    activity_text,
    workspace_text_model,
)
from wholejob.workspace import Workspace

__all__ = ["METHODS", "classify_workspace", "explain_activity"]

METHODS: tuple[str, ...] = ("label", "rule", "model", "unmatched")


def _model(ws: Workspace, model: JobModel | None) -> JobModel:
    return model or load_job_model(ws.config, source=str(ws.config_path))


def _rules(
    ws: Workspace, activities: ibis.Table, model: JobModel, *, tags: bool = False
) -> ibis.Table:
    return classify_rules(
        activities,
        ws.table("accounts"),
        ws.table("opportunities"),
        model,
        ws.config.stage_status(),
        history=ws.table("opportunity_history"),
        icp=ws.config.icp,
        tags=tags,
    )


def classify_workspace(
    ws: Workspace,
    model: JobModel | None = None,
    *,
    text_model: TextClassifier | None = None,
    rep_id: str | None = None,
    use_text_model: bool = True,
    tags: bool = False,
) -> ibis.Table:
    """Return each activity's practice, confidence, method and rule as an engine table.

    Columns: ``activity_id``, ``practice``, ``confidence``, ``method`` (label |
    rule | model | unmatched) and ``rule`` (``practice.rule_id``, ``label``,
    ``model`` or ``model>practice.rule_id`` where the model overruled a soft
    rule); with ``tags``, also ``tag_<practice>`` per account-attribute practice
    (from the same pass). ``text_model`` defaults to the workspace's own
    (:func:`~wholejob.textmodel.workspace_text_model`); ``use_text_model=False``
    gives the rules alone. ``rep_id`` limits the result to one rep's
    activities. The rule pass and the final answer are each materialised once in
    a temporary table, so the rules' regexes and the model run once however
    often the result is queried on this connection. The whole workspace's
    classification by its own text model is kept in ``cache/`` and read back
    while nothing it depends on has changed
    (:mod:`wholejob.classification_cache`).
    """
    model = _model(ws, model)
    acts = ws.table("activities")
    if rep_id is not None:
        acts = acts.filter(acts.rep_id == rep_id)
    cache = None
    if rep_id is None and text_model is None and use_text_model:
        cache = ClassificationCache.for_workspace(ws, model, tags=tags)
        hit = cache.load() if cache is not None else None
        if hit is not None:
            return hit
    rules = ws.engine.materialize(_rules(ws, acts, model, tags=tags))
    if not use_text_model:
        return rules
    if text_model is None:
        text_model = workspace_text_model(ws, model)
    out = ws.engine.materialize(arbitrate(rules, acts, text_model, soft=soft_rules(model)))
    # The rule pass's table is no longer read: without this it would stay in the
    # engine's memory as long as the answer does (Ibis keeps it for re-caching).
    ws.engine.release(rules)
    if cache is not None:
        cache.save(out)
    return out


def explain_activity(
    ws: Workspace,
    activity_id: str,
    model: JobModel | None = None,
    *,
    text_model: TextModel | None = None,
    top: int = 3,
) -> dict[str, Any]:
    """Explain why one activity got its practice: its features, every rule, the model.

    Returns what :func:`wholejob.classification.explain_rules` gives (features
    and each rule's verdict) with ``practice``, ``confidence``, ``method`` and
    ``rule`` updated to the final answer, the ``text`` the model reads and
    ``model``: the text model's ``top`` practices with probabilities and the
    n-grams that pushed it towards its choice (given even when a label or rule
    decided, for comparison). Raises :class:`WholejobError` for an unknown id.
    """
    model = _model(ws, model)
    acts = ws.table("activities")
    try:
        out = explain_rules(
            activity_id, acts, ws.table("accounts"), ws.table("opportunities"), model,
            ws.config.stage_status(), history=ws.table("opportunity_history"),
            icp=ws.config.icp,
        )
    except KeyError:
        raise WholejobError(f"no activity {activity_id!r} in {ws.path}") from None
    one = acts.filter(acts.activity_id == activity_id)
    text = one.select(t=activity_text(one)).to_pyarrow().column("t")[0].as_py() or ""
    tm = text_model or workspace_text_model(ws, model)
    clf = tm.classifier
    proba = clf.predict_proba([text])[0]
    order = proba.argsort()[::-1][:top]
    best = str(clf.classes_[order[0]])
    out["text"] = text
    out["model"] = {
        "top": [{"practice": str(clf.classes_[i]), "probability": round(float(proba[i]), 4)}
                for i in order],
        "evidence": [{"ngram": g, "weight": w} for g, w in clf.top_features(text, best)],
    }
    # The same cap the batched prediction applies to text the model barely knows.
    conf = min(float(proba[order[0]]), float(clf.known_share([text])[0]) / KNOWN_SHARE_FULL)
    if out["method"] == "unmatched" and conf >= MODEL_MIN_CONFIDENCE:
        out.update(practice=best, confidence=round(conf, 4), method="model", rule="model")
    elif out["method"] == "rule" and best != out["practice"] and conf >= (
        MODEL_OVERRIDE_CONFIDENCE if out["rule"] in soft_rules(model)
        else MODEL_OVERRIDE_STRUCTURAL
    ):
        out.update(practice=best, confidence=round(conf, 4), method="model",
                   rule=f"model>{out['rule']}")
    return out

"""Classification accuracy: the full pipeline (rules, then text model) against known answers.

Two yardsticks:

- the packaged **evaluation set** (``wholejob/data/classification_eval.csv``):
  activities written apart from the training phrases, the way reps type them
  (abbreviations, typos, terse CRM subjects), each with its true practice. They
  are loaded as activities into an in-memory DuckDB, so the rules run exactly as
  in production; the text model is the packaged one (job-model phrases only).
- the **demo truth**: a workspace made by ``wholejob demo`` keeps the true
  practice of every activity in ``demo-data/_truth/activities_truth.parquet``;
  the workspace is classified as in production (with its own labels and text
  model) and compared.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from wholejob.classification import classify
from wholejob.config import WorkspaceConfig
from wholejob.errors import WholejobError
from wholejob.jobmodel import JobModel, load_job_model
from wholejob.practice_assignment import classify_workspace
from wholejob.schema import ENTITIES
from wholejob.textmodel import TextModel, TextPracticeClassifier, train_text_model
from wholejob.workspace import Workspace

__all__ = [
    "EVAL_COLUMNS",
    "TRUTH_PATH",
    "evaluate_classifier",
    "evaluate_demo_truth",
    "evaluate_eval_set",
    "load_eval_set",
]

EVAL_COLUMNS = ("type", "direction", "subject", "body", "practice")
TRUTH_PATH = Path("demo-data") / "_truth" / "activities_truth.parquet"


def _packaged_eval_path() -> Path:
    return Path(str(resources.files("wholejob").joinpath("data", "classification_eval.csv")))


def load_eval_set(path: Path | None = None) -> list[dict[str, str]]:
    """Read the evaluation set (packaged by default) as rows of the five columns."""
    path = path or _packaged_eval_path()
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in EVAL_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise WholejobError(f"{path}: missing column {missing[0]!r}")
        return [{c: (row[c] or "").strip() for c in EVAL_COLUMNS} for row in reader]


def _schema(entity: str) -> ibis.Schema:
    return ibis.schema({c.name: c.ibis_type for c in ENTITIES[entity].columns})


def _empty(con: Any, entity: str) -> ibis.Table:
    return con.create_table(f"{entity}", schema=_schema(entity), overwrite=True)


def _eval_activities(rows: list[dict[str, str]]) -> pa.Table:
    """Turn evaluation rows into canonical activities (no label, no account, no opportunity)."""
    n = len(rows)
    schema = _schema("activities").to_pyarrow()
    data: dict[str, list[Any]] = {name: [None] * n for name in schema.names}
    data["activity_id"] = [f"EV{i:05d}" for i in range(n)]
    data["rep_id"] = ["EVAL"] * n
    data["started_at"] = [datetime(2024, 1, 8, 9)] * n
    for col in ("type", "direction", "subject", "body"):
        data[col] = [r[col] or None for r in rows]
    return pa.table(data, schema=schema)


def _tally(counts: Iterable[tuple[str, str, str, int]]) -> dict[str, Any]:
    """Accuracy overall, per true practice and per method from (truth, predicted, method, n)."""
    per: dict[str, list[int]] = {}
    by_method: dict[str, list[int]] = {}
    n = correct = 0
    for truth, pred, method, k in counts:
        ok = k if truth == pred else 0
        n += k
        correct += ok
        for key, bucket in ((truth, per), (method, by_method)):
            bucket.setdefault(key, [0, 0])
            bucket[key][0] += k
            bucket[key][1] += ok

    def block(c: list[int]) -> dict[str, Any]:
        return {"n": c[0], "correct": c[1], "accuracy": round(c[1] / c[0], 4) if c[0] else None}

    return {
        "n": n, "correct": correct, "accuracy": round(correct / n, 4) if n else None,
        "per_practice": {k: block(v) for k, v in per.items()},
        "by_method": {k: block(v) for k, v in sorted(by_method.items())},
    }


def evaluate_eval_set(
    path: Path | None = None,
    *,
    model: JobModel | None = None,
    classifier: TextPracticeClassifier | None = None,
    errors: int = 50,
) -> dict[str, Any]:
    """Classify the evaluation set with rules and text model; return accuracy and mistakes.

    ``classifier`` is a fitted text model (default: trained on the job model's
    phrases only, as a fresh workspace gets). ``errors`` caps the mistakes listed.
    """
    rows = load_eval_set(path)
    model = model or load_job_model()
    clf = classifier or train_text_model(None, model)
    con = ibis.duckdb.connect()
    try:
        acts = con.create_table("activities", _eval_activities(rows))
        cls = classify(
            acts, _empty(con, "accounts"), _empty(con, "opportunities"), model,
            WorkspaceConfig().stage_status(), history=_empty(con, "opportunity_history"),
            text_model=TextModel(clf),
        )
        got = {r["activity_id"]: r for r in cls.to_pyarrow().to_pylist()}
    finally:
        con.disconnect()
    results = []
    for i, row in enumerate(rows):
        r = got[f"EV{i:05d}"]
        results.append((row["practice"], r["practice"] or "unmatched", r["method"], r["rule"]))
    out = _tally((t, p, m, 1) for t, p, m, _ in results)
    out["source"] = str(path or "wholejob/data/classification_eval.csv")
    out["mistakes"] = [
        {"subject": rows[i]["subject"], "body": rows[i]["body"], "truth": t,
         "predicted": p, "method": m, "rule": rule}
        for i, (t, p, m, rule) in enumerate(results) if t != p
    ][:errors]
    return out


def evaluate_demo_truth(ws: Workspace, model: JobModel | None = None) -> dict[str, Any]:
    """Compare a demo workspace's classification with the true practice of every activity.

    Reports all activities, and separately those without an explicit label (the
    ones labels cannot give away). Raises :class:`WholejobError` when the
    workspace has no demo truth file.
    """
    path = ws.path / TRUTH_PATH
    if not path.is_file():
        raise WholejobError(f"{ws.path} has no demo truth ({TRUTH_PATH}); "
                            "make one with `wholejob demo`")
    truth = ibis.memtable(pq.read_table(path, columns=["activity_id", "practice"]).rename_columns(
        ["_t_id", "truth"]))
    cls = classify_workspace(ws, model)
    j = cls.inner_join(truth, cls.activity_id == truth._t_id)
    agg = (
        j.group_by(["truth", "method", j.practice.fill_null("unmatched").name("pred")])
        .aggregate(n=j.count())
        .to_pyarrow()
        .to_pylist()
    )

    def tally(rows: list[dict[str, Any]]) -> dict[str, Any]:
        return _tally((r["truth"], r["pred"], r["method"], r["n"]) for r in rows)

    everything = tally(agg)
    unlabelled = tally([r for r in agg if r["method"] != "label"])
    return {"source": str(path), "all": everything, "unlabelled": unlabelled}


def evaluate_classifier(
    ws: Workspace | None = None,
    *,
    eval_path: Path | None = None,
    model: JobModel | None = None,
) -> dict[str, Any]:
    """Measure classification accuracy on the evaluation set and, if there is one, the demo truth.

    Returns ``{"eval_set": {...}, "demo": {...} | None}``; each block has ``n``,
    ``correct``, ``accuracy``, ``per_practice`` and ``by_method`` (the demo block
    has them under ``all`` and ``unlabelled``). The evaluation set always uses
    the packaged job model, so its numbers do not depend on a workspace.
    """
    out: dict[str, Any] = {"eval_set": evaluate_eval_set(eval_path), "demo": None}
    if ws is not None and (ws.path / TRUTH_PATH).is_file():
        out["demo"] = evaluate_demo_truth(ws, model)
    return out

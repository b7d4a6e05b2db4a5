"""The `wholejob classify` command: each activity's practice, why, and how accurate that is."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import ibis
import typer
from rich import box
from rich.table import Table

from wholejob.cli.app import Format, FormatOption, WorkspaceOption, app, console, handle_errors
from wholejob.jobmodel import JobModel
from wholejob.workspace import Workspace

NONE = "\u2013"  # an en dash: no value
SAMPLE_ROWS = 10
JSON_BATCH_ROWS = 50_000


@app.command()
@handle_errors
def classify(
    workspace: WorkspaceOption,
    format: FormatOption = Format.table,
    explain: Annotated[
        str | None,
        typer.Option("--explain", metavar="ACTIVITY_ID",
                     help="Show why one activity got its practice: features, rules, model."),
    ] = None,
    rep: Annotated[
        str | None, typer.Option("--rep", metavar="ID", help="Only this rep's activities.")
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(min=0, metavar="N",
                     help="Table: sample rows shown (default 10). JSON: at most N activities."),
    ] = None,
    evaluate: Annotated[
        bool,
        typer.Option("--evaluate",
                     help="Print accuracy overall and per practice on the evaluation set "
                          "(and on the demo truth when the workspace is a demo)."),
    ] = False,
) -> None:
    """Assign every activity a practice with a confidence and the method that decided it.

    Methods: label (the activity's own practice column), rule (the job model's
    rules) and model (a text classifier for what no rule recognises). JSON gives
    {"activities": [{"activity_id", "practice", "confidence", "method"}, ...]}.
    """
    from wholejob.config import CONFIG_FILE
    from wholejob.jobmodel import load_job_model
    from wholejob.workspace import open_workspace

    if evaluate:
        ws = None
        if (workspace / CONFIG_FILE).is_file():
            ws = open_workspace(workspace, read_only=True)
        try:
            _evaluate(ws, format)
        finally:
            if ws is not None:
                ws.close()
        return
    with open_workspace(workspace, read_only=True) as ws:
        model = load_job_model(ws.config, source=str(ws.config_path))
        if explain is not None:
            _explain(ws, model, explain, format)
        elif format is Format.json:
            _stream_json(ws, model, rep, limit)
        else:
            _table(ws, model, rep, SAMPLE_ROWS if limit is None else limit)


def _classified(ws: Workspace, model: JobModel, rep: str | None) -> ibis.Table:
    from wholejob.practice_assignment import classify_workspace

    return classify_workspace(ws, model, rep_id=rep)


def _stream_json(ws: Workspace, model: JobModel, rep: str | None, limit: int | None) -> None:
    """Write every activity's classification as JSON, one batch at a time."""
    from wholejob.textmodel import record_batches

    cls = _classified(ws, model, rep)
    cls = cls.select("activity_id", "practice", "confidence", "method").order_by("activity_id")
    if limit is not None:
        cls = cls.limit(limit)
    out = sys.stdout
    out.write('{"activities": [')
    first = True
    for batch in record_batches(cls, JSON_BATCH_ROWS):
        cols = [batch.column(i).to_pylist() for i in range(4)]
        lines = [
            f'{{"activity_id": {json.dumps(a)}, "practice": {json.dumps(p)}, '
            f'"confidence": {"null" if c is None else round(c, 4)!r}, '
            f'"method": {json.dumps(m)}}}'
            for a, p, c, m in zip(*cols, strict=True)
        ]
        if lines:
            out.write(("\n  " if first else ",\n  ") + ",\n  ".join(lines))
            first = False
    out.write("\n]}\n")


def _table(ws: Workspace, model: JobModel, rep: str | None, sample: int) -> None:
    from wholejob.practice_assignment import METHODS

    cls = _classified(ws, model, rep)
    counts = (
        cls.group_by([cls.practice.fill_null("unmatched").name("practice"), "method"])
        .aggregate(n=cls.count(), conf=cls.confidence.mean())
        .to_pyarrow().to_pylist()
    )
    methods = [m for m in METHODS if any(r["method"] == m for r in counts)]
    grid: dict[str, dict[str, int]] = {}
    conf: dict[str, tuple[float, int]] = {}  # practice -> (sum of confidences, rows with one)
    for r in counts:
        grid.setdefault(r["practice"], {})[r["method"]] = r["n"]
        if r["conf"] is not None:
            c_sum, c_n = conf.get(r["practice"], (0.0, 0))
            conf[r["practice"]] = (c_sum + r["conf"] * r["n"], c_n + r["n"])
    total = sum(r["n"] for r in counts)
    t = Table(title=f"Activities per practice and method ({total:,} activities)",
              box=box.SIMPLE_HEAD)
    t.add_column("practice", no_wrap=True)
    for m in methods:
        t.add_column(m, justify="right")
    t.add_column("total", justify="right")
    t.add_column("share", justify="right")
    t.add_column("mean conf.", justify="right")
    order = [p for p in model.all_ids if p in grid] + sorted(set(grid) - set(model.all_ids))
    for p in order:
        row = grid[p]
        n = sum(row.values())
        c_sum, c_n = conf.get(p, (0.0, 0))
        mean = c_sum / c_n if c_n else None
        t.add_row(p, *[f"{row.get(m, 0):,}" for m in methods], f"{n:,}",
                  f"{n / total:.1%}" if total else NONE, NONE if mean is None else f"{mean:.2f}")
    console.print(t)
    if sample <= 0:
        return
    acts = ws.table("activities")
    j = cls.rename(_practice="practice").inner_join(
        acts.select("activity_id", "rep_id", "type", "subject"), "activity_id"
    )
    rows = j.order_by(j.activity_id.hash()).limit(sample).to_pyarrow().to_pylist()
    s = Table(title="Sample", box=box.SIMPLE_HEAD)
    for col in ("activity", "rep", "type", "subject", "practice", "conf.", "method"):
        s.add_column(col, no_wrap=True, overflow="ellipsis",
                     max_width=50 if col == "subject" else None)
    for r in rows:
        s.add_row(r["activity_id"], r["rep_id"], r["type"], (r["subject"] or "")[:60],
                  r["_practice"] or NONE,
                  NONE if r["confidence"] is None else f"{r['confidence']:.2f}", r["method"])
    console.print(s)
    console.print("Why one activity got its practice: wholejob classify --explain ACTIVITY_ID")


def _explain(ws: Workspace, model: JobModel, activity_id: str, format: Format) -> None:
    from wholejob.practice_assignment import explain_activity

    info = explain_activity(ws, activity_id, model)
    if format is Format.json:
        print(json.dumps(info, indent=2, default=str))
        return
    console.print(
        f"[bold]{activity_id}[/]: [bold]{info['practice'] or 'unmatched'}[/] "
        f"(method {info['method']}, rule {info['rule'] or NONE}, "
        f"confidence {_fmt(info['confidence'])})", highlight=False,
    )
    console.print(f"text: {info['text']!r}", highlight=False, soft_wrap=True)
    feats = {k: v for k, v in info["features"].items() if k != "text" and v is not None}
    console.print("features: " + ", ".join(f"{k}={v}" for k, v in feats.items()),
                  highlight=False, soft_wrap=True)
    t = Table(title="Rules in the order tried (matched, or with a phrase found)",
              box=box.SIMPLE_HEAD)
    for col in ("rule", "prio", "conf.", "matched", "failed conditions", "phrases found"):
        t.add_column(col, overflow="fold", no_wrap=col == "rule")
    for r in info["rules"]:
        if not (r["matched"] or r["phrases_found"]):
            continue
        failed = [k for k, v in r["conditions"].items() if not v]
        t.add_row(f"{r['practice']}.{r['rule']}", str(r["priority"]), _fmt(r["confidence"]),
                  "yes" if r["matched"] else "no", ", ".join(failed) or NONE,
                  ", ".join(r["phrases_found"]) or NONE)
    console.print(t)
    top = ", ".join(f"{x['practice']} {x['probability']:.2f}" for x in info["model"]["top"])
    ev = ", ".join(f"{x['ngram']!r}" for x in info["model"]["evidence"])
    console.print(f"text model: {top}", highlight=False)
    console.print(f"text model evidence: {ev or NONE}", highlight=False, soft_wrap=True)


def _fmt(x: Any) -> str:
    return NONE if x is None else f"{x:.2f}"


def _evaluate(ws: Workspace | None, format: Format) -> None:
    from wholejob.evaluation import evaluate_classifier

    result = evaluate_classifier(ws)
    if format is Format.json:
        print(json.dumps(result, indent=2))
        return
    ev = result["eval_set"]
    demo = result["demo"]
    t = Table(title="Classification accuracy (rules, then text model)", box=box.SIMPLE_HEAD)
    t.add_column("practice", no_wrap=True)
    t.add_column("eval set", justify="right")
    t.add_column("n", justify="right")
    if demo:
        t.add_column("demo (unlabelled)", justify="right")
        t.add_column("n", justify="right")
    names = list(ev["per_practice"])
    if demo:
        names += [p for p in demo["unlabelled"]["per_practice"] if p not in names]
    for p in names:
        e = ev["per_practice"].get(p)
        cells = [_pct(e), str(e["n"]) if e else NONE]
        if demo:
            d = demo["unlabelled"]["per_practice"].get(p)
            cells += [_pct(d), f"{d['n']:,}" if d else NONE]
        t.add_row(p, *cells)
    cells = [_pct(ev), str(ev["n"])]
    if demo:
        cells += [_pct(demo["unlabelled"]), f"{demo['unlabelled']['n']:,}"]
    t.add_row("[bold]overall[/]", *cells, end_section=True)
    console.print(t)
    by = ", ".join(f"{m} {_pct(v)} of {v['n']}" for m, v in ev["by_method"].items())
    console.print(f"eval set ({ev['source']}) by method: {by}", highlight=False)
    if demo:
        console.print(
            f"demo truth, all {demo['all']['n']:,} activities (labels included): "
            f"{_pct(demo['all'])}", highlight=False)


def _pct(block: dict[str, Any] | None) -> str:
    if not block or block.get("accuracy") is None:
        return NONE
    return f"{block['accuracy']:.1%}"

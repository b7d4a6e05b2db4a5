"""The `practices` command: list the job model a workspace uses."""

from __future__ import annotations

import json
from typing import Any

from rich import box
from rich.table import Table

from wholejob.cli.app import Format, FormatOption, WorkspaceOption, app, console, handle_errors
from wholejob.config import CONFIG_FILE, load_config
from wholejob.jobmodel import JobModel, load_job_model


def practices_summary(model: JobModel) -> list[dict[str, Any]]:
    """Describe each practice (18 plus ``other``) as a JSON-ready dict, in table order."""
    out = []
    for pid in model.all_ids:
        p = model.practices[pid]
        out.append({
            "id": pid,
            "name": p.name,
            "group": p.group,
            "floor_share": p.floor_share,
            "target_share": p.target_share,
            "effort": p.effort,
            "effort_summary": p.effort_summary,
            "rules": [r.id for r in p.enabled_rules],
            "criteria": [c.id for c in p.enabled_criteria],
            "attribute_floor": p.attribute_floor,
            "attribute_target": p.attribute_target,
            "measures": [m.id for m in p.measures],
        })
    return out


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


@app.command()
@handle_errors
def practices(
    workspace: WorkspaceOption,
    format: FormatOption = Format.table,
) -> None:
    """List the 18 practices: group, floor and target share, and how effort is recognised.

    Uses the workspace's overrides from its wholejob.toml when the workspace exists,
    the packaged defaults otherwise.
    """
    config_path = workspace / CONFIG_FILE
    if config_path.is_file():
        model = load_job_model(load_config(config_path), source=str(config_path))
    else:
        model = load_job_model()
    rows = practices_summary(model)
    if format is Format.json:
        print(json.dumps({"practices": rows}, indent=2))
        return
    t = Table(title="The whole job: 18 practices (+ other)", box=box.SIMPLE_HEAD)
    t.add_column("id", no_wrap=True)
    t.add_column("name")
    t.add_column("group")
    t.add_column("floor", justify="right")
    t.add_column("target", justify="right")
    t.add_column("effort recognised as", min_width=30)
    for r in rows:
        t.add_row(
            r["id"], r["name"], r["group"], _share(r["floor_share"]),
            _share(r["target_share"]), f"[dim]{r['effort']}:[/] {r['effort_summary']}",
        )
    console.print(t)

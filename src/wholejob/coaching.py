"""The manager's coaching queue: the team's findings ranked by money at stake.

The queue is the diagnose findings of a team (or every seller), with the
forecast consequences attached where they can be computed, ordered by money at
stake (largest first; findings without a money estimate last), then severity.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from wholejob.scorecard import Finding
from wholejob.workspace import Workspace

__all__ = ["coaching_queue", "queue_json", "rank_findings"]

_SEVERITY = {"high": 0, "medium": 1, "low": 2}


def rank_findings(findings: list[Finding]) -> list[Finding]:
    """Return findings by money at stake (unknown last), then severity, rep and practice."""
    return sorted(findings, key=lambda f: (f.money_at_stake is None, -(f.money_at_stake or 0.0),
                                           _SEVERITY.get(f.severity, 3), f.rep_id, f.practice))


def coaching_queue(
    ws: Workspace,
    *,
    team: str | None = None,
    forecast: bool = True,
    weeks: int = 13,
    paths: int = 2000,
    seed: int = 0,
    since: date | None = None,
    until: date | None = None,
) -> list[Finding]:
    """Return the team's findings ranked for coaching (see :func:`rank_findings`)."""
    from wholejob.balance import with_balance
    from wholejob.consequences import attach_forecast_consequences
    from wholejob.findings import diagnose
    from wholejob.jobmodel import load_job_model
    from wholejob.measures import build_scorecard

    model = load_job_model(ws.config, source=str(ws.config_path))
    scorecard = with_balance(build_scorecard(ws, since=since, until=until, team=team,
                                             model=model), model)
    findings = diagnose(scorecard, model)
    if forecast:
        findings = attach_forecast_consequences(findings, ws, weeks=weeks, paths=paths,
                                                seed=seed, as_of=until)
    return rank_findings(findings)


def queue_json(findings: list[Finding], currency: str) -> dict[str, Any]:
    """Return ``{"currency", "queue": [{"rank", ...finding}]}``."""
    return {"currency": currency,
            "queue": [{"rank": i, **f.to_json()} for i, f in enumerate(findings, start=1)]}

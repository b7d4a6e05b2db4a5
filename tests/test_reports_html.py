"""The HTML report: self-contained, escaped, and complete for every rep."""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser

from wholejob.jobmodel import PRACTICE_IDS
from wholejob.reports.document import report_json
from wholejob.reports.html import render_html, write_html
from wholejob.reports.sample import sample_findings, sample_scorecard
from wholejob.scorecard import Finding, PracticeScore, RepScore, Scorecard

EVIL = '<script>alert("pwned")</script>'


class _Refs(HTMLParser):
    """Collect every src/href/url reference and every tag name."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name in {"src", "href", "xlink:href", "action", "srcset"} and value:
                self.refs.append(value)


def _evil_scorecard() -> Scorecard:
    sc = sample_scorecard(reps=3, weeks=4)
    bad = sc.reps[0]
    reps = [RepScore(
        rep_id="R<1>", name=EVIL, team="<b>team</b>", manager_id=None, role="rep",
        weekly_hours=40.0, quota=None, practices=bad.practices, balance_index=55.0,
        balance_drag=[{"practice": "prospecting", "points": 12.5, "why": EVIL}],
    ), *sc.reps[1:]]
    return Scorecard(sc.since, sc.until, sc.weeks, sc.currency, sc.practices, reps, [EVIL])


def _evil_findings() -> list[Finding]:
    return [Finding(rep_id="R<1>", practice="prospecting", kind="neglected", severity="high",
                    evidence={"note": EVIL, "record_ids": {"activities": [EVIL]}},
                    consequence=EVIL, recommendation=EVIL, money_at_stake=-5000.0)]


def test_report_is_self_contained():
    sc = sample_scorecard(reps=4, weeks=6)
    html = render_html(sc, sample_findings(sc))
    parser = _Refs()
    parser.feed(html)
    external = [r for r in parser.refs if not r.startswith("#")]
    assert external == []
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html)
    assert "http://" not in html and "https://" not in html
    assert "url(" not in html.replace("url(#", "")  # only in-document patterns
    assert "@import" not in html and "@font-face" not in html
    assert not parser.tags & {"script", "link", "iframe", "img", "object", "embed"}


def test_user_data_is_escaped():
    html = render_html(_evil_scorecard(), _evil_findings())
    assert "<script" not in html
    assert "<b>team</b>" not in html
    assert "&lt;script&gt;" in html
    parser = _Refs()
    parser.feed(html)
    assert "script" not in parser.tags


def test_report_holds_every_rep_period_currency_and_formulas():
    sc = sample_scorecard(reps=4, weeks=6)
    findings = sample_findings(sc)
    html = render_html(sc, findings, scope="team West", generated_on=date(2024, 3, 1))
    assert "2024-01-01 to 2024-02-11 (6 weeks)" in html
    assert "USD" in html and "team West" in html and "generated 2024-03-01" in html
    for r in sc.reps:
        assert r.name in html
    assert html.count('<section class="rep"') == 4
    assert html.count("<svg") == 1 + 2 * 4  # heatmap, then a radar and a trend per rep
    assert 'id="formulas"' in html
    assert "docs/measures.md" in html and "docs/job-model.md" in html
    # Every practice appears with its measures' formulas.
    assert html.count("<code>PRO</code>") == 1
    assert "self_sourced_pipeline" in html
    for f in findings:
        assert f.recommendation in html


def test_unknown_balance_reason_is_shown_without_a_practice():
    sc = sample_scorecard(reps=2, weeks=4)
    unknown = sc.reps[-1]
    reps = [sc.reps[0], RepScore(
        unknown.rep_id, unknown.name, unknown.team, None, "rep", 40.0, None, unknown.practices,
        balance_index=None,
        balance_drag=[{"practice": None, "points": None, "why": "no activities recorded"}],
    )]
    html = render_html(Scorecard(sc.since, sc.until, sc.weeks, "USD", sc.practices, reps))
    assert "no activities recorded" in html
    assert "None" not in html


def test_empty_scorecard_renders():
    sc = Scorecard(None, None, [], "USD", list(PRACTICE_IDS), [], ["nothing to measure"])
    html = render_html(sc)
    assert "all data" in html and "nothing to measure" in html


def test_write_html_writes_utf8(tmp_path):
    sc = sample_scorecard(reps=2, weeks=3)
    out = write_html(tmp_path / "r.html", sc)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_report_json_adds_findings_to_the_scorecard():
    sc = sample_scorecard(reps=3, weeks=4)
    findings = sample_findings(sc)
    data = report_json(sc, findings)
    assert [r["rep_id"] for r in data["reps"]] == ["R1", "R2", "R3"]
    prospecting = data["reps"][0]["practices"]["prospecting"]
    assert {"hours", "share", "effort_score", "effectiveness_score"} <= set(prospecting)
    assert len(data["findings"]) == len(findings)
    assert set(data["findings"][0]) >= {"rep_id", "practice", "kind", "severity", "evidence",
                                        "consequence", "recommendation"}


def test_practice_with_measures_missing_still_renders():
    sc = sample_scorecard(reps=2, weeks=3)
    first = sc.reps[0]
    bare = dict(first.practices)
    bare["closing"] = PracticeScore("closing", None, None, None, None, None, None, None, None,
                                    None, None)
    reps = [RepScore(first.rep_id, first.name, None, None, "rep", 40.0, None, bare)]
    html = render_html(Scorecard(sc.since, sc.until, sc.weeks, "USD", sc.practices, reps))
    assert "none computed" in html

"""Effort and activity-based measures on a hand-built workspace, worked out by hand.

Period 2025-01-06 (Mon) .. 2025-01-19 (Sun): 14 days, 2 weeks. Every activity is
labelled with its practice, so classification rules do not enter the sums.
a1 is a customer since 2023 with ICP tier A (a key account of r1); a2 is a
prospect of tier C. r2 has no activities at all.
"""

from __future__ import annotations

from datetime import date

import pytest

from wholejob.measures import build_scorecard, trace
from wholejob.workspace import init_workspace

SINCE, UNTIL = date(2025, 1, 6), date(2025, 1, 19)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = init_workspace(tmp_path_factory.mktemp("acts") / "ws")
    x = ws.raw.execute
    x("""INSERT INTO reps (rep_id, name, team, role, quota, weekly_hours) VALUES
        ('r1', 'Ann', 'T', 'rep', 100000, 40), ('r2', 'Bo', 'T', 'rep', 100000, 40)""")
    x("""INSERT INTO accounts (account_id, name, owner_id, customer_since, icp_tier) VALUES
        ('a1', 'One', 'r1', DATE '2023-01-01', 'A'), ('a2', 'Two', 'r1', NULL, 'C')""")
    x("""INSERT INTO contacts (contact_id, account_id, seniority) VALUES
        ('c1', 'a1', 'executive'), ('c2', 'a1', 'staff'), ('c3', 'a2', 'staff')""")
    x("""INSERT INTO opportunities (opportunity_id, account_id, owner_id, created_on, close_date,
          amount, stage, status, kind, source) VALUES
        ('o1','a2','r1',DATE '2025-01-06',DATE '2025-03-01',9000,'qualification','open',
         'new_logo','marketing'),
        ('o2','a1','r1',DATE '2025-01-07',DATE '2025-01-15',5000,'closed_won','won',
         'expansion','customer'),
        ('o3','a2','r1',DATE '2025-01-06',DATE '2025-01-17',1000,'closed_lost','lost',
         'new_logo','outbound')""")
    x("""INSERT INTO opportunity_history (opportunity_id, stage, entered_at) VALUES
        ('o1','prospecting',  TIMESTAMP '2025-01-06 09:00'),
        ('o1','qualification',TIMESTAMP '2025-01-09 09:00'),
        ('o2','proposal',     TIMESTAMP '2025-01-10 09:00'),
        ('o2','closed_won',   TIMESTAMP '2025-01-15 09:00')""")
    # (id, type, started_at, minutes, account, contact, opportunity, direction, practice)
    acts = [
        ("x1", "call", "2025-01-06 10:00", 60, "a2", "c3", "o1", "outbound", "prospecting"),
        ("x2", "email", "2025-01-06 11:00", 30, "a2", "c3", "o1", "outbound", "insight"),
        ("x3", "email", "2025-01-07 09:00", 15, "a2", "c3", "o1", "inbound", "qualification"),
        ("x4", "meeting", "2025-01-08 10:00", 60, "a2", "c3", "o1", None, "qualification"),
        ("x5", "task", "2025-01-09 08:00", 30, "a1", None, "o2", None, "call_planning"),
        ("x6", "meeting", "2025-01-09 10:00", 60, "a1", "c1", "o2", None,
         "customer_understanding"),
        ("x7", "other", "2025-01-13 09:00", 120, None, None, None, None, "other"),
        ("x8", "social", "2025-01-13 10:00", 15, "a2", "c3", None, "outbound", "social_selling"),
        ("x9", "call", "2025-01-14 10:00", 30, "a1", "c2", None, "outbound", "account_growth"),
        ("x10", "meeting", "2025-01-16 10:00", 60, "a1", "c2", None, None, "relationships"),
    ]
    ws.raw.executemany(
        "INSERT INTO activities (activity_id, rep_id, type, started_at, duration_minutes, "
        "account_id, contact_id, opportunity_id, direction, practice) "
        "VALUES (?, 'r1', ?, CAST(? AS TIMESTAMP), ?, ?, ?, ?, ?, ?)",
        acts,
    )
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def card(ws):
    return build_scorecard(ws, since=SINCE, until=UNTIL)


def test_effort_hours_share_and_weeks(card):
    r1 = card.rep("r1")
    p = r1.practices["prospecting"]
    # x1: 60 minutes in week 1, nothing in week 2
    assert p.hours == 1.0 and p.hours_per_week == 0.5 and p.activities == 1
    assert p.weekly_hours == [1.0, 0.0]
    # all hours 8.0, other (x7) 2.0 -> selling 6.0; share 1 / 6
    assert p.share == pytest.approx(1 / 6, abs=1e-4)
    assert r1.selling_hours_per_week == 3.0 and r1.other_hours_per_week == 1.0
    # x3 (15 min) + x4 (60 min)
    assert r1.practices["qualification"].hours == 1.25
    # capacity 40 - typical other 1.0 (median over peers with effort: r1 only) = 39;
    # floor 0.10 x 39 = 3.9, target 0.18 x 39 = 7.02; 0.5 h/week -> 50 x 0.5 / 3.9
    assert p.floor_hours_per_week == 3.9 and p.target_hours_per_week == 7.02
    assert p.effort_score == pytest.approx(6.4)
    assert p.team_median_hours_per_week == 0.5  # r2 is unknown, not zero


def test_account_attribute_effort(card):
    r1 = card.rep("r1")
    # ICP-fit a1: x5 0.5 + x6 1.0 + x9 0.5 + x10 1.0 = 3.0 h over 2 weeks
    assert r1.practices["icp_focus"].hours == 3.0
    assert r1.practices["icp_focus"].hours_per_week == 1.5
    # open deal o1 at prospect a2: x1 1.0 + x2 0.5 + x3 0.25 + x4 1.0
    assert r1.practices["new_logos"].hours == 2.75
    # no customer landed in the last year
    assert r1.practices["land_and_expand"].hours == 0.0
    # targets use the attribute shares: 0.70 x 39
    assert r1.practices["icp_focus"].target_hours_per_week == pytest.approx(27.3)
    vc = r1.practices["value_creation"]
    assert vc.hours is None and vc.effort_score is None and vc.effectiveness_score is not None


# (practice, measure, r1's value worked out by hand)
R1 = [
    # at prospect a2: meetings x4 = 1; outbound call/email/social x1, x2, x8 = 3
    ("prospecting", "meetings_per_100_touches", 100 / 3),
    # insight x2: reply x3 next day (1/1); other touches x1 (reply x3), x4 (o1 advances
    # Jan 9), x6 (o2 won Jan 15) hit; x8, x9, x10 miss (3/6) -> 1 - 0.5
    ("insight", "advance_after_insight", 0.5),
    # calls/meetings x1 (x4 two days later), x4 (o1 advance), x6 (x9), x9 (x10) hit;
    # x10 has nothing after -> 4 / 5
    ("value_creation", "interactions_with_next_step", 0.8),
    # x8 to c3: no inbound from c3 afterwards
    ("social_selling", "social_reply_rate", 0.0),
    # meetings x4 (no prep), x6 (x5 two hours before), x10 (x5 a week before) -> 1 / 3
    ("call_planning", "meetings_prepared", 1 / 3),
    # x4 (o1 advance), x6 (x9 within 7 days) hit; x10 misses -> 2 / 3
    ("call_planning", "meeting_next_step_rate", 2 / 3),
    # o2 reached proposal Jan 10; customer-understanding x6 on it Jan 9 -> 1 / 1
    ("customer_understanding", "discovery_before_proposal", 1.0),
    # open o1: contacts in its activities {c3}
    ("customer_understanding", "stakeholders_known", 1.0),
    # closed: o2 won with discovery (1/1), o3 lost without (0/1) -> 1 - 0
    ("customer_understanding", "win_rate_with_discovery", 1.0),
    # a2: {c3}, a1: {c1, c2} -> 3 pairs / 2 accounts
    ("relationships", "contacts_per_account", 1.5),
    ("relationships", "contacts_per_opportunity", 1.0),
    # c1 is the only executive
    ("relationships", "executive_contacts", 1.0),
    # key account a1: x5, x6, x9, x10 = 4 activities over 14 / (365 / 12) months
    ("account_growth", "touches_per_key_account", 4 / (14 / (365 / 12))),
    # open o1 had activity within the last 30 days
    ("sales_process", "stale_deals", 0.0),
    # o1 (marketing) created Jan 6, first touch x1 at 10:00 -> 10 hours
    ("marketing_alignment", "hours_to_first_touch", 10.0),
]


@pytest.mark.parametrize(("practice", "measure", "expected"), R1)
def test_r1_measures(card, practice, measure, expected):
    m = card.rep("r1").practices[practice].measure(measure)
    assert m.value == pytest.approx(expected)


def test_unknown_is_not_zero(card):
    r2 = card.rep("r2")
    p = r2.practices["prospecting"]
    assert p.hours is None and p.share is None and p.activities is None
    assert p.effort_score is None
    assert p.weekly_hours == [None, None]
    # capacity still comes from the team's typical other time
    assert p.target_hours_per_week == 7.02
    for practice, measure, _ in R1:
        assert r2.practices[practice].measure(measure).value is None, measure
    # zero opportunities of r2's own is recorded-and-none for a deal measure
    assert r2.practices["prospecting"].measure("self_sourced_pipeline").value == 0.0


def test_trace_effort(ws):
    assert trace(ws, "r1", "qualification", since=SINCE, until=UNTIL) == {
        "activities": ["x3", "x4"]
    }
    assert trace(ws, "r1", "icp_focus", since=SINCE, until=UNTIL) == {
        "activities": ["x5", "x6", "x9", "x10"]
    }
    assert trace(ws, "r1", "call_planning", "meetings_prepared", since=SINCE,
                 until=UNTIL) == {"activities": ["x6"]}
    with pytest.raises(KeyError):
        trace(ws, "r1", "qualification", "no_such_measure")

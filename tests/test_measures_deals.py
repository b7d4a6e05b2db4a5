"""Deal and pipeline measures on a hand-built workspace, each value worked out by hand.

Period 2025-01-06 (Mon) .. 2025-02-02 (Sun): 28 days, 4 weeks. Stage ranks:
prospecting 0, qualification 1, needs_analysis 2, proposal 3, negotiation 4.
r1's quota 365,000 gives 28,000 for the period. All history entries are at 09:00.
"""

from __future__ import annotations

from datetime import date

import pytest

from wholejob.measures import build_scorecard, trace
from wholejob.workspace import init_workspace

SINCE, UNTIL = date(2025, 1, 6), date(2025, 2, 2)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = init_workspace(tmp_path_factory.mktemp("deals") / "ws")
    x = ws.raw.execute
    x("""INSERT INTO reps (rep_id, name, team, role, quota, weekly_hours) VALUES
        ('r1', 'Ann', 'T', 'rep', 365000, 40), ('r2', 'Bo', 'T', 'rep', NULL, 40),
        ('m1', 'Max', 'T', 'manager', NULL, 40)""")
    x("""INSERT INTO accounts (account_id, name, customer_since, icp_tier) VALUES
        ('a1', 'One', DATE '2023-01-01', 'A'), ('a2', 'Two', NULL, 'C'),
        ('a3', 'Three', NULL, 'A'), ('a4', 'Four', DATE '2024-12-01', 'C')""")
    x("""INSERT INTO opportunities (opportunity_id, account_id, owner_id, created_on, close_date,
          amount, stage, status, kind, source, next_step, next_step_on, business_case) VALUES
        ('o1','a3','r1',DATE '2025-01-06',DATE '2025-01-20',10000,'closed_won','won',
         'new_logo','outbound',NULL,NULL,true),
        ('o2','a2','r1',DATE '2025-01-07',DATE '2025-01-27',20000,'closed_lost','lost',
         'new_logo','referral',NULL,NULL,false),
        ('o3','a1','r1',DATE '2025-01-13',DATE '2025-01-31',5000,'qualification','open',
         'expansion','customer','call',DATE '2025-02-05',NULL),
        ('o4','a4','r1',DATE '2025-01-15',DATE '2025-03-01',8000,'needs_analysis','open',
         'expansion','referral',NULL,NULL,NULL),
        ('o5','a1','r1',DATE '2025-01-02',DATE '2025-01-30',30000,'closed_won','won',
         'renewal','customer',NULL,NULL,NULL),
        ('o6','a2','r2',DATE '2025-01-10',DATE '2025-01-17',4000,'closed_lost','lost',
         'new_logo','marketing',NULL,NULL,NULL),
        ('o7','a1','r1',DATE '2024-12-01',DATE '2025-01-25',10000,'closed_lost','lost',
         'renewal','customer',NULL,NULL,NULL),
        ('o8','a4','r2',DATE '2025-01-20',DATE '2025-01-31',2000,'closed_won','won',
         'expansion','customer',NULL,NULL,NULL)""")
    x("""INSERT INTO opportunity_history (opportunity_id, stage, entered_at, amount, close_date)
        VALUES
        ('o1','prospecting',   TIMESTAMP '2025-01-06 09:00',12000,DATE '2025-01-18'),
        ('o1','qualification', TIMESTAMP '2025-01-08 09:00',12000,DATE '2025-01-18'),
        ('o1','proposal',      TIMESTAMP '2025-01-10 09:00',12500,DATE '2025-01-25'),
        ('o1','negotiation',   TIMESTAMP '2025-01-15 09:00',12500,DATE '2025-01-20'),
        ('o1','closed_won',    TIMESTAMP '2025-01-20 09:00',10000,DATE '2025-01-20'),
        ('o2','prospecting',   TIMESTAMP '2025-01-07 09:00',20000,DATE '2025-01-31'),
        ('o2','qualification', TIMESTAMP '2025-01-09 09:00',20000,DATE '2025-01-31'),
        ('o2','needs_analysis',TIMESTAMP '2025-01-13 09:00',20000,DATE '2025-01-31'),
        ('o2','proposal',      TIMESTAMP '2025-01-20 09:00',20000,DATE '2025-01-31'),
        ('o2','closed_lost',   TIMESTAMP '2025-01-27 09:00',20000,DATE '2025-01-31'),
        ('o3','prospecting',   TIMESTAMP '2025-01-13 09:00',5000,DATE '2025-01-31'),
        ('o3','qualification', TIMESTAMP '2025-01-14 09:00',5000,DATE '2025-01-31'),
        ('o4','prospecting',   TIMESTAMP '2025-01-15 09:00',8000,DATE '2025-03-01'),
        ('o4','qualification', TIMESTAMP '2025-01-16 09:00',8000,DATE '2025-03-01'),
        ('o4','needs_analysis',TIMESTAMP '2025-01-25 09:00',8000,DATE '2025-03-01'),
        ('o5','negotiation',   TIMESTAMP '2025-01-02 09:00',30000,DATE '2025-01-30'),
        ('o5','closed_won',    TIMESTAMP '2025-01-30 09:00',30000,DATE '2025-01-30'),
        ('o6','prospecting',   TIMESTAMP '2025-01-10 09:00',4000,DATE '2025-01-17'),
        ('o6','closed_lost',   TIMESTAMP '2025-01-17 09:00',4000,DATE '2025-01-17')""")
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def card(ws):
    return build_scorecard(ws, since=SINCE, until=UNTIL)


def value(card, rep, practice, measure):
    return card.rep(rep).practices[practice].measure(measure).value


# (practice, measure, r1's value worked out by hand)
R1 = [
    # closed in the period: o1 won, o2 lost, o5 won, o7 lost -> 2 / 4
    ("qualification", "win_rate", 0.5),
    # lost with history: only o2, whose highest open stage is proposal -> 1 / 1
    ("qualification", "late_stage_loss_share", 1.0),
    # o2: Jan 7 -> Jan 27 = 20 days; o7: Dec 1 -> Jan 25 = 55 days; mean 37.5
    ("qualification", "days_on_lost_deals", 37.5),
    # open past qualification: o4 only, with no next step -> 0 / 1
    ("qualification", "qualification_fields_complete", 0.0),
    # closed and reached proposal: o1 (won), o2 (lost), o5 (won, negotiation) -> 2 / 3
    ("proposals", "proposal_win_rate", 2 / 3),
    # first reached proposal in the period with business_case known: o1 true, o2 false
    ("proposals", "business_case_share", 0.5),
    # o1: 1 - 10000 / 12500 = 0.2; o5: 1 - 30000 / 30000 = 0; mean 0.1
    ("proposals", "discount_depth", 0.1),
    # reached negotiation or won: o1 and o5, both won
    ("closing", "late_stage_win_rate", 1.0),
    # o1 14 days, o5 28 days: median 21
    ("closing", "cycle_time", 21.0),
    # (10000 + 30000) / 28000
    ("closing", "bookings_vs_quota", 40000 / 28000),
    # stays ended in the period, r1: 2,2,5,5 (o1) 2,4,7,7 (o2) 1 (o3) 1,9 (o4) 28 (o5):
    # median 4.5; team adds r2's 7 (o6): median of 13 values is 5 -> 5 / 4.5
    ("buying_process", "stage_velocity", 5 / 4.5),
    # open o3 in qualification since Jan 14 (19.6 days > 2 x team median 4): stalled;
    # o4 in needs_analysis since Jan 25 (8.6 days < 2 x 7): not -> 1 / 2
    ("buying_process", "stalled_deals", 0.5),
    # pushes: o1 1 (Jan 18 -> Jan 25), o2 0, o5 0 (o7 has no history) -> 1 / 3
    ("buying_process", "close_dates_pushed", 1 / 3),
    # open o3 has a next step dated Feb 5 >= Feb 2; o4 none -> 1 / 2
    ("sales_process", "next_step_coverage", 0.5),
    # open o3 closes Jan 31 < Feb 2 -> 1 / 2
    ("sales_process", "overdue_close_dates", 0.5),
    # o1 goes qualification -> proposal and skips needs_analysis; o2, o5 do not -> 1 / 3
    ("sales_process", "skipped_stages", 1 / 3),
    # open: o3 at a1 (tier A) 5000, o4 at a4 (tier C) 8000 -> 5000 / 13000
    ("icp_focus", "icp_pipeline_share", 5000 / 13000),
    # ICP closed: o1 won, o5 won, o7 lost (2/3); non-ICP: o2 lost (0/1)
    ("icp_focus", "icp_win_rate_lift", 2 / 3),
    # closed renewals: o5 won, o7 lost
    ("account_growth", "renewals_won", 0.5),
    # renewals due in the period: o5 30000 won, o7 10000 lost -> 30000 / 40000
    ("account_growth", "gross_retention", 0.75),
    # outbound created in the period: o1 10000, over 4 weeks
    ("prospecting", "self_sourced_pipeline", 2500.0),
    # created in the period: o1 + o2 + o3 + o4 = 43000; needed 28000 x 3 = 84000
    ("prospecting", "pipeline_vs_needed", 43000 / 84000),
    # referral created: o2 20000 + o4 8000
    ("referrals", "referral_pipeline", 28000.0),
    # referral closed: o2 lost (0/1); others o1 won, o5 won, o7 lost (2/3)
    ("referrals", "referral_win_rate_lift", -2 / 3),
    # no social deals, but opportunities are recorded: zero, not unknown
    ("social_selling", "social_sourced_pipeline", 0.0),
    # o4: expansion created 45 days after a4 landed; o3's a1 landed 2023
    ("land_and_expand", "expansion_from_recent_lands", 8000.0),
    # o1 (kind new_logo) won in the period; o5 is a renewal at a customer
    ("new_logos", "new_customers_won", 10000.0),
]


@pytest.mark.parametrize(("practice", "measure", "expected"), R1)
def test_r1_measures(card, practice, measure, expected):
    assert value(card, "r1", practice, measure) == pytest.approx(expected)


def test_ratio_without_a_comparison_group_is_unknown(card):
    # r1 won nothing outside the ICP, so the ICP / non-ICP deal-size ratio is unknown
    assert value(card, "r1", "icp_focus", "icp_deal_size_ratio") is None


def test_r2_measures(card):
    # o8: first won expansion at a4, Dec 1 -> Jan 31 = 61 days
    assert value(card, "r2", "land_and_expand", "time_to_first_expansion") == 61.0
    # o8 created Jan 20, 50 days after a4 landed
    assert value(card, "r2", "land_and_expand", "expansion_from_recent_lands") == 2000.0
    # o6 (marketing) never got past prospecting -> 0 / 1
    assert value(card, "r2", "marketing_alignment", "marketing_lead_conversion") == 0.0
    # r2 has no quota: pipeline needed is unknown
    assert value(card, "r2", "prospecting", "pipeline_vs_needed") is None
    # r2: o6 prospecting stay of 7 days; team median 5 -> 5 / 7
    assert value(card, "r2", "buying_process", "stage_velocity") == pytest.approx(5 / 7)


def test_evidence_and_peers(card):
    m = card.rep("r1").practices["qualification"].measure("win_rate")
    assert (m.numerator, m.denominator) == (2, 4)
    assert sorted(m.record_ids["opportunities"]) == ["o1", "o5"]
    # peers: r1 0.5, r2 (o6 lost, o8 won) 0.5 -> tied, score 50
    assert m.team_median == pytest.approx(0.5)
    assert m.score == 50.0
    bvq = card.rep("r1").practices["closing"].measure("bookings_vs_quota")
    assert bvq.target == 1.0


def test_managers_without_records_are_left_out(card):
    assert [r.rep_id for r in card.reps] == ["r1", "r2"]


def test_no_activities_means_unknown_effort_but_known_deals(card):
    r1 = card.rep("r1")
    assert r1.practices["prospecting"].hours is None
    assert r1.practices["prospecting"].weekly_hours == [None] * 4
    assert r1.selling_hours_per_week is None
    # activity-based measures are unknown, not zero
    assert r1.practices["relationships"].measure("executive_contacts").value is None
    assert r1.practices["sales_process"].measure("stale_deals").value is None
    assert "effort is unknown" in " ".join(card.notes)
    assert len(card.weeks) == 4 and card.weeks[0] == SINCE


def test_trace_measure(ws):
    ids = trace(ws, "r1", "sales_process", "skipped_stages", since=SINCE, until=UNTIL)
    assert ids == {"opportunities": ["o1"]}

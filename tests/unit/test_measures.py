"""KPIs and agent evaluation on a small scenario whose every figure is worked out by hand.

Seven tickets opened on 2026-03-02 at 09:00 UTC (times below are minutes after that):
T1 ana: reply +30 (600 s call), resolved +60, survey 5/10             → FCR
T2 bo: reply +20 (300 s), wait +30, customer replies +150, resolved +180, survey 3/7
                                                                       → TTR 3 h − 2 h paused; 2 contacts
T3 ana, complaint (general) at +10 while ana holds it, transfer +30, cy +40, cy replies +50,
   resolved +90 (remedy), survey 4/6                                   → transfer breaks FCR
T4 bo: reply +15, resolved +60, reopened +120, resolved again +240     → reopen breaks FCR
T5 major complaint, ana +1, escalated to level 3 +2, still open
T6 bot channel: bot answers +1, resolved +5 by self-service            → deflected, FCR
T7 bot channel: ana +10, ana replies +20 (120 s), still open           → not deflected
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.service_levels import ServicePolicy
from projections import agent_performance, measures
from projections.moment import period_bounds
from projections.queries import kpi_report
from projections.read_side import ReadView
from projections.ticket_state.facts import SlaFacts
from projections.ticket_state.fold import fold_batch
from projections.time_travel import replay
from tests.scenarios import MONTH, T0, scenario

@pytest.fixture(scope="module")
def events():
    return [event for ticket in scenario() for event in ticket.collect_events()]


@pytest.fixture(scope="module")
def rows(events):
    by_ticket: dict = {}
    for event in events:
        by_ticket.setdefault(event.ticket_id, []).append(event)
    return [fold_batch(None, ticket_events, SlaFacts(ServicePolicy())) for ticket_events in by_ticket.values()]


def kpis(rows, start, end):
    """The KPIs with the backlog of the rows (the read side counts it at the window's end)."""
    return measures.kpis(rows, start, end, backlog=sum(1 for r in rows if r.is_open))


def test_volume_backlog_and_resolutions(rows):
    k = kpis(rows, *MONTH)
    assert (k["volume"], k["backlog"], k["resolved"]) == (7, 2, 5)


def test_first_response_time_over_tickets_opened_in_the_range(rows):
    frt = kpis(rows, *MONTH)["first_response_seconds"]
    # [900, 1200, 1200, 1800, 3000]
    assert frt == {"count": 5, "mean": 1620.0, "median": 1200.0, "p90": 2520.0}


def test_resolution_time_excludes_waiting_on_the_customer_and_uses_the_final_resolution(rows):
    ttr = kpis(rows, *MONTH)["resolution_seconds"]
    # T6 300, T1 3600, T2 3 h − 2 h = 3600, T3 5400, T4 final at +240 = 14400
    assert ttr == {"count": 5, "mean": 5460.0, "median": 3600.0, "p90": 10800.0}


def test_fcr_is_broken_by_a_second_contact_a_transfer_and_a_reopen(rows):
    assert kpis(rows, *MONTH)["fcr_rate"] == pytest.approx(2 / 5)  # T1, T6


def test_csat_and_nps_edge_values(rows):
    k = kpis(rows, *MONTH)
    assert k["csat"] == {"responses": 3, "percent": pytest.approx(200 / 3), "mean": 4.0}  # 5, 3, 4
    assert k["nps"] == {"responses": 3, "score": 0.0}  # 10 promoter, 7 passive, 6 detractor
    assert measures.nps([9, 10])["score"] == 100.0
    assert measures.nps([0, 6])["score"] == -100.0
    assert measures.csat([4])["percent"] == 100.0 and measures.csat([3])["percent"] == 0.0


def test_rates(rows):
    k = kpis(rows, *MONTH)
    assert k["escalation_rate"] == pytest.approx(1 / 7)
    assert k["reopen_rate"] == pytest.approx(1 / 6)      # 1 reopen / 6 resolutions (T4 twice)
    assert k["complaint_rate"] == pytest.approx(2 / 7)   # T3, T5
    assert k["bot_deflection_rate"] == pytest.approx(1 / 2)
    # AHT over resolved tickets whose handle time is known (a duration recorded): T1 600, T2 300
    assert k["average_handle_seconds"] == pytest.approx((600 + 300) / 2)


def test_a_range_without_the_events_counts_nothing_but_the_backlog(rows):
    k = kpis(rows, datetime(2026, 4, 1, tzinfo=timezone.utc), datetime(2026, 5, 1, tzinfo=timezone.utc))
    assert (k["volume"], k["resolved"], k["backlog"]) == (0, 0, 2)
    assert k["fcr_rate"] is None and k["csat"]["percent"] is None


def test_backlog_at_a_moment_by_time_travel(events):
    store = replay(events, as_of=T0 + timedelta(minutes=45))
    with store.transaction() as tx:
        report = kpi_report(ReadView(tx), *MONTH, None)["groups"]["all"]
    assert report["backlog"] == 6  # only T6 was resolved by 09:45
    assert report["resolved"] == 1


def test_agent_evaluation_attributes_each_fact(rows):
    board = {e["agent_id"]: e for e in agent_performance.leaderboard(rows, *MONTH)}
    ana, bo, cy = board["ana"], board["bo"], board["cy"]
    assert (ana["tickets_handled"], ana["tickets_resolved"], ana["fcr_rate"]) == (4, 1, 1.0)
    assert ana["first_response_seconds"]["median"] == 1500.0  # T1 1800, T7 1200
    assert (ana["escalations_caused"], ana["complaints_against"], ana["csat"]["percent"]) == (1, 1, 100.0)
    assert (bo["tickets_handled"], bo["tickets_resolved"], bo["fcr_rate"], bo["reopens_caused"]) == (2, 2, 0.0, 1)
    assert bo["csat"]["percent"] == 0.0
    assert (cy["tickets_resolved"], cy["csat"]["mean"], cy["nps"]["score"]) == (1, 4.0, -100.0)


def test_composite_score_is_the_weighted_mean_of_available_parts(rows):
    weights = {"fcr": 1.0, "csat": 1.0}
    bo = agent_performance.performance(rows, "bo", *MONTH, weights)
    assert bo["score"] == 0.0
    ana = agent_performance.performance(rows, "ana", *MONTH, weights)
    assert ana["score"] == 100.0
    board = agent_performance.leaderboard(rows, *MONTH, weights)
    assert [e["agent_id"] for e in board][:1] == ["ana"]


@pytest.mark.parametrize(("period", "start", "end"), [
    ("2026-03", "2026-03-01", "2026-04-01"),
    ("2026-12", "2026-12-01", "2027-01-01"),
    ("2026-W10", "2026-03-02", "2026-03-09"),
    ("2026-03-02", "2026-03-02", "2026-03-03"),
])
def test_periods(period, start, end):
    lo, hi = period_bounds(period)
    assert (lo.date().isoformat(), hi.date().isoformat()) == (start, end)


def test_bad_period_is_refused():
    with pytest.raises(ValueError):
        period_bounds("March")


def test_a_month_is_the_organisations_month_not_utcs():
    from zoneinfo import ZoneInfo

    lo, hi = period_bounds("2026-10", ZoneInfo("Asia/Shanghai"))
    assert (lo.isoformat(), hi.isoformat()) == ("2026-09-30T16:00:00+00:00", "2026-10-31T16:00:00+00:00")


def test_percentiles_are_exact():
    assert measures.percentile([5.0], 90) == 5.0
    assert measures.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert measures.percentile([], 50) is None

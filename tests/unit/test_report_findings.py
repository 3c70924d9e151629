"""Each finding rule of the monthly report (projections/report.py) fires on figures that meet it
and stays silent on figures that do not; every finding carries the numbers that triggered it."""

from __future__ import annotations

import pytest

from projections import report as r


def category(fcr: float, resolved: int) -> dict:
    return {"fcr_rate": fcr, "resolved": resolved}


def test_the_category_whose_fcr_fell_most_is_found_with_its_root_causes():
    now = {"billing": category(0.50, 40), "delivery": category(0.60, 40), "account": category(0.70, 40)}
    before = {"billing": category(0.70, 30), "delivery": category(0.70, 30), "account": category(0.60, 30)}
    causes = {"billing": [{"root_cause": "fee", "tickets": 9}]}
    [finding] = r.fcr_drop(now, before, causes)
    assert finding["rule"] == "fcr_drop" and finding["subject"] == "billing"
    assert finding["figures"]["change_points"] == pytest.approx(-20.0)
    assert finding["figures"]["previous_fcr_rate"] == 0.70 and finding["root_causes"] == causes["billing"]


def test_a_small_fcr_fall_or_too_few_tickets_finds_nothing():
    assert r.fcr_drop({"billing": category(0.67, 40)}, {"billing": category(0.70, 40)}, {}) == []  # 3 points
    assert r.fcr_drop({"billing": category(0.30, 40)}, {"billing": category(0.70, r.FCR_MIN_RESOLVED - 1)}, {}) == []
    assert r.fcr_drop({"billing": category(0.30, 40)}, {}, {}) == []


def agent(name: str, resolved: int, reopens: int) -> dict:
    return {"agent_id": name, "tickets_resolved": resolved, "reopens_caused": reopens}


def test_an_agent_reopening_far_more_than_the_team_is_found():
    agents = [agent("ana", 50, 10), *[agent(f"a{i}", 50, 1) for i in range(9)]]
    [finding] = r.reopen_outliers(agents)
    assert finding["subject"] == "ana"
    assert finding["figures"]["reopen_rate"] == pytest.approx(0.2)
    assert finding["figures"]["team_reopen_rate"] == pytest.approx(19 / 500)
    assert finding["figures"]["factor"] >= r.REOPEN_FACTOR


def test_agents_near_the_team_rate_or_with_few_reopens_are_not_found():
    assert r.reopen_outliers([agent("ana", 50, 3), agent("bo", 50, 2), agent("cy", 50, 2)]) == []
    assert r.reopen_outliers([agent("ana", 5, 2), *[agent(f"a{i}", 50, 0) for i in range(5)]]) == []  # few resolved
    assert r.reopen_outliers([agent("ana", 50, 0)]) == []  # no reopens at all


def test_a_priority_below_the_compliance_target_is_found_with_its_most_missed_deadline():
    by_priority = [{"priority": "P1", "resolved": 20, "within_sla": 15, "sla_compliance": 0.75},
                   {"priority": "P2", "resolved": 20, "within_sla": 19, "sla_compliance": 0.95}]
    kinds = {"P1": [{"kind": "first_response", "missed": 1}, {"kind": "resolution", "missed": 4}]}
    [finding] = r.sla_below_target(by_priority, 0.9, kinds)
    assert finding["subject"] == "P1"
    assert finding["figures"] == {"sla_compliance": 0.75, "target": 0.9, "resolved": 20, "missed": 5,
                                  "worst_kind": "resolution", "worst_kind_missed": 4}


def test_priorities_at_target_or_with_few_tickets_are_not_found():
    at_target = [{"priority": "P1", "resolved": 20, "within_sla": 18, "sla_compliance": 0.9}]
    few = [{"priority": "P1", "resolved": r.SLA_MIN_RESOLVED - 1, "within_sla": 0, "sla_compliance": 0.0}]
    assert r.sla_below_target(at_target, 0.9, {}) == []
    assert r.sla_below_target(few, 0.9, {}) == []


def hotspot(abnormal: bool) -> dict:
    return {"slice": {"category": "billing"}, "observed": 40, "expected": 10.0, "ratio": 4.0, "q_value": 0.001,
            "abnormal": abnormal}


def test_an_abnormal_hotspot_is_a_finding_and_a_normal_slice_is_not():
    [finding] = r.abnormal_hotspots({"slices": [hotspot(True)]})
    assert (finding["subject"], finding["figures"]["observed"], finding["figures"]["expected"]) == ("billing", 40, 10.0)
    assert r.abnormal_hotspots({"slices": [hotspot(False)]}) == []
    assert r.abnormal_hotspots(None) == []


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_every_finding_is_worded_from_the_catalogue_with_its_numbers(lang):
    from api.reports.i18n import Translator
    from api.reports.tables import finding_text

    t = Translator(lang)
    findings = [
        *r.fcr_drop({"billing": category(0.5, 40)}, {"billing": category(0.7, 40)},
                    {"billing": [{"root_cause": "fee", "tickets": 9}]}),
        *r.reopen_outliers([agent("ana", 50, 10), *[agent(f"a{i}", 50, 1) for i in range(9)]]),
        *r.sla_below_target([{"priority": "P1", "resolved": 20, "within_sla": 15, "sla_compliance": 0.75}], 0.9, {}),
        *r.abnormal_hotspots({"slices": [hotspot(True)]}),
    ]
    texts = [finding_text(f, t) for f in findings]
    assert len(texts) == 4 and t.missing == set()
    assert "fee (9)" in texts[0][0] and "ana" in texts[1][0] and "P1" in texts[2][0] and "40" in texts[3][0]
    if lang == "zh-CN":
        assert "首次解决率" in texts[0][0] and "重开率" in texts[1][0]

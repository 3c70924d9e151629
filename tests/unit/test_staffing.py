"""Erlang C against the published worked example (Call Centre Helper, "Erlang C formula – made
simple": 100 calls in 30 minutes, AHT 180 s, 80 % answered in 20 s) and against properties."""

from __future__ import annotations

import pytest

from domain.staffing import erlang_c, evaluate, required_agents

EXAMPLE = dict(contacts=100, interval_seconds=1800, aht_seconds=180, answer_seconds=20)


def test_traffic_and_probability_of_waiting_match_the_worked_example():
    result = evaluate(11, **EXAMPLE)
    assert result.traffic_erlangs == pytest.approx(10.0)
    assert result.probability_of_waiting == pytest.approx(0.6821, abs=1e-4)


def test_the_worked_example_needs_fourteen_agents():
    result = required_agents(service_level=0.8, **EXAMPLE)
    assert result.agents == 14
    assert result.service_level == pytest.approx(0.8884, abs=1e-3)
    assert evaluate(13, **EXAMPLE).service_level < 0.8
    assert result.occupancy == pytest.approx(10 / 14)
    assert result.average_speed_of_answer_seconds == pytest.approx(
        result.probability_of_waiting * 180 / (14 - 10))


def test_more_agents_never_lower_the_service_level():
    levels = [evaluate(n, **EXAMPLE).service_level for n in range(11, 25)]
    assert levels == sorted(levels)
    assert erlang_c(10, 10.0) == 1.0, "no queue is stable at 100 % load"


def test_a_quiet_interval_needs_no_one_and_bad_input_is_refused():
    assert required_agents(contacts=0, interval_seconds=1800, aht_seconds=180, service_level=0.8,
                           answer_seconds=20).agents == 0
    with pytest.raises(ValueError):
        required_agents(contacts=10, interval_seconds=1800, aht_seconds=180, service_level=1.5, answer_seconds=20)

"""Erlang C against the published worked example (Call Centre Helper, "Erlang C formula – made
simple": 100 calls in 30 minutes, AHT 180 s, 80 % answered in 20 s) and against properties."""

from __future__ import annotations

import pytest

from domain.staffing import erlang_c, evaluate, evaluate_abandoning, required_agents

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


# ------------------------------------------------------------------------------------ Erlang A
def test_erlang_a_with_endless_patience_is_erlang_c():
    """With patience far beyond any wait, nobody abandons: the published Erlang C figures hold."""
    for agents in (11, 13, 14):
        c = evaluate(agents, **EXAMPLE)
        a = evaluate_abandoning(agents, patience_seconds=1e9, **EXAMPLE)
        assert a.probability_of_waiting == pytest.approx(c.probability_of_waiting, abs=1e-5)
        assert a.service_level == pytest.approx(c.service_level, abs=1e-5)
        assert a.average_speed_of_answer_seconds == pytest.approx(c.average_speed_of_answer_seconds, rel=1e-4)
        assert a.abandonment < 1e-5


def test_erlang_a_abandonment_agrees_with_the_per_state_chance_of_giving_up():
    """P(abandon) = θ·E[queue]/λ must equal Σ_k π_k · P(a caller finding k gives up) computed stage by stage."""
    import math

    agents, patience = 9, 90.0
    result = evaluate_abandoning(agents, patience_seconds=patience, **EXAMPLE)
    arrival, service, abandon = 100 / 1800, 1 / 180, 1 / patience
    weights, term = [1.0], 1.0
    for k in range(1, 400):
        term *= arrival / (min(k, agents) * service + max(k - agents, 0) * abandon)
        weights.append(term)
    pi = [w / sum(weights) for w in weights]
    gives_up = sum(pi[k] * (1 - math.prod((agents * service + i * abandon) / (agents * service + (i + 1) * abandon)
                                          for i in range(k - agents + 1)))
                   for k in range(agents, len(pi)))
    assert result.abandonment == pytest.approx(gives_up, rel=1e-6)


def test_erlang_a_matches_a_simulated_queue_with_impatient_callers():
    """Discrete-event simulation of M/M/N+M (first come, first served), 200,000 callers."""
    import heapq
    import random

    agents, aht, patience, rate, answer = 9, 180.0, 120.0, 100 / 1800, 20.0
    rng = random.Random(11)
    free_at = [0.0] * agents  # when each agent is next free
    heapq.heapify(free_at)
    now, answered_in_time, abandoned, waits, callers = 0.0, 0, 0, 0.0, 200_000
    # FCFS with exponential patience: a caller is served by the earliest free agent unless it gave up first;
    # callers who give up do not hold agents, so the earliest-free agent at the caller's arrival is exact.
    for _ in range(callers):
        now += rng.expovariate(rate)
        start = max(now, free_at[0])
        if start - now > rng.expovariate(1 / patience):
            abandoned += 1
            continue
        heapq.heapreplace(free_at, start + rng.expovariate(1 / aht))
        waits += start - now
        answered_in_time += start - now <= answer
    theory = evaluate_abandoning(agents, patience_seconds=patience, contacts=100, interval_seconds=1800,
                                 aht_seconds=aht, answer_seconds=answer)
    assert abandoned / callers == pytest.approx(theory.abandonment, abs=0.01)
    assert answered_in_time / callers == pytest.approx(theory.service_level, abs=0.015)
    assert waits / (callers - abandoned) == pytest.approx(theory.average_speed_of_answer_seconds, rel=0.1)


def test_patient_callers_need_no_more_agents_than_erlang_c_says():
    c = required_agents(service_level=0.8, **EXAMPLE)
    a = required_agents(service_level=0.8, patience_seconds=120, **EXAMPLE)
    assert a.agents <= c.agents and a.service_level >= 0.8 and 0 < a.abandonment < 0.2
    with pytest.raises(ValueError):
        required_agents(service_level=0.8, patience_seconds=0, **EXAMPLE)

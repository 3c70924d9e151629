"""Staffing by Erlang C: how many agents an interval needs to answer a share of contacts within a
target time, given the contacts expected and the average handle time.

Traffic A = contacts × AHT / interval length (Erlangs). With N > A agents, the probability that a
contact waits is Erlang C, computed through the numerically stable Erlang B recursion; then
service level = 1 − P(wait)·e^(−(N−A)·t/AHT), average speed of answer = P(wait)·AHT/(N−A) and
occupancy = A/N. The answer is the smallest N that meets the target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Staffing:
    agents: int
    traffic_erlangs: float
    probability_of_waiting: float
    service_level: float
    average_speed_of_answer_seconds: float
    occupancy: float


def erlang_c(agents: int, traffic: float) -> float:
    """P(a contact waits) for ``agents`` servers offered ``traffic`` Erlangs (1.0 when overloaded)."""
    if agents <= traffic:
        return 1.0
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = traffic * blocking / (k + traffic * blocking)
    return agents * blocking / (agents - traffic * (1 - blocking))


def evaluate(agents: int, *, contacts: float, interval_seconds: float, aht_seconds: float,
             answer_seconds: float) -> Staffing:
    traffic = contacts * aht_seconds / interval_seconds
    waiting = erlang_c(agents, traffic)
    if agents <= traffic:
        return Staffing(agents, traffic, 1.0, 0.0, math.inf, 1.0)
    level = 1 - waiting * math.exp(-(agents - traffic) * answer_seconds / aht_seconds)
    return Staffing(agents, traffic, waiting, level, waiting * aht_seconds / (agents - traffic), traffic / agents)


def required_agents(*, contacts: float, interval_seconds: float, aht_seconds: float, service_level: float,
                    answer_seconds: float, max_agents: int = 100_000) -> Staffing:
    """The fewest agents meeting the service level (e.g. 0.8 of contacts answered within 20 s)."""
    if contacts < 0 or interval_seconds <= 0 or aht_seconds <= 0 or not 0 < service_level < 1 or answer_seconds < 0:
        raise ValueError("contacts ≥ 0, interval and AHT > 0, 0 < service level < 1, answer time ≥ 0")
    if contacts == 0:
        return Staffing(0, 0.0, 0.0, 1.0, 0.0, 0.0)
    traffic = contacts * aht_seconds / interval_seconds
    for agents in range(max(1, math.floor(traffic) + 1), max_agents + 1):
        result = evaluate(agents, contacts=contacts, interval_seconds=interval_seconds, aht_seconds=aht_seconds,
                          answer_seconds=answer_seconds)
        if result.service_level >= service_level:
            return result
    raise ValueError(f"more than {max_agents} agents would be needed")

"""Staffing by Erlang C: how many agents an interval needs to answer a share of contacts within a
target time, given the contacts expected and the average handle time.

Traffic A = contacts × AHT / interval length (Erlangs). With N > A agents, the probability that a
contact waits is Erlang C, computed through the numerically stable Erlang B recursion; then
service level = 1 − P(wait)·e^(−(N−A)·t/AHT), average speed of answer = P(wait)·AHT/(N−A) and
occupancy = A/N. The answer is the smallest N that meets the target.

When callers give up after an exponentially distributed patience (mean ``patience_seconds``), the
queue is Erlang A (M/M/N+M, Garnett, Mandelbaum & Reiman 2002). Its number in system is a
birth–death chain (arrivals λ; departures min(k, N)·μ + max(k − N, 0)·θ with θ = 1/patience) whose
stationary distribution is computed exactly here, truncated where the tail is below 1e-16. From it:
P(wait) = P(k ≥ N) on arrival (PASTA); P(abandon) = θ·E[queue]/λ (abandonments per second over
arrivals per second); service level = P(answered within t), abandonments counting as not answered;
ASA = the mean wait of answered callers. A caller who finds j others waiting passes stages of rate
aᵢ = Nμ + iθ (i = j … 0) while its own patience runs: it is answered with probability ∏ aᵢ/(aᵢ+θ),
after a wait distributed as Σ Exp(aᵢ+θ) given that (its patience tilts each stage), whose mean is
Σ 1/(aᵢ+θ) and whose distribution is computed by uniformization. Pure Python: no numeric library needed.
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
    abandonment: float = 0.0  # share of contacts that give up waiting (Erlang A; 0 under Erlang C)

    def as_dict(self) -> dict[str, float | int]:
        return {"agents": self.agents, "traffic_erlangs": round(self.traffic_erlangs, 4),
                "probability_of_waiting": round(self.probability_of_waiting, 4),
                "service_level": round(self.service_level, 4),
                "average_speed_of_answer_seconds": round(self.average_speed_of_answer_seconds, 2),
                "occupancy": round(self.occupancy, 4), "abandonment": round(self.abandonment, 4)}


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


def evaluate_abandoning(agents: int, *, contacts: float, interval_seconds: float, aht_seconds: float,
                        answer_seconds: float, patience_seconds: float) -> Staffing:
    """Erlang A figures for ``agents`` agents when callers abandon after ``patience_seconds`` on average."""
    arrival, service, abandon = contacts / interval_seconds, 1 / aht_seconds, 1 / patience_seconds
    traffic = arrival / service
    if agents == 0:
        return Staffing(0, traffic, 1.0, 0.0, patience_seconds, 0.0, 1.0)
    # log of unnormalised π_k, k = 0, 1, …, until past the bulk and below 1e-16 of the peak
    logs, k, log_term = [0.0], 0, 0.0
    while True:
        k += 1
        departure = min(k, agents) * service + max(k - agents, 0) * abandon
        log_term += math.log(arrival) - math.log(departure)
        logs.append(log_term)
        if k > agents and (log_term < max(logs) - 37 or k > agents + 1_000_000):
            break
    peak = max(logs)
    weights = [math.exp(v - peak) for v in logs]
    total = sum(weights)
    pi = [w / total for w in weights]
    waiting = sum(pi[agents:])
    queue = sum((k - agents) * p for k, p in enumerate(pi) if k > agents)
    abandoned = abandon * queue / arrival
    answered_in_time, answered_wait = sum(pi[:agents]), 0.0
    for k in range(agents, len(pi)):
        if pi[k] > 1e-15:
            rates = [agents * service + i * abandon for i in range(k - agents + 1)]
            survives = math.prod(r / (r + abandon) for r in rates)
            answered_wait += pi[k] * survives * sum(1 / (r + abandon) for r in rates)
            answered_in_time += pi[k] * _answered_within(k - agents, agents * service, abandon, answer_seconds)
    occupancy = min(1.0, traffic * (1 - abandoned) / agents)
    speed_of_answer = answered_wait / (1 - abandoned) if abandoned < 1 else math.inf
    return Staffing(agents, traffic, waiting, answered_in_time, speed_of_answer, occupancy, abandoned)


def _answered_within(ahead: int, serving_rate: float, abandon: float, seconds: float) -> float:
    """P(a caller with ``ahead`` callers before it is answered within ``seconds``, before giving up)."""
    rates = [serving_rate + i * abandon for i in range(ahead, -1, -1)]  # stage rates, first to last
    survives = math.prod(r / (r + abandon) for r in rates)
    tilted = [r + abandon for r in rates]
    # uniformization: P(Σ Exp(tilted) ≤ seconds) for the stages in order
    fastest = max(tilted)
    mean_jumps = fastest * seconds
    stage = [0.0] * (len(tilted) + 1)
    stage[0] = 1.0
    weight = math.exp(-mean_jumps)
    done = stage[-1] * weight
    accumulated = weight
    jumps = 0
    while accumulated < 1 - 1e-12 and jumps < 100_000:
        jumps += 1
        for i in range(len(tilted) - 1, -1, -1):
            moved = stage[i] * tilted[i] / fastest
            stage[i] -= moved
            stage[i + 1] += moved
        weight *= mean_jumps / jumps
        accumulated += weight
        done += stage[-1] * weight
    return survives * done


def required_agents(*, contacts: float, interval_seconds: float, aht_seconds: float, service_level: float,
                    answer_seconds: float, patience_seconds: float | None = None,
                    max_agents: int = 100_000) -> Staffing:
    """The fewest agents meeting the service level (e.g. 0.8 of contacts answered within 20 s): Erlang C,
    or Erlang A when callers abandon after ``patience_seconds`` on average."""
    if contacts < 0 or interval_seconds <= 0 or aht_seconds <= 0 or not 0 < service_level < 1 or answer_seconds < 0:
        raise ValueError("contacts ≥ 0, interval and AHT > 0, 0 < service level < 1, answer time ≥ 0")
    if patience_seconds is not None and patience_seconds <= 0:
        raise ValueError("patience must be > 0 seconds")
    if contacts == 0:
        return Staffing(0, 0.0, 0.0, 1.0, 0.0, 0.0)
    traffic = contacts * aht_seconds / interval_seconds
    if patience_seconds is not None:
        for agents in range(1, max_agents + 1):
            result = evaluate_abandoning(agents, contacts=contacts, interval_seconds=interval_seconds,
                                         aht_seconds=aht_seconds, answer_seconds=answer_seconds,
                                         patience_seconds=patience_seconds)
            if result.service_level >= service_level:
                return result
        raise ValueError(f"more than {max_agents} agents would be needed")
    for agents in range(max(1, math.floor(traffic) + 1), max_agents + 1):
        result = evaluate(agents, contacts=contacts, interval_seconds=interval_seconds, aht_seconds=aht_seconds,
                          answer_seconds=answer_seconds)
        if result.service_level >= service_level:
            return result
    raise ValueError(f"more than {max_agents} agents would be needed")

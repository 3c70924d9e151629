"""Agent evaluation for a period (DOMAIN.md): what each agent did, how well, and a weighted score.

Attribution (each fact counts for the agent it names, at the moment it happened):
- handled: tickets assigned to the agent during the period;
- resolved, FCR, TTR: tickets whose final resolution in the period was by the agent;
- FRT (wall-clock and business time): tickets whose first response in the period was the agent's;
- CSAT / NPS: surveys answered in the period that evaluate the agent;
- escalations caused: escalations that occurred in the period while the agent was the assignee
  (assignee at the escalation's business time, not when its event was folded);
- reopens caused: reopens in the period that undid a resolution by the agent;
- complaints against the agent: tickets that became complaints in the period while assigned to
  the agent (at that business time);
- SLA compliance: of the tickets the agent resolved in the period, the share that missed no
  deadline (SLA facts).
The composite score is the weighted mean (0–100)
of the parts available for the agent, each scaled to 0–1; weights are configuration.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from projections import measures as m
from projections.ticket_state.fold import TicketRow, iso

DEFAULT_WEIGHTS = {"fcr": 0.25, "csat": 0.25, "nps": 0.1, "speed": 0.2, "escalations": 0.1, "reopens": 0.1}
SPEED_REFERENCE_HOURS = 24.0  # a median TTR of one day scores 0.5 on speed


def _empty() -> dict[str, Any]:
    return {"handled": set(), "resolved": [], "frt": [], "frt_business": [], "csat": [], "nps": [],
            "escalations": 0, "reopens": 0, "complaints": 0}


def collect(rows: Iterable[TicketRow], start: datetime, end: datetime) -> dict[str, dict[str, Any]]:
    lo, hi = iso(start), iso(end)
    facts: dict[str, dict[str, Any]] = {}

    def of(agent: str) -> dict[str, Any]:
        return facts.setdefault(agent, _empty())

    for row in rows:
        for agent, at in row.assignments:
            if m.within(at, lo, hi):
                of(agent)["handled"].add(row.ticket_id)
        if row.resolved_by and m.within(row.resolved_at, lo, hi):
            of(row.resolved_by)["resolved"].append(row)
        if row.first_responder and m.within(row.first_response_at, lo, hi):
            of(row.first_responder)["frt"].append(m.first_response_seconds(row))
            if row.first_response_business_seconds is not None:
                of(row.first_responder)["frt_business"].append(row.first_response_business_seconds)
        if row.evaluated_agent_id and m.within(row.surveyed_at, lo, hi):
            if row.csat is not None:
                of(row.evaluated_agent_id)["csat"].append(row.csat)
            if row.nps is not None:
                of(row.evaluated_agent_id)["nps"].append(row.nps)
        for _level, at, _automatic, version, *_why in row.escalations:
            if m.within(at, lo, hi) and (assignee := m.assignee_at(row, at, version)):
                of(assignee)["escalations"] += 1
        for at, resolver in row.reopens:
            if resolver and m.within(at, lo, hi):
                of(resolver)["reopens"] += 1
        if m.within(row.complaint_at, lo, hi) and (
                against := m.assignee_at(row, row.complaint_at, row.complaint_version or 1)):
            of(against)["complaints"] += 1
    return facts


def evaluate(agent: str, facts: dict[str, Any], weights: dict[str, float]) -> dict[str, Any]:
    resolved: list[TicketRow] = facts["resolved"]
    ttr = [m.resolution_seconds(r) for r in resolved]
    csat, nps = m.csat(facts["csat"]), m.nps(facts["nps"])
    fcr_rate = m.ratio(sum(1 for r in resolved if m.is_fcr(r)), len(resolved))
    handled = len(facts["handled"])
    ttr_stats = m.distribution(ttr)
    parts = {
        "fcr": fcr_rate,
        "csat": None if csat["percent"] is None else csat["percent"] / 100,
        "nps": None if nps["score"] is None else (nps["score"] + 100) / 200,
        "speed": None if ttr_stats["median"] is None
        else 1 / (1 + max(ttr_stats["median"], 0) / 3600 / SPEED_REFERENCE_HOURS),
        "escalations": None if not handled else 1 - min(1.0, facts["escalations"] / handled),
        "reopens": None if not resolved else 1 - min(1.0, facts["reopens"] / len(resolved)),
    }
    weighted = [(weights.get(name, 0.0), value) for name, value in parts.items() if value is not None]
    total_weight = sum(w for w, _ in weighted)
    score = 100 * sum(w * v for w, v in weighted) / total_weight if total_weight else None
    return {
        "agent_id": agent,
        "tickets_handled": handled,
        "tickets_resolved": len(resolved),
        "fcr_rate": fcr_rate,
        "first_response_seconds": m.distribution(facts["frt"]),
        "first_response_business_seconds": m.distribution(facts["frt_business"]),
        "resolution_seconds": ttr_stats,
        "resolution_business_seconds": m.distribution(
            [r.resolution_business_seconds for r in resolved if r.resolution_business_seconds is not None]),
        "csat": csat,
        "nps": nps,
        "sla_compliance": m.ratio(sum(1 for r in resolved if m.within_sla(r)), len(resolved)),
        "escalations_caused": facts["escalations"],
        "reopens_caused": facts["reopens"],
        "complaints_against": facts["complaints"],
        "score": None if score is None or math.isnan(score) else round(score, 2),
        "score_parts": parts,
    }


def performance(rows: Iterable[TicketRow], agent: str, start: datetime, end: datetime,
                weights: dict[str, float] = DEFAULT_WEIGHTS) -> dict[str, Any]:
    facts = collect(rows, start, end).get(agent, _empty())
    return evaluate(agent, facts, weights)


def leaderboard(rows: Iterable[TicketRow], start: datetime, end: datetime,
                weights: dict[str, float] = DEFAULT_WEIGHTS) -> list[dict[str, Any]]:
    """Every agent active in the period, best composite score first (no score last)."""
    board = [evaluate(agent, facts, weights) for agent, facts in collect(rows, start, end).items()]
    return sorted(board, key=lambda e: (e["score"] is None, -(e["score"] or 0), e["agent_id"]))

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

from domain.ticket_history import Assignment, Escalation, Reopen
from projections import measures as m
from projections.distribution import Distribution
from projections.fact_totals import survey_totals
from projections.ticket_state.fact_rows import FCR, WITHIN_SLA, Fact
from projections.ticket_state.fold import TicketRow, iso

DEFAULT_WEIGHTS = {"fcr": 0.25, "csat": 0.25, "nps": 0.1, "speed": 0.2, "escalations": 0.1, "reopens": 0.1}
SPEED_REFERENCE_HOURS = 24.0  # a median TTR of one day scores 0.5 on speed


class AgentTally:
    """What one agent did in a period, as the evaluation counts it. Filled from whole rows by
    ``collect`` (with exact distributions: the definition) or from fact rows and roll-up cells by
    ``add`` and ``add_totals`` (durations sketched: ``projections.distribution``)."""

    __slots__ = ("handled", "handled_tickets", "resolved", "fcr", "within_sla", "ttr", "ttr_business", "frt",
                 "frt_business", "csat_n", "csat_good", "csat_sum", "nps_n", "nps_promoters", "nps_detractors",
                 "escalations", "reopens", "complaints")

    def __init__(self, exact: bool = False) -> None:
        self.handled = self.resolved = self.fcr = self.within_sla = 0
        self.csat_n = self.csat_good = self.csat_sum = self.nps_n = self.nps_promoters = self.nps_detractors = 0
        self.escalations = self.reopens = self.complaints = 0
        self.handled_tickets: set[str] = set()
        self.ttr, self.ttr_business = Distribution(exact), Distribution(exact)
        self.frt, self.frt_business = Distribution(exact), Distribution(exact)

    @property
    def counts_anything(self) -> bool:
        return bool(self.handled or self.handled_tickets or self.resolved or self.frt.count or self.csat_n
                    or self.nps_n or self.escalations or self.reopens or self.complaints)

    def survey(self, csat: int | None, nps: int | None, sign: int = 1) -> None:
        m.add_survey_totals(self, *survey_totals(csat, nps, sign))

    def add(self, ticket_id: str, fact: Fact, sign: int = 1) -> None:
        """One fact naming this agent (``sign`` −1 takes it out again)."""
        kind = fact.kind
        if kind == "assigned":
            self.handled_tickets.add(ticket_id)
        elif kind == "handled":
            self.handled += sign
        elif kind == "resolved":
            self.resolved += sign
            self.fcr += sign * int(bool(fact.flags & FCR))
            self.within_sla += sign * int(bool(fact.flags & WITHIN_SLA))
            self.ttr.add(fact.seconds, sign)
            if fact.business_seconds is not None:
                self.ttr_business.add(fact.business_seconds, sign)
        elif kind == "first_response":
            self.frt.add(fact.seconds, sign)
            if fact.business_seconds is not None:
                self.frt_business.add(fact.business_seconds, sign)
        elif kind == "survey":
            self.survey(fact.csat, fact.nps, sign)
        elif kind == "escalation":
            self.escalations += sign
        elif kind == "reopen":
            self.reopens += sign
        elif kind == "complaint":
            self.complaints += sign

    def add_totals(self, kind: str, totals: list[int]) -> None:
        """A roll-up cell's totals (``fact_totals.TOTALS``) of one kind of this agent's facts."""
        (n, bit0, bit1, _bit2, _bit3, s_n, s_us, bs_n, bs_us, _h_n, _h_us,
         c_n, c_good, c_sum, p_n, p_pro, p_det) = totals
        if kind == "handled":
            self.handled += n
        elif kind == "resolved":
            self.resolved += n
            self.fcr += bit0
            self.within_sla += bit1
            self.ttr.add_totals(s_n, s_us)
            self.ttr_business.add_totals(bs_n, bs_us)
        elif kind == "first_response":
            self.frt.add_totals(s_n, s_us)
            self.frt_business.add_totals(bs_n, bs_us)
        elif kind == "survey":
            m.add_survey_totals(self, c_n, c_good, c_sum, p_n, p_pro, p_det)
        elif kind == "escalation":
            self.escalations += n
        elif kind == "reopen":
            self.reopens += n
        elif kind == "complaint":
            self.complaints += n

    def sketch(self, kind: str, measure: str) -> Distribution | None:
        """The distribution a roll-up's bins of this kind and measure (``s``, ``b``) add to."""
        if kind == "resolved":
            return self.ttr if measure == "s" else self.ttr_business
        if kind == "first_response":
            return self.frt if measure == "s" else self.frt_business
        return None


def collect(rows: Iterable[TicketRow], start: datetime, end: datetime) -> dict[str, AgentTally]:
    """What each agent did in ``[start, end)``, from whole rows: the definition."""
    lo, hi = iso(start), iso(end)
    facts: dict[str, AgentTally] = {}

    def of(agent: str) -> AgentTally:
        return facts.setdefault(agent, AgentTally(exact=True))

    for row in rows:
        for assignment in map(Assignment._make, row.assignments):
            if m.within(assignment.at, lo, hi):
                of(assignment.agent_id).handled_tickets.add(row.ticket_id)
        if row.resolved_by and m.within(row.resolved_at, lo, hi):
            tally = of(row.resolved_by)
            tally.resolved += 1
            tally.fcr += int(m.is_fcr(row))
            tally.within_sla += int(m.within_sla(row))
            tally.ttr.add(m.resolution_seconds(row))
            if row.resolution_business_seconds is not None:
                tally.ttr_business.add(row.resolution_business_seconds)
        if row.first_responder and m.within(row.first_response_at, lo, hi):
            of(row.first_responder).frt.add(m.first_response_seconds(row))
            if row.first_response_business_seconds is not None:
                of(row.first_responder).frt_business.add(row.first_response_business_seconds)
        if row.evaluated_agent_id and m.within(row.surveyed_at, lo, hi) and (row.csat, row.nps) != (None, None):
            of(row.evaluated_agent_id).survey(row.csat, row.nps)
        for escalation in map(Escalation._make, row.escalations):
            if m.within(escalation.at, lo, hi) and (assignee := m.assignee_at(row, escalation.at, escalation.version)):
                of(assignee).escalations += 1
        for reopen in map(Reopen._make, row.reopens):
            if reopen.undone_resolver and m.within(reopen.at, lo, hi):
                of(reopen.undone_resolver).reopens += 1
        if m.within(row.complaint_at, lo, hi) and (
                against := m.assignee_at(row, row.complaint_at, row.complaint_version or 1)):
            of(against).complaints += 1
    return facts


EVALUATION_FACTS = ("assigned", "resolved", "first_response", "survey", "escalation", "reopen", "complaint")


def evaluate(agent: str, facts: AgentTally, weights: dict[str, float]) -> dict[str, Any]:
    csat = m.csat_of(facts.csat_n, facts.csat_good, facts.csat_sum)
    nps = m.nps_of(facts.nps_n, facts.nps_promoters, facts.nps_detractors)
    fcr_rate = m.ratio(facts.fcr, facts.resolved)
    handled = facts.handled + len(facts.handled_tickets)
    ttr_stats = facts.ttr.summary()
    parts = {
        "fcr": fcr_rate,
        "csat": None if csat["percent"] is None else csat["percent"] / 100,
        "nps": None if nps["score"] is None else (nps["score"] + 100) / 200,
        "speed": None if ttr_stats["median"] is None
        else 1 / (1 + max(ttr_stats["median"], 0) / 3600 / SPEED_REFERENCE_HOURS),
        "escalations": None if not handled else 1 - min(1.0, facts.escalations / handled),
        "reopens": None if not facts.resolved else 1 - min(1.0, facts.reopens / facts.resolved),
    }
    weighted = [(weights.get(name, 0.0), value) for name, value in parts.items() if value is not None]
    total_weight = sum(w for w, _ in weighted)
    score = 100 * sum(w * v for w, v in weighted) / total_weight if total_weight else None
    return {
        "agent_id": agent,
        "tickets_handled": handled,
        "tickets_resolved": facts.resolved,
        "fcr_rate": fcr_rate,
        "first_response_seconds": facts.frt.summary(),
        "first_response_business_seconds": facts.frt_business.summary(),
        "resolution_seconds": ttr_stats,
        "resolution_business_seconds": facts.ttr_business.summary(),
        "csat": csat,
        "nps": nps,
        "sla_compliance": m.ratio(facts.within_sla, facts.resolved),
        "escalations_caused": facts.escalations,
        "reopens_caused": facts.reopens,
        "complaints_against": facts.complaints,
        "score": None if score is None or math.isnan(score) else round(score, 2),
        "score_parts": parts,
    }


def performance(rows: Iterable[TicketRow], agent: str, start: datetime, end: datetime,
                weights: dict[str, float] = DEFAULT_WEIGHTS) -> dict[str, Any]:
    facts = collect(rows, start, end).get(agent, AgentTally(exact=True))
    return evaluate(agent, facts, weights)


def leaderboard(rows: Iterable[TicketRow], start: datetime, end: datetime,
                weights: dict[str, float] = DEFAULT_WEIGHTS) -> list[dict[str, Any]]:
    """Every agent active in the period, best composite score first (no score last)."""
    return ranked(collect(rows, start, end), weights)


def ranked(collected: dict[str, AgentTally], weights: dict[str, float]) -> list[dict[str, Any]]:
    board = [evaluate(agent, facts, weights) for agent, facts in collected.items() if facts.counts_anything]
    return sorted(board, key=lambda e: (e["score"] is None, -(e["score"] or 0), e["agent_id"]))

"""What-if: the SLA compliance a proposed policy (or calendar) would have given over a past
period, beside what the policy in force gave, from the facts alone; nothing is written.

A service manager asks it before changing a target: "with a 6-hour P2 resolution target, how many
of last month's tickets would have been within SLA?" Tickets are those resolved in the window
(as they stood at the view's moment), exactly the tickets of the KPIs' SLA compliance, so the
"in force" side equals ``/v1/kpis``' ``sla_compliance`` for the same window and moment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.service_levels import ServicePolicy
from projections.measures import ratio, within
from projections.moment import InvalidQuery
from projections.read_side import ReadView, RowFilter
from projections.ticket_state.facts import SlaFacts, deadline_kind, met_late
from projections.ticket_state.fold import TicketRow, iso


def _tally(judged: list[tuple[TicketRow, list[str]]]) -> dict[str, Any]:
    """Compliance overall, per priority and per tier; missed deadlines per kind."""
    def compliance(rows: list[tuple[TicketRow, list[str]]]) -> dict[str, Any]:
        return {"tickets": len(rows), "sla_compliance": ratio(sum(1 for _, missed in rows if not missed), len(rows))}

    by: dict[str, dict[str, list]] = {"priority": {}, "tier": {}}
    breaches: dict[str, int] = {}
    for row, missed in judged:
        by["priority"].setdefault(row.priority or "(none)", []).append((row, missed))
        by["tier"].setdefault(row.customer_tier or "(none)", []).append((row, missed))
        for key in missed:
            breaches[deadline_kind(key)] = breaches.get(deadline_kind(key), 0) + 1
    return {**compliance(judged),
            "per_priority": {k: compliance(v) for k, v in sorted(by["priority"].items())},
            "per_tier": {k: compliance(v) for k, v in sorted(by["tier"].items())},
            "breaches_per_kind": dict(sorted(breaches.items()))}


def what_if(view: ReadView, start: datetime, end: datetime, proposed: ServicePolicy) -> dict[str, Any]:
    if end <= start:
        raise InvalidQuery("to", "to must be after from")
    lo, hi = iso(start), iso(end)
    resolved = [r for r in view.rows(RowFilter(opened_before=hi, active_since=lo)) if within(r.resolved_at, lo, hi)]
    judge = SlaFacts(proposed)
    return {
        "from": lo, "to": hi,
        "in_force": _tally([(r, [key for key, _ in met_late(r.deadline_facts)]) for r in resolved]),
        "proposed": _tally([(r, [key for key, _ in met_late(judge.deadline_facts_of(r))]) for r in resolved]),
    }

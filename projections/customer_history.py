"""Customer history: every ticket, interaction, complaint and survey of one customer, from the
ticket-state rows of that customer (indexed by customer id)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from domain.ticket_history import Interaction
from projections.measures import is_complaint
from projections.ticket_state.fold import TicketRow


def history(customer_id: str, rows: Iterable[TicketRow]) -> dict[str, Any] | None:
    rows = sorted(rows, key=lambda r: (r.opened_at, r.ticket_id))
    if not rows:
        return None
    channels = Counter(r.channel for r in rows)
    for row in rows:
        channels.update(i.channel for i in map(Interaction._make, row.interactions) if i.author == "customer")
    return {
        "customer_id": customer_id,
        "tier": rows[-1].customer_tier,
        "contact": next((r.contact for r in reversed(rows) if r.contact), None),
        "tickets": [
            {"ticket_id": r.ticket_id, "opened_at": r.opened_at, "status": r.status, "channel": r.channel,
             "category": r.category, "subject": r.subject, "priority": r.priority, "resolved_at": r.resolved_at}
            for r in rows
        ],
        "interactions": [
            {"ticket_id": r.ticket_id, "at": at, "channel": channel, "author": author, "agent_id": agent,
             "duration_seconds": duration}
            for r in rows for at, channel, author, agent, duration in r.interactions
        ],
        "complaints": [
            {"ticket_id": r.ticket_id, "at": r.complaint_at, "severity": r.severity, "remedy": r.remedy,
             "root_cause": r.root_cause}
            for r in rows if is_complaint(r)
        ],
        "surveys": [
            {"ticket_id": r.ticket_id, "at": r.surveyed_at, "csat": r.csat, "nps": r.nps,
             "comment": r.survey_comment, "evaluated_agent_id": r.evaluated_agent_id}
            for r in rows if r.surveyed_at
        ],
        "contacts_by_channel": dict(sorted(channels.items())),
    }

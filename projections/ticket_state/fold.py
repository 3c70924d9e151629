"""``fold(row, event) -> row``: the ticket-state read model as a pure function of the events.

Everything here is computed from event fields only (business time ``occurred_at``), so folding
the same events always gives the same rows, whether live, rebuilt, or replayed as of a moment.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from functools import singledispatch
from typing import Any

from domain.events import TicketEvent
from domain.ticket import Ticket


@dataclass(frozen=True)
class TicketRow:
    ticket_id: str
    version: int
    status: str
    customer_id: str
    channel: str
    category: str
    opened_at: str
    sub_category: str | None = None
    product: str | None = None
    region: str | None = None
    department: str | None = None
    priority: str | None = None
    severity: str | None = None
    customer_tier: str = "standard"
    service_type: str | None = None
    language: str | None = None
    assignee_id: str | None = None
    team: str | None = None
    escalation_level: int = 0
    first_response_at: str | None = None
    resolved_at: str | None = None
    closed_at: str | None = None
    waiting_since: str | None = None
    paused: tuple[tuple[str, str], ...] = field(default=())
    reopen_count: int = 0
    transfer_count: int = 0
    escalation_count: int = 0
    inbound_count: int = 0
    csat: int | None = None
    nps: int | None = None
    last_occurred_at: str | None = None
    last_recorded_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["paused"] = [list(interval) for interval in self.paused]
        return document

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> TicketRow:
        return cls(**{**document, "paused": tuple(tuple(p) for p in document.get("paused", ()))})


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def fold(row: TicketRow | None, event: TicketEvent) -> TicketRow:
    if row is None:
        if not isinstance(event, Ticket.Opened):
            raise ValueError(f"ticket {event.ticket_id} has no opening event before {event.TYPE}")
        return _opened(event)
    updated = _apply(event, row)
    return replace(
        updated, version=event.version, last_occurred_at=_iso(event.occurred_at),
        last_recorded_at=_iso(event.recorded_at),
    )


def _opened(e: Ticket.Opened) -> TicketRow:
    return TicketRow(
        ticket_id=str(e.ticket_id), version=e.version, status="opened", customer_id=e.customer_id,
        channel=e.channel, category=e.category, opened_at=_iso(e.occurred_at),
        sub_category=e.sub_category, product=e.product, region=e.region, department=e.department,
        priority=e.priority, severity=e.severity, customer_tier=e.customer_tier,
        service_type=e.service_type, language=e.language,
        last_occurred_at=_iso(e.occurred_at), last_recorded_at=_iso(e.recorded_at),
    )


@singledispatch
def _apply(event: TicketEvent, row: TicketRow) -> TicketRow:
    return row  # an event type this projection does not use


@_apply.register
def _(e: Ticket.Triaged, row: TicketRow) -> TicketRow:
    return replace(
        row,
        status="triaged" if row.status == "opened" else row.status,
        priority=e.priority or row.priority, category=e.category or row.category,
        sub_category=e.sub_category or row.sub_category, severity=e.severity or row.severity,
    )


@_apply.register
def _(e: Ticket.Assigned, row: TicketRow) -> TicketRow:
    status = row.status if row.status == "waiting_on_customer" else "assigned"
    return replace(row, assignee_id=e.agent_id, team=e.team, status=status)


@_apply.register
def _(e: Ticket.Transferred, row: TicketRow) -> TicketRow:
    return replace(row, department=e.to_department, assignee_id=None, team=None,
                   status="transferred", transfer_count=row.transfer_count + 1)


@_apply.register
def _(e: Ticket.InteractionRecorded, row: TicketRow) -> TicketRow:
    changes: dict[str, Any] = {}
    if e.first_response:
        changes["first_response_at"] = _iso(e.occurred_at)
    if e.author == "customer":
        changes["inbound_count"] = row.inbound_count + 1
    if e.resumed:
        changes.update(_end_pause(row, e.occurred_at), status="in_progress")
    elif e.author == "agent" and row.status in ("assigned", "reopened"):
        changes["status"] = "in_progress"
    return replace(row, **changes)


def _end_pause(row: TicketRow, at: datetime) -> dict[str, Any]:
    if row.waiting_since is None:
        return {}
    return {"paused": (*row.paused, (row.waiting_since, _iso(at))), "waiting_since": None}


@_apply.register
def _(e: Ticket.WaitingOnCustomer, row: TicketRow) -> TicketRow:
    return replace(row, status="waiting_on_customer", waiting_since=_iso(e.occurred_at))


@_apply.register
def _(e: Ticket.Resumed, row: TicketRow) -> TicketRow:
    return replace(row, status="in_progress", **_end_pause(row, e.occurred_at))


@_apply.register
def _(e: Ticket.Escalated, row: TicketRow) -> TicketRow:
    return replace(row, escalation_level=e.to_level, escalation_count=row.escalation_count + 1)


@_apply.register
def _(e: Ticket.Resolved, row: TicketRow) -> TicketRow:
    return replace(row, status="resolved", resolved_at=_iso(e.occurred_at))


@_apply.register
def _(e: Ticket.Reopened, row: TicketRow) -> TicketRow:
    return replace(row, status="reopened", resolved_at=None, reopen_count=row.reopen_count + 1)


@_apply.register
def _(e: Ticket.Closed, row: TicketRow) -> TicketRow:
    return replace(row, status="closed", closed_at=_iso(e.occurred_at))


@_apply.register
def _(e: Ticket.Surveyed, row: TicketRow) -> TicketRow:
    return replace(row, csat=e.csat, nps=e.nps)

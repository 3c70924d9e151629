"""``fold(row, event) -> row``: the ticket-state read model as a pure function of the events.

The row holds the ticket's current state and every fact the measures of DOMAIN.md need (SLA
timestamps, pauses, contacts, handle time, who was assigned, escalated, surveyed and when).
Everything comes from event fields only (business time ``occurred_at``), so folding the same
events always gives the same row: live, rebuilt, or replayed as of a moment.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from functools import singledispatch
from typing import Any

from domain.events import TicketEvent
from domain.ticket import Ticket

OPEN_STATUSES = frozenset({"opened", "triaged", "assigned", "in_progress", "transferred",
                           "waiting_on_customer", "reopened"})


@dataclass(frozen=True)
class TicketRow:
    ticket_id: str
    version: int
    status: str
    customer_id: str
    channel: str
    category: str
    opened_at: str
    subject: str = ""
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
    first_responder: str | None = None
    resolved_at: str | None = None
    resolved_by: str | None = None
    resolution_code: str | None = None
    remedy: str | None = None
    root_cause: str | None = None
    closed_at: str | None = None
    waiting_since: str | None = None
    paused: tuple[tuple[str, str], ...] = ()
    reopen_count: int = 0
    transfer_count: int = 0
    escalation_count: int = 0
    inbound_count: int = 0
    agent_interactions: int = 0
    bot_interactions: int = 0
    handle_seconds: float = 0.0
    complaint_at: str | None = None
    complaint_agent: str | None = None
    # (agent, at) of every assignment, and (to_level, at, assignee, automatic) of every escalation
    assignments: tuple[tuple[str, str], ...] = ()
    escalations: tuple[tuple[int, str, str | None, bool], ...] = ()
    # (at, channel, author, agent_id, duration_seconds) of every interaction, in order
    interactions: tuple[tuple[str, str, str, str | None, float | None], ...] = ()
    # (at, resolver) of every resolution, and (at, resolver of the resolution undone) of every reopen
    resolutions: tuple[tuple[str, str | None], ...] = ()
    reopens: tuple[tuple[str, str | None], ...] = ()
    csat: int | None = None
    nps: int | None = None
    survey_comment: str | None = None
    surveyed_at: str | None = None
    evaluated_agent_id: str | None = None
    last_occurred_at: str | None = None
    last_recorded_at: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def as_dict(self) -> dict[str, Any]:
        document = asdict(self)
        for name in SEQUENCES:
            document[name] = [list(item) for item in document[name]]
        return document

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> TicketRow:
        return cls(**{**document, **{name: tuple(tuple(item) for item in document.get(name, ()))
                                        for name in SEQUENCES}})


SEQUENCES = ("paused", "assignments", "escalations", "interactions", "resolutions", "reopens")


def iso(moment: datetime) -> str:
    """The one text form of instants in read models: UTC, 'Z', sortable as text."""
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def fold(row: TicketRow | None, event: TicketEvent) -> TicketRow:
    if row is None:
        if not isinstance(event, Ticket.Opened):
            raise ValueError(f"ticket {event.ticket_id} has no opening event before {event.TYPE}")
        return _opened(event)
    updated = _apply(event, row)
    return replace(updated, version=event.version, last_occurred_at=iso(event.occurred_at),
                   last_recorded_at=iso(event.recorded_at))


def fold_all(events: list[TicketEvent], row: TicketRow | None = None) -> TicketRow | None:
    for event in events:
        row = fold(row, event)
    return row


def _opened(e: Ticket.Opened) -> TicketRow:
    at = iso(e.occurred_at)
    return TicketRow(
        ticket_id=str(e.ticket_id), version=e.version, status="opened", customer_id=e.customer_id,
        channel=str(e.channel), category=e.category, opened_at=at, subject=e.subject,
        sub_category=e.sub_category, product=e.product, region=e.region, department=e.department,
        priority=_str(e.priority), severity=_str(e.severity), customer_tier=str(e.customer_tier),
        service_type=_str(e.service_type), language=e.language,
        complaint_at=at if e.severity else None,
        last_occurred_at=at, last_recorded_at=iso(e.recorded_at),
    )


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


@singledispatch
def _apply(event: TicketEvent, row: TicketRow) -> TicketRow:
    return row  # an event type this projection does not use


@_apply.register
def _(e: Ticket.Triaged, row: TicketRow) -> TicketRow:
    becomes_complaint = e.severity is not None and row.severity is None
    return replace(
        row,
        status="triaged" if row.status == "opened" else row.status,
        priority=_str(e.priority) or row.priority, category=e.category or row.category,
        sub_category=e.sub_category or row.sub_category, severity=_str(e.severity) or row.severity,
        complaint_at=iso(e.occurred_at) if becomes_complaint else row.complaint_at,
        complaint_agent=row.assignee_id if becomes_complaint else row.complaint_agent,
    )


@_apply.register
def _(e: Ticket.Assigned, row: TicketRow) -> TicketRow:
    status = row.status if row.status == "waiting_on_customer" else "assigned"
    return replace(row, assignee_id=e.agent_id, team=e.team, status=status,
                   assignments=(*row.assignments, (e.agent_id, iso(e.occurred_at))))


@_apply.register
def _(e: Ticket.Transferred, row: TicketRow) -> TicketRow:
    return replace(row, department=e.to_department, assignee_id=None, team=None,
                   status="transferred", transfer_count=row.transfer_count + 1)


@_apply.register
def _(e: Ticket.InteractionRecorded, row: TicketRow) -> TicketRow:
    entry = (iso(e.occurred_at), str(e.channel), str(e.author), e.agent_id, e.duration_seconds)
    changes: dict[str, Any] = {"interactions": (*row.interactions, entry)}
    if e.first_response:
        changes.update(first_response_at=iso(e.occurred_at), first_responder=e.agent_id)
    if e.author == "customer":
        changes["inbound_count"] = row.inbound_count + 1
    elif e.author == "agent":
        changes["agent_interactions"] = row.agent_interactions + 1
        changes["handle_seconds"] = row.handle_seconds + (e.duration_seconds or 0.0)
    else:
        changes["bot_interactions"] = row.bot_interactions + 1
    if e.resumed:
        changes.update(_end_pause(row, e.occurred_at), status="in_progress")
    elif e.author == "agent" and row.status in ("assigned", "reopened"):
        changes["status"] = "in_progress"
    return replace(row, **changes)


def _end_pause(row: TicketRow, at: datetime) -> dict[str, Any]:
    if row.waiting_since is None:
        return {}
    return {"paused": (*row.paused, (row.waiting_since, iso(at))), "waiting_since": None}


@_apply.register
def _(e: Ticket.WaitingOnCustomer, row: TicketRow) -> TicketRow:
    return replace(row, status="waiting_on_customer", waiting_since=iso(e.occurred_at))


@_apply.register
def _(e: Ticket.Resumed, row: TicketRow) -> TicketRow:
    return replace(row, status="in_progress", **_end_pause(row, e.occurred_at))


@_apply.register
def _(e: Ticket.Escalated, row: TicketRow) -> TicketRow:
    entry = (e.to_level, iso(e.occurred_at), row.assignee_id, e.automatic)
    return replace(row, escalation_level=e.to_level, escalation_count=row.escalation_count + 1,
                   escalations=(*row.escalations, entry))


@_apply.register
def _(e: Ticket.Resolved, row: TicketRow) -> TicketRow:
    at = iso(e.occurred_at)
    return replace(row, status="resolved", resolved_at=at, resolved_by=e.resolved_by,
                   resolution_code=e.code, remedy=_str(e.remedy), root_cause=e.root_cause,
                   resolutions=(*row.resolutions, (at, e.resolved_by)))


@_apply.register
def _(e: Ticket.Reopened, row: TicketRow) -> TicketRow:
    return replace(row, status="reopened", resolved_at=None, reopen_count=row.reopen_count + 1,
                   reopens=(*row.reopens, (iso(e.occurred_at), row.resolved_by)))


@_apply.register
def _(e: Ticket.Closed, row: TicketRow) -> TicketRow:
    return replace(row, status="closed", closed_at=iso(e.occurred_at))


@_apply.register
def _(e: Ticket.Surveyed, row: TicketRow) -> TicketRow:
    return replace(row, csat=e.csat, nps=e.nps, survey_comment=e.comment, surveyed_at=iso(e.occurred_at),
                   evaluated_agent_id=e.evaluated_agent_id)

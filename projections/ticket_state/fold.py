"""``fold(row, event) -> row``: the ticket-state read model as a pure function of the events.

Events are folded in their **public JSON form** (the document downstream systems read on the
events topic), so the projector decodes the log with a plain JSON parser and the same fold serves
the embedded log, Kafka and time travel. ``fold`` never changes the row it is given: it returns a
changed copy. ``fold_batch`` copies once and applies several events, which is what makes rebuilds
fast; the copy is shallow and safe because every nested value is an immutable tuple.

The row holds the ticket's current state and every fact the measures of DOMAIN.md need (SLA
timestamps, pauses, contacts, handle time, who was assigned, escalated, surveyed and when).
Instants are text in one canonical form (UTC, microseconds, ``Z``), so they sort as text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from operator import attrgetter
from typing import Any

import orjson

from domain.ticket_history import (
    AssigneeChange,
    Assignment,
    DeadlineFact,
    Escalation,
    Interaction,
    Pause,
    Reopen,
    Resolution,
    SlaNotice,
    Transfer,
)

Event = Mapping[str, Any]

OPEN_STATUSES = frozenset({"opened", "triaged", "assigned", "in_progress", "transferred",
                           "waiting_on_customer", "reopened"})
STATUSES = OPEN_STATUSES | {"resolved", "closed"}


@dataclass
class TicketRow:
    ticket_id: str
    version: int
    status: str
    customer_id: str
    channel: str | None
    category: str
    opened_at: str
    subject: str = ""
    sub_category: str | None = None
    product: str | None = None
    region: str | None = None
    district: str | None = None
    postal_code: str | None = None
    department: str | None = None
    priority: str | None = None
    severity: str | None = None
    customer_tier: str = "standard"
    service_type: str | None = None
    language: str | None = None
    contact: dict[str, str] | None = None  # sealed per customer; revealed (or not) at read time
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
    paused: tuple[Pause, ...] = ()
    reopen_count: int = 0
    transfer_count: int = 0
    escalation_count: int = 0
    inbound_count: int = 0
    agent_interactions: int = 0
    bot_interactions: int = 0
    handle_seconds: float = 0.0
    complaint_at: str | None = None
    complaint_version: int | None = None
    # Histories, in order, each item in the shape of a named tuple of ``domain.ticket_history`` (stored
    # as plain tuples, JSON lists once read back: read them through those, e.g. ``Interaction._make``).
    # Who was assignee when something occurred is read from the assignee changes, in business time.
    assignments: tuple[Assignment, ...] = ()
    escalations: tuple[Escalation, ...] = ()
    assignee_changes: tuple[AssigneeChange, ...] = ()
    interactions: tuple[Interaction, ...] = ()
    resolutions: tuple[Resolution, ...] = ()
    reopens: tuple[Reopen, ...] = ()
    transfers: tuple[Transfer, ...] = ()
    sla_warnings: tuple[SlaNotice, ...] = ()
    sla_breaches: tuple[SlaNotice, ...] = ()
    csat: int | None = None
    nps: int | None = None
    survey_comment: str | None = None
    surveyed_at: str | None = None
    evaluated_agent_id: str | None = None
    last_occurred_at: str | None = None
    last_recorded_at: str | None = None
    # the latest business time of any event so far (late events may carry earlier ones)
    activity_at: str | None = None
    # SLA facts (see projections.ticket_state.facts): business-time FRT and TTR in the ticket's
    # calendar, and each deadline as (kind#cycle, due_at, met_at) once the ticket is resolved.
    first_response_business_seconds: float | None = None
    resolution_business_seconds: float | None = None
    deadline_facts: tuple[DeadlineFact, ...] = ()
    # the number of the policy version that judges the ticket (``domain.sla_policies``; 0: the
    # settings file's), chosen once from its opening
    policy_version: int = 0

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def copy(self) -> TicketRow:
        clone = object.__new__(TicketRow)
        clone.__dict__.update(self.__dict__)
        return clone

    def as_dict(self) -> dict[str, Any]:
        """The row as a JSON document (field names, lists for tuples): what the API shows."""
        return orjson.loads(orjson.dumps(self.__dict__))

    def to_json(self) -> bytes:
        """The stored form: the values in field order (``FIELDS``), a JSON array. The read side
        stores a row per version of every ticket, so the field names, repeated in each (about
        half of a row's bytes), would be most of what the projector writes."""
        return orjson.dumps(_values(self))

    @classmethod
    def from_json(cls, document: bytes | str) -> TicketRow:
        row = object.__new__(cls)
        values = orjson.loads(document)
        if len(values) < len(FIELDS):  # fields added since: their defaults
            row.__dict__.update(DEFAULTS)
        row.__dict__.update(zip(FIELDS, values))
        # Sequences stay JSON lists of lists: read-only here, and every fold appends by building a
        # new tuple (``(*row.x, item)``), so converting them on each read would only cost time.
        return row

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> TicketRow:
        row = object.__new__(cls)
        row.__dict__.update(DEFAULTS)
        row.__dict__.update(document)
        return row


DEFAULTS = {f.name: f.default for f in fields(TicketRow) if f.default is not f.default_factory}
# The stored order of the values (``TicketRow.to_json``); part of the projection's schema, so that
# a changed list of fields rebuilds it.
FIELDS = tuple(f.name for f in fields(TicketRow))
_values = attrgetter(*FIELDS)


def instant(text: str) -> str:
    """An event's instant in the canonical text form (pydantic omits a zero fraction)."""
    return text[:19] + ".000000Z" if len(text) == 20 else text


def iso(moment: datetime) -> str:
    """A datetime in the canonical text form of read models."""
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def as_document(event: Any) -> Event:
    """Accepts an event model or its public JSON document."""
    return event if isinstance(event, Mapping) else event.public_dict()


Judge = Callable[[TicketRow, Event], None]


def fold(row: TicketRow | None, event: Any, judge: Judge | None = None) -> TicketRow:
    return fold_batch(row, [event], judge)  # type: ignore[return-value]


def fold_batch(row: TicketRow | None, events: Iterable[Any], judge: Judge | None = None) -> TicketRow | None:
    """Folds events of one ticket, in order; the given row is left unchanged. ``judge`` (the SLA
    facts of ``projections.ticket_state.facts``) completes the row after each event."""
    row = row.copy() if row is not None else None
    for event in events:
        document = as_document(event)
        row = _evolve(row, document)
        if judge is not None:
            judge(row, document)
    return row


def versions(row: TicketRow | None, events: Iterable[Any], judge: Judge | None = None) -> list[TicketRow]:
    """The row after each of the events (one per version), for the versioned read side."""
    found = []
    for event in events:  # ``fold`` of each event, inlined: the projector folds every event of the log here
        document = as_document(event)
        row = _evolve(row.copy() if row is not None else None, document)
        if judge is not None:
            judge(row, document)
        found.append(row)
    return found


def _evolve(row: TicketRow | None, e: Event) -> TicketRow:
    kind = e["type"]
    if row is None:
        if kind != "ticket.opened":
            raise ValueError(f"ticket {e['ticket_id']} has no opening event before {kind}")
        return _opened(e)
    occurred = instant(e["occurred_at"])
    apply = APPLY.get(kind)
    if apply is not None:
        apply(row, e, occurred)
    row.version = e["version"]
    row.last_occurred_at = occurred
    row.last_recorded_at = instant(e["recorded_at"])
    row.activity_at = max(row.activity_at or occurred, occurred)
    return row


def _opened(e: Event) -> TicketRow:
    at = instant(e["occurred_at"])
    row = TicketRow(
        ticket_id=e["ticket_id"], version=e["version"], status="opened", customer_id=e["customer_id"],
        channel=e.get("channel"), category=e["category"], opened_at=at, subject=e["subject"],
        sub_category=e.get("sub_category"), product=e.get("product"), region=e.get("region"),
        district=e.get("district"), postal_code=e.get("postal_code"), department=e.get("department"), priority=e.get("priority"), severity=e.get("severity"),
        customer_tier=e.get("customer_tier") or "standard", service_type=e.get("service_type"),
        language=e.get("language"), contact=e.get("contact"), complaint_at=at if e.get("severity") else None,
        complaint_version=e["version"] if e.get("severity") else None,
        last_occurred_at=at, last_recorded_at=instant(e["recorded_at"]), activity_at=at,
    )
    return row


# Each applier changes the (already copied) row in place; they only assign fields.
def _triaged(row: TicketRow, e: Event, at: str) -> None:
    if row.status == "opened":
        row.status = "triaged"
    if e.get("severity") and row.severity is None:
        row.complaint_at, row.complaint_version = at, e["version"]
    row.priority = e.get("priority") or row.priority
    row.category = e.get("category") or row.category
    row.sub_category = e.get("sub_category") or row.sub_category
    row.severity = e.get("severity") or row.severity


def _assigned(row: TicketRow, e: Event, at: str) -> None:
    row.assignee_id, row.team = e["agent_id"], e.get("team")
    if row.status != "waiting_on_customer":
        row.status = "assigned"
    row.assignments = (*row.assignments, (e["agent_id"], at))
    row.assignee_changes = (*row.assignee_changes, (at, e["version"], e["agent_id"]))


def _transferred(row: TicketRow, e: Event, at: str) -> None:
    row.department, row.assignee_id, row.team = e["to_department"], None, None
    row.status = "transferred"
    row.transfer_count += 1
    row.transfers = (*row.transfers, (at, e["to_department"]))
    row.assignee_changes = (*row.assignee_changes, (at, e["version"], None))


def _interaction(row: TicketRow, e: Event, at: str) -> None:
    author, agent = e["author"], e.get("agent_id")
    row.interactions = (*row.interactions, (at, e["channel"], author, agent, e.get("duration_seconds")))
    if e.get("first_response"):
        row.first_response_at, row.first_responder = at, agent
    if author == "customer":
        row.inbound_count += 1
    elif author == "agent":
        row.agent_interactions += 1
        row.handle_seconds += e.get("duration_seconds") or 0.0
    else:
        row.bot_interactions += 1
    if e.get("resumed"):
        _end_pause(row, at)
        row.status = "in_progress"
    elif author == "agent" and row.status in ("assigned", "reopened"):
        row.status = "in_progress"


def _end_pause(row: TicketRow, at: str) -> None:
    if row.waiting_since is not None:
        row.paused = (*row.paused, (row.waiting_since, at))
        row.waiting_since = None


def _waiting(row: TicketRow, e: Event, at: str) -> None:
    row.status, row.waiting_since = "waiting_on_customer", at


def _resumed(row: TicketRow, e: Event, at: str) -> None:
    _end_pause(row, at)
    row.status = "in_progress"


def _escalated(row: TicketRow, e: Event, at: str) -> None:
    row.escalation_level = e["to_level"]
    row.escalation_count += 1
    row.escalations = (*row.escalations, (e["to_level"], at, bool(e.get("automatic")), e["version"], e.get("reason"),
                                          e.get("deadline")))


def _resolved(row: TicketRow, e: Event, at: str) -> None:
    row.status, row.resolved_at, row.resolved_by = "resolved", at, e.get("resolved_by")
    row.resolution_code, row.remedy, row.root_cause = e["code"], e.get("remedy"), e.get("root_cause")
    row.resolutions = (*row.resolutions, (at, e.get("resolved_by")))


def _reopened(row: TicketRow, e: Event, at: str) -> None:
    row.reopens = (*row.reopens, (at, row.resolved_by))
    row.status, row.resolved_at = "reopened", None
    row.reopen_count += 1


def _closed(row: TicketRow, e: Event, at: str) -> None:
    row.status, row.closed_at = "closed", at


def _surveyed(row: TicketRow, e: Event, at: str) -> None:
    row.csat, row.nps, row.survey_comment = e["csat"], e.get("nps"), e.get("comment")
    row.surveyed_at, row.evaluated_agent_id = at, e.get("evaluated_agent_id")


def _sla_warned(row: TicketRow, e: Event, at: str) -> None:
    row.sla_warnings = (*row.sla_warnings, (e["deadline"], instant(e["due_at"]), at))


def _sla_breached(row: TicketRow, e: Event, at: str) -> None:
    row.sla_breaches = (*row.sla_breaches, (e["deadline"], instant(e["due_at"]), at))


APPLY: dict[str, Callable[[TicketRow, Event, str], None]] = {
    "ticket.sla_warned": _sla_warned,
    "ticket.sla_breached": _sla_breached,
    "ticket.triaged": _triaged,
    "ticket.assigned": _assigned,
    "ticket.transferred": _transferred,
    "ticket.interaction_recorded": _interaction,
    "ticket.waiting_on_customer": _waiting,
    "ticket.resumed": _resumed,
    "ticket.escalated": _escalated,
    "ticket.resolved": _resolved,
    "ticket.reopened": _reopened,
    "ticket.closed": _closed,
    "ticket.surveyed": _surveyed,
}

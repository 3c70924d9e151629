"""What the domain reads of a ticket's history: the named shapes of the histories a ticket-state
row keeps, and ``TicketHistory``, the protocol the service levels read a ticket through.

The read model stores each history as plain tuples (JSON lists once stored: the fastest to write
and read); these named tuples say what each position means. Read a history through them
(``for interaction in map(Interaction._make, row.interactions)``), never by position, except on
the projector's hot path (``projections.ticket_state.fact_rows``, whose unpacking order
``UNPACKED`` a test holds to these fields: a named tuple per item cost a fifth of its facts). Instants
are text in the read models' canonical form (UTC, microseconds, ``Z``), which sorts as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol


class Interaction(NamedTuple):
    at: str
    channel: str
    author: str                      # customer | agent | bot
    agent_id: str | None
    duration_seconds: float | None


class Pause(NamedTuple):
    """A wait on the customer: the SLA clock stood still from ``start`` to ``end``."""

    start: str
    end: str


class Assignment(NamedTuple):
    agent_id: str
    at: str


class AssigneeChange(NamedTuple):
    """An assignment, or a transfer away (``agent_id`` None): who was assignee from ``at`` on."""

    at: str
    version: int
    agent_id: str | None


class Escalation(NamedTuple):
    to_level: int
    at: str
    automatic: bool
    version: int
    reason: str | None        # as a person wrote it; the watcher's names what it escalated for
    deadline: str | None      # the deadline key (kind#cycle) an automatic escalation is for


class Resolution(NamedTuple):
    at: str
    resolver: str | None


class Reopen(NamedTuple):
    at: str
    undone_resolver: str | None      # who had resolved the resolution the reopen undid


class Transfer(NamedTuple):
    at: str
    to_department: str


class SlaNotice(NamedTuple):
    """An SLA warning or breach recorded on the ticket."""

    deadline: str                    # kind#cycle
    due_at: str
    at: str


class DeadlineFact(NamedTuple):
    """A deadline of a resolved ticket: when it was due and when it was met (None: not yet or never)."""

    deadline: str                    # kind#cycle
    due_at: str | None
    met_at: str | None


class TicketHistory(Protocol):
    """What the service levels need of a ticket (a ticket-state row provides it): its slice, its
    instants and the histories that start, pause and stop its SLA clocks."""

    ticket_id: str
    status: str
    assignee_id: str | None
    priority: str | None
    customer_tier: str
    category: str
    channel: str | None
    severity: str | None
    complaint_at: str | None
    opened_at: str
    first_response_at: str | None
    resolved_at: str | None
    waiting_since: str | None
    escalation_level: int
    paused: Sequence[Any]            # Pause
    reopens: Sequence[Any]           # Reopen
    transfers: Sequence[Any]         # Transfer
    interactions: Sequence[Any]      # Interaction
    escalations: Sequence[Any]       # Escalation
    sla_warnings: Sequence[Any]      # SlaNotice
    sla_breaches: Sequence[Any]      # SlaNotice

    @property
    def is_open(self) -> bool: ...

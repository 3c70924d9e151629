"""The Ticket aggregate: one customer request or complaint, from first contact to close.

Command methods decide (they check the lifecycle rules of DOMAIN.md and raise a named error
that says which rule refused the command); the nested events record (their ``apply`` only
assigns fields, so replaying stored events can neither fail nor differ).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal
from uuid import UUID

from eventsourcing.domain import BaseAggregate, CanInitAggregate
from pydantic import Field, ValidationError

from domain.errors import (
    BrokenInvariantError,
    InvalidCommandError,
    OccurredBeforeOpeningError,
    TransitionNotAllowedError,
)
from domain.events import TicketEvent, event_id_for, hash_in_place, started_by
from domain.hashing import GENESIS_HASH
from domain.serialization import upcaster
from domain.values import (
    ESCALATION_LEVELS,
    HIGHEST_ESCALATION_LEVEL,
    OPEN_STATUSES,
    Author,
    Channel,
    CustomerTier,
    Direction,
    Priority,
    Remedy,
    Sealed,
    ServiceType,
    Severity,
    Stamp,
    Status,
    UtcDatetime,
)

DEFAULT_REOPEN_WINDOW = timedelta(days=7)

Text = Field(min_length=1, max_length=200)


class Ticket(BaseAggregate[UUID]):
    """Aggregate root of the ticket lifecycle (opened → … → closed)."""

    Event = TicketEvent

    # ----------------------------------------------------------------------------------- events
    class Opened(TicketEvent, CanInitAggregate[UUID]):
        TYPE: ClassVar[str] = "ticket.opened"
        type: Literal["ticket.opened"] = "ticket.opened"
        # v2: channel may be null (sources that do not record it); district and postal_code added.
        schema_version: Literal[2] = 2
        customer_id: str = Text
        channel: Channel | None = None
        category: str = Text
        subject: str = Field(min_length=1, max_length=500)
        description: str | None = Field(default=None, max_length=20_000)
        sub_category: str | None = None
        product: str | None = None
        region: str | None = None
        district: str | None = None
        postal_code: str | None = None
        department: str | None = None
        priority: Priority | None = None
        severity: Severity | None = None
        service_type: ServiceType | None = None
        customer_tier: CustomerTier = CustomerTier.STANDARD
        language: str | None = None
        contact: Sealed | None = Field(default=None, description="Contact details, sealed per customer.")

        # The aggregate class to build, as the library expects; never part of the public form.
        originator_topic: str = Field(default="domain.ticket:Ticket", exclude=True)

        def apply(self, ticket: Ticket) -> None:
            ticket.status = Status.OPENED
            ticket.opened_at = self.occurred_at
            ticket.customer_id = self.customer_id
            ticket.channel = self.channel
            ticket.category = self.category
            ticket.priority = self.priority
            ticket.severity = self.severity
            ticket.customer_tier = self.customer_tier
            ticket.language = self.language
            ticket.department = self.department
            ticket.assignee_id = None
            ticket.team = None
            ticket.escalation_level = 0
            ticket.first_response_at = None
            ticket.resolved_at = None
            ticket.resolved_by = None
            ticket.reopen_count = 0
            ticket.surveyed = False
            ticket.sla_events = frozenset()

    class Triaged(TicketEvent):
        TYPE: ClassVar[str] = "ticket.triaged"
        type: Literal["ticket.triaged"] = "ticket.triaged"
        schema_version: Literal[1] = 1
        priority: Priority | None = None
        category: str | None = None
        sub_category: str | None = None
        severity: Severity | None = None

        def apply(self, ticket: Ticket) -> None:
            if ticket.status == Status.OPENED:
                ticket.status = Status.TRIAGED
            if self.priority is not None:
                ticket.priority = self.priority
            if self.category is not None:
                ticket.category = self.category
            if self.severity is not None:
                ticket.severity = self.severity

    class Assigned(TicketEvent):
        TYPE: ClassVar[str] = "ticket.assigned"
        type: Literal["ticket.assigned"] = "ticket.assigned"
        schema_version: Literal[1] = 1
        agent_id: str = Text
        team: str | None = None
        previous_agent_id: str | None = None

        def apply(self, ticket: Ticket) -> None:
            ticket.assignee_id = self.agent_id
            ticket.team = self.team
            if ticket.status != Status.WAITING_ON_CUSTOMER:
                ticket.status = Status.ASSIGNED

    class Routed(TicketEvent):
        """Routing chose the agent of the assignment that follows; the reason says why."""

        TYPE: ClassVar[str] = "ticket.routed"
        type: Literal["ticket.routed"] = "ticket.routed"
        schema_version: Literal[1] = 1
        agent_id: str = Text
        reason: str

    class Transferred(TicketEvent):
        TYPE: ClassVar[str] = "ticket.transferred"
        type: Literal["ticket.transferred"] = "ticket.transferred"
        schema_version: Literal[1] = 1
        from_department: str | None = None
        to_department: str = Text
        reason: str | None = None

        def apply(self, ticket: Ticket) -> None:
            ticket.department = self.to_department
            ticket.assignee_id = None
            ticket.team = None
            ticket.status = Status.TRANSFERRED

    class InteractionRecorded(TicketEvent):
        TYPE: ClassVar[str] = "ticket.interaction_recorded"
        type: Literal["ticket.interaction_recorded"] = "ticket.interaction_recorded"
        schema_version: Literal[1] = 1
        channel: Channel
        direction: Direction
        author: Author
        agent_id: str | None = None
        body: str | None = Field(default=None, max_length=20_000)
        duration_seconds: float | None = Field(default=None, ge=0)
        first_response: bool = Field(
            default=False, description="True on the ticket's first outbound agent interaction."
        )
        resumed: bool = Field(
            default=False, description="True when this customer reply ended a wait on the customer."
        )

        def apply(self, ticket: Ticket) -> None:
            if self.first_response:
                ticket.first_response_at = self.occurred_at
            if self.resumed:
                ticket.status = Status.IN_PROGRESS
            elif self.author == Author.AGENT and ticket.status in (
                Status.ASSIGNED,
                Status.REOPENED,
            ):
                ticket.status = Status.IN_PROGRESS

    class WaitingOnCustomer(TicketEvent):
        TYPE: ClassVar[str] = "ticket.waiting_on_customer"
        type: Literal["ticket.waiting_on_customer"] = "ticket.waiting_on_customer"
        schema_version: Literal[1] = 1
        reason: str | None = None

        def apply(self, ticket: Ticket) -> None:
            ticket.status = Status.WAITING_ON_CUSTOMER

    class Resumed(TicketEvent):
        TYPE: ClassVar[str] = "ticket.resumed"
        type: Literal["ticket.resumed"] = "ticket.resumed"
        schema_version: Literal[1] = 1
        reason: str | None = None

        def apply(self, ticket: Ticket) -> None:
            ticket.status = Status.IN_PROGRESS

    class Escalated(TicketEvent):
        TYPE: ClassVar[str] = "ticket.escalated"
        type: Literal["ticket.escalated"] = "ticket.escalated"
        schema_version: Literal[1] = 1
        from_level: int = Field(ge=0, le=HIGHEST_ESCALATION_LEVEL)
        to_level: int = Field(ge=1, le=HIGHEST_ESCALATION_LEVEL)
        to_role: str
        reason: str = Text
        automatic: bool = False
        deadline: str | None = Field(
            default=None, description="The deadline kind the escalation is about, if any."
        )

        def apply(self, ticket: Ticket) -> None:
            ticket.escalation_level = self.to_level

    class Resolved(TicketEvent):
        TYPE: ClassVar[str] = "ticket.resolved"
        type: Literal["ticket.resolved"] = "ticket.resolved"
        schema_version: Literal[1] = 1
        code: str = Text
        summary: str = Field(min_length=1, max_length=5_000)
        remedy: Remedy | None = None
        root_cause: str | None = None
        resolved_by: str | None = None

        def apply(self, ticket: Ticket) -> None:
            ticket.status = Status.RESOLVED
            ticket.resolved_at = self.occurred_at
            ticket.resolved_by = self.resolved_by

    class Reopened(TicketEvent):
        TYPE: ClassVar[str] = "ticket.reopened"
        type: Literal["ticket.reopened"] = "ticket.reopened"
        schema_version: Literal[1] = 1
        reason: str | None = None

        def apply(self, ticket: Ticket) -> None:
            ticket.status = Status.REOPENED
            ticket.resolved_at = None
            ticket.reopen_count += 1

    class Closed(TicketEvent):
        TYPE: ClassVar[str] = "ticket.closed"
        type: Literal["ticket.closed"] = "ticket.closed"
        schema_version: Literal[1] = 1
        reason: str | None = None

        def apply(self, ticket: Ticket) -> None:
            ticket.status = Status.CLOSED

    class Surveyed(TicketEvent):
        TYPE: ClassVar[str] = "ticket.surveyed"
        type: Literal["ticket.surveyed"] = "ticket.surveyed"
        schema_version: Literal[1] = 1
        csat: int = Field(ge=1, le=5)
        nps: int | None = Field(default=None, ge=0, le=10)
        comment: str | None = Field(default=None, max_length=5_000)
        evaluated_agent_id: str | None = None

        def apply(self, ticket: Ticket) -> None:
            ticket.surveyed = True

    class SlaWarned(TicketEvent):
        TYPE: ClassVar[str] = "ticket.sla_warned"
        type: Literal["ticket.sla_warned"] = "ticket.sla_warned"
        schema_version: Literal[1] = 1
        deadline: str = Field(description="kind#cycle, e.g. first_response#0 or ola:billing#1")
        due_at: UtcDatetime

        def apply(self, ticket: Ticket) -> None:
            ticket.sla_events = ticket.sla_events | {f"warn:{self.deadline}"}

    class SlaBreached(TicketEvent):
        TYPE: ClassVar[str] = "ticket.sla_breached"
        type: Literal["ticket.sla_breached"] = "ticket.sla_breached"
        schema_version: Literal[1] = 1
        deadline: str = Field(description="kind#cycle, e.g. resolution#1")
        due_at: UtcDatetime

        def apply(self, ticket: Ticket) -> None:
            ticket.sla_events = ticket.sla_events | {f"breach:{self.deadline}"}

    # State (assigned only by the events' apply): status, opened_at, customer_id, channel,
    # category, priority, severity, customer_tier, language, department, assignee_id, team,
    # escalation_level, first_response_at, resolved_at, resolved_by, reopen_count, surveyed,
    # sla_events, last_hash. Only what the rules need lives here; projections keep the rest.

    @property
    def is_complaint(self) -> bool:
        return self.severity is not None

    # ------------------------------------------------------------------------------ commands
    @classmethod
    def open(cls, ticket_id: UUID, at: Stamp, **details: Any) -> Ticket:
        """First contact. ``details`` are the fields of ``Ticket.Opened``."""
        event = cls._new_event(
            cls.Opened, ticket_id=ticket_id, version=1, prev_hash=GENESIS_HASH, at=at, **details
        )
        return started_by(event)

    def triage(
        self,
        at: Stamp,
        *,
        priority: Priority | None = None,
        category: str | None = None,
        sub_category: str | None = None,
        severity: Severity | None = None,
    ) -> None:
        self._require_open("triage")
        if priority is None and category is None and sub_category is None and severity is None:
            raise InvalidCommandError(
                "priority", "triage must set at least one of priority, category, sub_category, severity"
            )
        self._record(
            self.Triaged, at,
            priority=priority, category=category, sub_category=sub_category, severity=severity,
        )

    def assign(self, at: Stamp, *, agent_id: str, team: str | None = None) -> None:
        self._require_open("assign")
        if agent_id == self.assignee_id and team == self.team:
            raise TransitionNotAllowedError(f"ticket is already assigned to agent {agent_id!r}")
        self._record(
            self.Assigned, at, agent_id=agent_id, team=team, previous_agent_id=self.assignee_id
        )

    def route(self, at: Stamp, *, agent_id: str, team: str | None, reason: str) -> None:
        """Records routing's choice and assigns the ticket accordingly."""
        self._require_open("route")
        self._record(self.Routed, at, agent_id=agent_id, reason=reason)
        self.assign(at, agent_id=agent_id, team=team)

    def transfer(self, at: Stamp, *, department: str, reason: str | None = None) -> None:
        self._require_open("transfer")
        if self.status == Status.WAITING_ON_CUSTOMER:
            raise TransitionNotAllowedError(
                "cannot transfer while waiting on the customer: resume the ticket first"
            )
        if department == self.department:
            raise TransitionNotAllowedError(f"ticket is already with department {department!r}")
        self._record(
            self.Transferred, at,
            from_department=self.department, to_department=department, reason=reason,
        )

    def record_interaction(
        self,
        at: Stamp,
        *,
        channel: Channel,
        direction: Direction,
        author: Author,
        agent_id: str | None = None,
        body: str | None = None,
        duration_seconds: float | None = None,
    ) -> None:
        if self.status == Status.CLOSED:
            raise TransitionNotAllowedError("cannot record an interaction on a closed ticket")
        if author == Author.AGENT and not agent_id:
            raise InvalidCommandError("agent_id", "an interaction authored by an agent needs agent_id")
        if author != Author.AGENT and agent_id:
            raise InvalidCommandError("agent_id", "agent_id is only allowed when the author is an agent")
        if author == Author.CUSTOMER and direction != Direction.INBOUND:
            raise InvalidCommandError("direction", "a customer's interaction is inbound")
        if author != Author.CUSTOMER and direction != Direction.OUTBOUND:
            raise InvalidCommandError("direction", f"an interaction by a {author} is outbound")
        if duration_seconds is not None and duration_seconds < 0:
            raise InvalidCommandError("duration_seconds", "duration_seconds cannot be negative")
        first_response = author == Author.AGENT and self.first_response_at is None
        resumed = author == Author.CUSTOMER and self.status == Status.WAITING_ON_CUSTOMER
        self._record(
            self.InteractionRecorded, at,
            channel=channel, direction=direction, author=author, agent_id=agent_id, body=body,
            duration_seconds=duration_seconds, first_response=first_response, resumed=resumed,
        )

    def wait_on_customer(self, at: Stamp, *, reason: str | None = None) -> None:
        if self.status not in (Status.ASSIGNED, Status.IN_PROGRESS, Status.REOPENED):
            raise TransitionNotAllowedError(
                f"only an assigned or in-progress ticket can wait on the customer, not a {self.status} one"
            )
        self._record(self.WaitingOnCustomer, at, reason=reason)

    def resume(self, at: Stamp, *, reason: str | None = None) -> None:
        if self.status != Status.WAITING_ON_CUSTOMER:
            raise TransitionNotAllowedError(
                f"only a ticket waiting on the customer can resume, not a {self.status} one"
            )
        self._record(self.Resumed, at, reason=reason)

    def escalate(
        self,
        at: Stamp,
        *,
        reason: str,
        level: int | None = None,
        automatic: bool = False,
        deadline: str | None = None,
    ) -> None:
        self._require_open("escalate")
        if self.escalation_level >= HIGHEST_ESCALATION_LEVEL:
            raise TransitionNotAllowedError("ticket is already at the highest escalation level")
        to_level = self.escalation_level + 1 if level is None else level
        if to_level not in ESCALATION_LEVELS:
            raise InvalidCommandError("level", f"escalation level must be one of {sorted(ESCALATION_LEVELS)}")
        if to_level <= self.escalation_level:
            raise TransitionNotAllowedError(
                f"escalation must go up: ticket is at level {self.escalation_level}, asked for {to_level}"
            )
        self._record(
            self.Escalated, at,
            from_level=self.escalation_level, to_level=to_level, to_role=ESCALATION_LEVELS[to_level],
            reason=reason, automatic=automatic, deadline=deadline,
        )

    def resolve(
        self,
        at: Stamp,
        *,
        code: str,
        summary: str,
        remedy: Remedy | None = None,
        root_cause: str | None = None,
    ) -> None:
        self._require_open("resolve")
        if self.status == Status.WAITING_ON_CUSTOMER:
            raise TransitionNotAllowedError(
                "cannot resolve while waiting on the customer: resume the ticket first"
            )
        if self.is_complaint and remedy is None:
            raise InvalidCommandError("remedy", "the resolution of a complaint must record the remedy")
        if self.is_complaint and not root_cause:
            raise InvalidCommandError("root_cause", "the resolution of a complaint must record the root cause")
        self._record(
            self.Resolved, at,
            code=code, summary=summary, remedy=remedy, root_cause=root_cause,
            resolved_by=self.assignee_id,
        )

    def reopen(
        self, at: Stamp, *, reason: str | None = None, window: timedelta = DEFAULT_REOPEN_WINDOW
    ) -> None:
        if self.status != Status.RESOLVED:
            raise TransitionNotAllowedError(f"only a resolved ticket can be reopened, not a {self.status} one")
        if self.resolved_at is None:  # set whenever status is resolved
            raise BrokenInvariantError(f"resolved ticket {self.id} has no resolution time")
        if at.occurred_at - self.resolved_at > window:
            raise TransitionNotAllowedError(
                f"the reopen window of {window} after resolution has passed"
            )
        self._record(self.Reopened, at, reason=reason)

    def close(self, at: Stamp, *, reason: str | None = None) -> None:
        if self.status != Status.RESOLVED:
            raise TransitionNotAllowedError(f"only a resolved ticket can be closed, not a {self.status} one")
        self._record(self.Closed, at, reason=reason)

    def survey(
        self,
        at: Stamp,
        *,
        csat: int,
        nps: int | None = None,
        comment: str | None = None,
        evaluated_agent_id: str | None = None,
    ) -> None:
        if self.status not in (Status.RESOLVED, Status.CLOSED):
            raise TransitionNotAllowedError(
                f"a survey is only taken after resolution, and the ticket is {self.status}"
            )
        if self.surveyed:
            raise TransitionNotAllowedError("the ticket has already been surveyed")
        if not 1 <= csat <= 5:
            raise InvalidCommandError("csat", "csat must be between 1 and 5")
        if nps is not None and not 0 <= nps <= 10:
            raise InvalidCommandError("nps", "nps must be between 0 and 10")
        self._record(
            self.Surveyed, at,
            csat=csat, nps=nps, comment=comment,
            evaluated_agent_id=evaluated_agent_id or self.resolved_by,
        )

    def record_sla_warning(self, at: Stamp, *, deadline: str, due_at: datetime) -> None:
        self._record_sla(self.SlaWarned, "warn", at, deadline, due_at)

    def record_sla_breach(self, at: Stamp, *, deadline: str, due_at: datetime) -> None:
        self._record_sla(self.SlaBreached, "breach", at, deadline, due_at)

    def _record_sla(self, event_class: type[TicketEvent], kind: str, at: Stamp, deadline: str,
                    due_at: datetime) -> None:
        if kind == "warn":  # a breach is a fact even about a resolved ticket (it was resolved late)
            self._require_open(f"record an SLA {kind} on")
        if f"{kind}:{deadline}" in self.sla_events:
            raise TransitionNotAllowedError(f"the {kind} of deadline {deadline} is already recorded")
        self._record(event_class, at, deadline=deadline, due_at=due_at)

    # ------------------------------------------------------------------------------- helpers
    def _require_open(self, action: str) -> None:
        if self.status not in OPEN_STATUSES:
            raise TransitionNotAllowedError(f"cannot {action} a {self.status} ticket")

    def _record(self, event_class: type[TicketEvent], at: Stamp, **fields: Any) -> None:
        if at.occurred_at < self.opened_at:
            raise OccurredBeforeOpeningError(
                "occurred_at", "an event cannot have occurred before the ticket was opened"
            )
        event = self._new_event(
            event_class, ticket_id=self.id, version=self.version + 1,
            prev_hash=self.last_hash, at=at, **fields,
        )
        event.mutate(self)
        self._pending_events.append(event)

    @staticmethod
    def _new_event(
        event_class: type[TicketEvent],
        *,
        ticket_id: UUID,
        version: int,
        prev_hash: str,
        at: Stamp,
        **fields: Any,
    ) -> Any:
        """Builds the next event of the chain: envelope, payload and its hash."""
        # Validation here is the contract check: a payload that breaks the schema never records.
        try:
            unhashed = event_class(
                event_id=event_id_for(ticket_id, version),
                originator_id=ticket_id,
                originator_version=version,
                occurred_at=at.occurred_at,
                timestamp=at.recorded_at,
                actor=at.actor,
                prev_hash=prev_hash,
                hash=GENESIS_HASH,
                **fields,
            )
        except ValidationError as invalid:
            error = invalid.errors()[0]
            field = ".".join(str(part) for part in error["loc"]) or "body"
            raise InvalidCommandError(field, f"{field}: {error['msg']}") from None
        # The event was built here and nobody holds it yet: its hash is set in place, and its
        # stored JSON kept (serialised once for both).
        hash_in_place(unhashed)
        return unhashed


@upcaster("ticket.opened", 1)
def _opened_v1_to_v2(document: dict[str, Any]) -> dict[str, Any]:
    """v1 always had a channel and had no district or postal code: it is already a valid v2."""
    return document


TICKET_EVENT_CLASSES: tuple[type[TicketEvent], ...] = tuple(
    value
    for value in vars(Ticket).values()
    if isinstance(value, type) and issubclass(value, TicketEvent) and value is not TicketEvent
)
EVENT_CLASS_BY_TYPE = {cls.TYPE: cls for cls in TICKET_EVENT_CLASSES}

"""Commands: what a caller asks the service layer to do (imperative, validated on arrival).

Each command has exactly one handler on ``ServiceTrail``, named after it in snake case
(``AssignTicket`` → ``assign_ticket``). Field constraints here give callers an early, per-field
error; the aggregate still enforces every rule itself.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.service_levels import ServicePolicy
from domain.values import (
    Author,
    Channel,
    CustomerContact,
    CustomerTier,
    Direction,
    NUL_REFUSED,
    PathSafeId,
    Priority,
    Remedy,
    ServiceType,
    Severity,
    UtcDatetime,
    holds_nul,
)

Name = Field(min_length=1, max_length=200)


class Command(BaseModel):
    # Non-finite numbers (1e999, Infinity, NaN) are refused: JSON cannot carry them, so an event holding
    # one would store null under a hash computed over the number (a permanent false tamper alarm).
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    occurred_at: UtcDatetime | None = Field(
        default=None,
        description="When it happened (business time); defaults to the time it is recorded.",
    )
    # Fields that name the agent who did the work (the measures credit that agent): a queue-scoped
    # caller may only name itself there (``domain.access.acting_as_another``).
    ACTING_AGENT_FIELDS: ClassVar[tuple[str, ...]] = ()

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        if holds_nul(value):
            raise ValueError(NUL_REFUSED)
        return value

    @classmethod
    def handler_name(cls) -> str:
        return _handler_name(cls.__name__)

    def digest(self) -> str:
        """Identifies the request for idempotency: same command, same content, same digest."""
        # sha256 of ``f"{name}:{self.model_dump_json()}"`` in UTF-8, fed as bytes (no decode and encode again)
        digest = hashlib.sha256(type(self).__name__.encode("utf-8") + b":")
        digest.update(self.__pydantic_serializer__.to_json(self))
        return digest.hexdigest()


class TicketCommand(Command):
    ticket_id: UUID


@dataclass(frozen=True)
class CommandContext:
    """Who sends a command and on which conditions (headers, not body, over HTTP)."""

    actor: str = "api"
    expected_version: int | None = None
    idempotency_key: str | None = None
    queue: str | None = None
    """When set, the command may only change a ticket assigned to this agent (a queue-scoped
    caller's own queue). Checked on the ticket the command loads anyway, so it is read once."""


class OpenTicket(Command):
    customer_id: PathSafeId = Name
    channel: Channel | None = Field(
        default=None, description="How the customer made contact. Omit only when the source does not record it "
                                  "(imports of exports without a channel).")
    category: str = Name
    subject: str = Field(min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=20_000)
    sub_category: str | None = Field(default=None, max_length=200)
    product: str | None = Field(default=None, max_length=200)
    region: str | None = Field(default=None, max_length=200)
    district: str | None = Field(default=None, max_length=200, description="Finer location inside the region.")
    postal_code: str | None = Field(default=None, max_length=20)
    department: str | None = Field(default=None, max_length=200)
    priority: Priority | None = None
    severity: Severity | None = Field(default=None, description="Only for complaints.")
    service_type: ServiceType | None = None
    customer_tier: CustomerTier = CustomerTier.STANDARD
    language: str | None = Field(default=None, max_length=35)
    contact: CustomerContact | None = Field(
        default=None, description="Name, e-mail, phone, address: encrypted per customer before storage.")


class TriageTicket(TicketCommand):
    priority: Priority | None = None
    category: str | None = Field(default=None, min_length=1, max_length=200)
    sub_category: str | None = Field(default=None, max_length=200)
    severity: Severity | None = None


class AssignTicket(TicketCommand):
    agent_id: PathSafeId | None = Field(default=None, min_length=1, max_length=200,
                                 description="Omit to let routing choose the most suitable available agent.")
    team: str | None = Field(default=None, max_length=200)


class TransferTicket(TicketCommand):
    department: str = Name
    reason: str | None = Field(default=None, max_length=2_000)


class RecordInteraction(TicketCommand):
    ACTING_AGENT_FIELDS: ClassVar[tuple[str, ...]] = ("agent_id",)
    channel: Channel
    direction: Direction
    author: Author
    agent_id: PathSafeId | None = Field(default=None, min_length=1, max_length=200)
    body: str | None = Field(default=None, max_length=20_000)
    summary: str | None = Field(default=None, max_length=20_000)
    duration_seconds: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_text(self) -> RecordInteraction:
        if self.body is not None and self.summary is not None:
            raise ValueError("give either body or summary, not both")
        return self


class WaitOnCustomer(TicketCommand):
    reason: str | None = Field(default=None, max_length=2_000)


class ResumeTicket(TicketCommand):
    reason: str | None = Field(default=None, max_length=2_000)


class EscalateTicket(TicketCommand):
    reason: str = Field(min_length=1, max_length=2_000)
    level: int | None = Field(default=None, ge=1, le=3)


class ResolveTicket(TicketCommand):
    code: str = Name
    summary: str = Field(min_length=1, max_length=5_000)
    remedy: Remedy | None = None
    root_cause: str | None = Field(default=None, max_length=2_000)


class ReopenTicket(TicketCommand):
    reason: str | None = Field(default=None, max_length=2_000)


class CloseTicket(TicketCommand):
    reason: str | None = Field(default=None, max_length=2_000)


class RecordSurvey(TicketCommand):
    ACTING_AGENT_FIELDS: ClassVar[tuple[str, ...]] = ("evaluated_agent_id",)
    csat: int = Field(ge=1, le=5)
    nps: int | None = Field(default=None, ge=0, le=10)
    comment: str | None = Field(default=None, max_length=5_000)
    evaluated_agent_id: PathSafeId | None = Field(default=None, max_length=200)


class RegisterAgent(Command):
    agent_id: PathSafeId = Name
    name: str = Name
    team: str | None = Field(default=None, max_length=200)
    skills: tuple[str, ...] = Field(default=(), description="Categories the agent handles.")
    languages: tuple[str, ...] = ()
    accounts: tuple[str, ...] = Field(default=(), description="VIP customers whose account manager this agent is.")


class SetAvailability(Command):
    agent_id: str = Name
    available: bool
    reason: str | None = Field(default=None, max_length=500)


class RecordSlaWarning(TicketCommand):
    """Issued by the SLA watcher when a deadline nears (not an HTTP route)."""

    deadline: str = Name
    due_at: UtcDatetime


class RecordSlaBreach(TicketCommand):
    """Issued by the SLA watcher when a deadline passed unmet (not an HTTP route)."""

    deadline: str = Name
    due_at: UtcDatetime


class EscalateAutomatically(TicketCommand):
    """Issued by the SLA watcher: a breach, or a complaint routed by severity (not an HTTP route)."""

    level: int = Field(ge=1, le=3)
    reason: str = Field(min_length=1, max_length=2_000)
    deadline: str | None = None


class ErasePersonalData(Command):
    """Deletes a customer's personal-data key and records the erasure in the log."""

    customer_id: str = Name


class AdoptSlaPolicy(Command):
    """Records a new version of the service policy (``domain.sla_policies``): tickets opened from
    ``effective_from`` (default: now; never earlier) are judged by it."""

    policy: ServicePolicy
    effective_from: UtcDatetime | None = None
    source: str | None = Field(default=None, max_length=100_000)
    reason: str | None = Field(default=None, max_length=2_000)


COMMANDS: tuple[type[Command], ...] = (
    OpenTicket, TriageTicket, AssignTicket, TransferTicket, RecordInteraction, WaitOnCustomer,
    ResumeTicket, EscalateTicket, ResolveTicket, ReopenTicket, CloseTicket, RecordSurvey,
)
INTERNAL_COMMANDS: tuple[type[Command], ...] = (RecordSlaWarning, RecordSlaBreach, EscalateAutomatically)
ROSTER_COMMANDS: tuple[type[Command], ...] = (RegisterAgent, SetAvailability)
PRIVACY_COMMANDS: tuple[type[Command], ...] = (ErasePersonalData,)
POLICY_COMMANDS: tuple[type[Command], ...] = (AdoptSlaPolicy,)


@lru_cache(maxsize=None)
def _handler_name(class_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()

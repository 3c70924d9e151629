"""Who may do what: API keys (event-sourced) and the permissions of each role.

A key is shown once, at creation; only its HMAC digest is stored (the secret used for the HMAC
is the server's, so a copy of the event store alone cannot test guesses). Creation and revocation
are events with their actor and time, like every other change.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal
from uuid import UUID, uuid5

from eventsourcing.domain import BaseAggregate, CanInitAggregate
from pydantic import Field

from domain.errors import TransitionNotAllowedError
from domain.events import ActorEvent, started_by
from domain.values import UtcDatetime

KEY_NAMESPACE = UUID("9a3e5f10-7c2b-5d8e-b1a4-3c6d8e0f2a41")


class Role(StrEnum):
    AGENT = "agent"
    MANAGER = "manager"
    AUDITOR = "auditor"
    INTEGRATION = "integration"
    ADMIN = "admin"


class Permission(StrEnum):
    OPEN_TICKET = "ticket:open"
    ACT_ON_TICKET = "ticket:act"          # agents: only tickets of their own queue
    READ_TICKET = "ticket:read"           # agents: only tickets of their own queue
    READ_MODELS = "read-models:read"      # KPIs, leaderboard, customers, every ticket list
    READ_OWN_PERFORMANCE = "performance:own"
    READ_EVENTS = "events:read"
    AUDIT = "audit"
    MANAGE_KEYS = "keys:manage"
    MANAGE_ROSTER = "roster:manage"
    ERASE_PERSONAL_DATA = "personal-data:erase"
    READ_METRICS = "metrics:read"        # Prometheus: latencies, consumers' lag and errors, no personal data
    MANAGE_SLA_POLICY = "sla-policy:manage"  # adopt a new version of the SLA policy (managers, admins)


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset({P.OPEN_TICKET, P.ACT_ON_TICKET, P.READ_TICKET, P.READ_OWN_PERFORMANCE}),
    Role.MANAGER: frozenset({P.OPEN_TICKET, P.ACT_ON_TICKET, P.READ_TICKET, P.READ_MODELS,
                             P.READ_OWN_PERFORMANCE, P.READ_EVENTS, P.MANAGE_ROSTER, P.MANAGE_SLA_POLICY}),
    Role.AUDITOR: frozenset({P.READ_TICKET, P.READ_MODELS, P.READ_OWN_PERFORMANCE, P.READ_EVENTS, P.AUDIT,
                             P.READ_METRICS}),
    Role.INTEGRATION: frozenset({P.OPEN_TICKET, P.ACT_ON_TICKET, P.READ_TICKET, P.READ_EVENTS}),
    Role.ADMIN: frozenset(Permission),
}
QUEUE_SCOPED_ROLES = frozenset({Role.AGENT})  # may only touch tickets assigned to their principal


def allows(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def acting_as_another(role: Role, principal: str, command: object) -> str | None:
    """The field of ``command`` in which a queue-scoped caller names another agent as the one who
    acted (an interaction's author, a survey's evaluated agent), or None. Measures credit the agent
    named there, so an agent may only name itself; other roles act for the organisation."""
    if role not in QUEUE_SCOPED_ROLES:
        return None
    for name in getattr(type(command), "ACTING_AGENT_FIELDS", ()):
        named = getattr(command, name, None)
        if named is not None and named != principal:
            return name
    return None


def api_key_id(key_id: str) -> UUID:
    return uuid5(KEY_NAMESPACE, key_id)


class KeyEvent(ActorEvent):
    pass


class ApiKey(BaseAggregate[UUID]):
    """One API key: its role, the principal it acts as, and whether it is revoked."""

    Event = KeyEvent

    class Created(KeyEvent, CanInitAggregate[UUID]):
        TYPE: ClassVar[str] = "api_key.created"
        type: Literal["api_key.created"] = "api_key.created"
        originator_topic: str = Field(default="domain.access:ApiKey", exclude=True)
        key_id: str = Field(pattern=r"^[0-9a-f]{12}$")
        role: Role
        principal: str = Field(min_length=1, max_length=200)
        label: str | None = Field(default=None, max_length=200)
        digest: str = Field(pattern=r"^[0-9a-f]{64}$", description="HMAC-SHA256 of the secret part.")

        def apply(self, key: ApiKey) -> None:
            key.key_id, key.role, key.principal = self.key_id, self.role, self.principal
            key.label, key.digest, key.revoked_at = self.label, self.digest, None
            key.created_by, key.created_at = self.actor, self.timestamp

    class Revoked(KeyEvent):
        TYPE: ClassVar[str] = "api_key.revoked"
        type: Literal["api_key.revoked"] = "api_key.revoked"
        reason: str | None = None

        def apply(self, key: ApiKey) -> None:
            key.revoked_at, key.revoked_by = self.timestamp, self.actor

    @classmethod
    def create(cls, *, key_id: str, role: Role, principal: str, digest: str, label: str | None,
               actor: str, at: UtcDatetime) -> ApiKey:
        event = cls.Created(originator_id=api_key_id(key_id), originator_version=1, timestamp=at, actor=actor,
                            key_id=key_id, role=role, principal=principal, label=label, digest=digest)
        return started_by(event)

    def revoke(self, *, actor: str, at: UtcDatetime, reason: str | None = None) -> None:
        if self.revoked_at is not None:
            raise TransitionNotAllowedError(f"key {self.key_id} is already revoked")
        self.trigger_event(self.Revoked, timestamp=at, actor=actor, reason=reason)

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def describe(self) -> dict:
        return {"key_id": self.key_id, "role": str(self.role), "principal": self.principal, "label": self.label,
                "created_at": self.created_at.isoformat(), "created_by": self.created_by,
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None}

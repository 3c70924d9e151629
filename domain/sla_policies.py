"""Versions of the service policy (SLA and OLA targets, calendars, escalation chain) as events.

Who changed the policy, when, and what it said is part of the history, like every ticket event:
each adoption is an event in the log and on the events topic (``policy.adopted``), with the
ticket envelope (event id, version, business and transaction time, actor, hash) and the aggregate
named ``policy_id``. Each adoption is its own aggregate, numbered (``uuid5`` of the number), so two
racing adoptions collide in the event store instead of sharing a number (as erasures do).

**Which policy judges a ticket** (``PolicyBook.in_force``, stated in the README): of the adoptions
recorded at or before the ticket's opening was recorded, the one with the latest effective time at
or before the opening's business time (equal times: the later adoption); before the first adoption takes effect, the policy of the
settings file (``SERVICETRAIL_POLICY_FILE``, else the built-in one), version 0. The choice is made
once, from the opening's two instants, so a later adoption never changes the deadlines of a
ticket already opened, every reader (projector, watcher, a fold at read time) makes the same
choice, and a rebuild makes the one the running projector made. An adoption takes effect when it
is recorded or later (``effective_from``), never retroactively: "which policy was in force" must
not change for tickets already judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID, uuid5

from eventsourcing.domain import BaseAggregate, CanInitAggregate
from pydantic import AliasChoices, Field, ValidationError

from domain.errors import InvalidCommandError
from domain.events import TicketEvent, event_id_for, started_by
from domain.hashing import GENESIS_HASH, chain_hash
from domain.service_levels import ServicePolicy
from domain.values import Stamp, UtcDatetime

POLICY_NAMESPACE = UUID("3b8d2f64-91c7-5a0e-b4d6-8e2a7c1f9053")
TYPE_PREFIX = "policy."


def adoption_id(number: int) -> UUID:
    return uuid5(POLICY_NAMESPACE, f"service-policy/{number}")


class PolicyEvent(TicketEvent):
    """The ticket envelope (hash-chained, published), with the aggregate named ``policy_id``."""

    originator_id: UUID = Field(
        serialization_alias="policy_id",
        validation_alias=AliasChoices("originator_id", "policy_id"),
    )


def policy_document(policy: ServicePolicy) -> dict[str, Any]:
    """The policy as plain JSON, sets as sorted lists: the same bytes whoever writes it (it is hashed)."""
    document = policy.model_dump(mode="json")
    for calendar in document["calendars"].values():
        for key in ("holidays", "working_days"):
            calendar[key] = sorted(calendar[key])
    return document


class PolicyAdoption(BaseAggregate[UUID]):
    """The ``number``-th version of the service policy."""

    Event = PolicyEvent

    class Adopted(PolicyEvent, CanInitAggregate[UUID]):
        TYPE: ClassVar[str] = "policy.adopted"
        type: Literal["policy.adopted"] = "policy.adopted"
        schema_version: Literal[1] = 1
        originator_topic: str = Field(default="domain.sla_policies:PolicyAdoption", exclude=True)
        number: int = Field(ge=1, description="1 for the first adopted policy, 2 for the next … "
                                              "(0 is the settings file's policy, never an event).")
        effective_from: UtcDatetime = Field(
            description="Tickets opened at or after this instant (business time) are judged by this policy; "
                        "never before the adoption was recorded.")
        policy: dict[str, Any] = Field(
            description="The policy, calendars resolved (public-holiday calendars as explicit dates): "
                        "calendars, sla, ola, escalation, as in the policy file.")
        source: str | None = Field(default=None, max_length=100_000, description="The TOML text it was loaded from.")
        reason: str | None = Field(default=None, max_length=2_000)

        def apply(self, adoption: PolicyAdoption) -> None:
            adoption.number, adoption.effective_from = self.number, self.effective_from
            adoption.policy_json, adoption.source, adoption.reason = self.policy, self.source, self.reason
            adoption.adopted_by, adoption.adopted_at = self.actor, self.timestamp

    @classmethod
    def adopt(cls, number: int, policy: ServicePolicy, at: Stamp, *, effective_from: datetime | None = None,
              source: str | None = None, reason: str | None = None) -> PolicyAdoption:
        """Records a policy version. Refuses an ``effective_from`` before the adoption is recorded:
        tickets already opened keep the policy they were opened under."""
        effective = effective_from or at.recorded_at
        if effective < at.recorded_at:
            raise InvalidCommandError("effective_from", "a policy cannot take effect before it is adopted "
                                                        f"({at.recorded_at.isoformat()}): no retroactive change")
        policy_id = adoption_id(number)
        try:
            event = cls.Adopted(
                event_id=event_id_for(policy_id, 1), originator_id=policy_id, originator_version=1,
                occurred_at=at.occurred_at, timestamp=at.recorded_at, actor=at.actor, prev_hash=GENESIS_HASH,
                hash=GENESIS_HASH, number=number, effective_from=effective, policy=policy_document(policy),
                source=source, reason=reason)
        except ValidationError as invalid:
            error = invalid.errors()[0]
            field = ".".join(str(part) for part in error["loc"]) or "body"
            raise InvalidCommandError(field, f"{field}: {error['msg']}") from None
        event.__dict__["hash"] = chain_hash(event.public_dict())
        return started_by(event)

    def version(self) -> PolicyVersion:
        return PolicyVersion(self.number, ServicePolicy.model_validate(self.policy_json), iso(self.effective_from),
                             iso(self.adopted_at), self.adopted_by, self.reason)


POLICY_EVENT_CLASSES: tuple[type[PolicyEvent], ...] = (PolicyAdoption.Adopted,)


def iso(moment: datetime) -> str:
    """Canonical instant text (UTC, microseconds, ``Z``), as the read side stores instants."""
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def canonical(text: str) -> str:
    """An event document's instant in canonical text form (pydantic omits a zero fraction)."""
    return text[:19] + ".000000Z" if len(text) == 20 else text


@dataclass(frozen=True)
class PolicyVersion:
    """One version of the policy: the settings file's (number 0, in force from the beginning) or an adoption."""

    number: int
    policy: ServicePolicy
    effective_from: str | None   # canonical instants; None: the settings file's policy
    recorded_at: str | None
    actor: str | None = None
    reason: str | None = None

    @classmethod
    def from_event(cls, document: dict[str, Any]) -> PolicyVersion:
        """From a ``policy.adopted`` event's public document (what consumers receive)."""
        return cls(document["number"], ServicePolicy.model_validate(document["policy"]),
                   canonical(document["effective_from"]), canonical(document["recorded_at"]),
                   document.get("actor"), document.get("reason"))

    def describe(self) -> dict[str, Any]:
        return {"version": self.number, "effective_from": self.effective_from, "adopted_at": self.recorded_at,
                "adopted_by": self.actor, "reason": self.reason,
                "source": "settings file" if self.number == 0 else "policy.adopted event",
                "policy": policy_document(self.policy)}


class PolicyBook:
    """Every policy version known, and the one rule that picks a ticket's (module docstring).

    ``in_force`` runs on each ticket opening the projector folds: versions are few, so a scan from
    the latest is enough."""

    def __init__(self, baseline: ServicePolicy, versions: list[PolicyVersion] | tuple[PolicyVersion, ...] = ()):
        self.baseline = PolicyVersion(0, baseline, None, None)
        self.versions: dict[int, PolicyVersion] = {0: self.baseline}
        self._latest_first: list[PolicyVersion] = []
        for version in versions:
            self.adopt(version)

    def adopt(self, version: PolicyVersion) -> None:
        """Adds a version (a redelivered one changes nothing)."""
        self.versions.setdefault(version.number, version)
        self._latest_first = sorted((v for v in self.versions.values() if v.number), reverse=True,
                                    key=lambda v: (v.effective_from, v.number))

    def __getitem__(self, number: int) -> ServicePolicy:
        return self.versions[number].policy

    def __len__(self) -> int:
        return len(self.versions)

    def in_force(self, opened_at: str, recorded_at: str) -> int:
        """The number of the version that judges a ticket opened (business time) and recorded at these
        canonical instants."""
        for version in self._latest_first:
            if version.effective_from <= opened_at and version.recorded_at <= recorded_at:
                return version.number
        return 0

    def at(self, as_of: str | None, known_at: str | None) -> PolicyVersion:
        """The version a ticket opened at ``as_of`` and known by ``known_at`` would be judged by: the
        policy in force at that moment as the system then knew it (``None``: now, everything known)."""
        return self.versions[self.in_force(as_of or "9999", known_at or "9999")]

    def history(self) -> list[PolicyVersion]:
        return sorted(self.versions.values(), key=lambda v: v.number)

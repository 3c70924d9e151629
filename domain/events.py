"""The envelope every ticket event carries, and the public form downstream systems read.

An event class is defined once: it is the ``eventsourcing`` domain event that mutates the
aggregate, the pydantic contract (with ``schema_version``) from which JSON Schema is generated,
and the JSON published to Kafka. Internally the library's names are used (``originator_id``,
``originator_version``, ``timestamp``); the public form renames them to ``ticket_id``,
``version`` and ``recorded_at``.
"""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

import orjson

from eventsourcing.domain import CanInitAggregate, CanMutateAggregate
from eventsourcing.utils import resolve_topic
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from domain.hashing import GENESIS_HASH, chain_hash
from domain.serialization import STORED_JSON, with_public_names
from domain.uuids import uuid5_in
from domain.values import UtcDatetime

# Event ids are derived, never drawn: the same ticket and version always name the same event.
EVENT_ID_NAMESPACE = UUID("6f1c1f8e-3a4b-5c8e-9d2a-7b1e0c4d5a60")


_event_uuid5 = uuid5_in(EVENT_ID_NAMESPACE)


def event_id_for(ticket_id: UUID, version: int) -> UUID:
    return _event_uuid5(f"{ticket_id}/{version}")


class TicketEvent(BaseModel, CanMutateAggregate[UUID]):
    """Base of every ticket event: the envelope of ARCHITECTURE.md."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False,
        json_schema_serialization_defaults_required=True,
    )

    # Class-level contract: subclasses set both; ``type`` and ``schema_version`` are also fields
    # (with those defaults) so that they appear in the JSON and its schema.
    TYPE: ClassVar[str] = ""

    event_id: UUID
    originator_id: UUID = Field(
        serialization_alias="ticket_id",
        validation_alias=AliasChoices("originator_id", "ticket_id"),
    )
    originator_version: int = Field(
        ge=1,
        serialization_alias="version",
        validation_alias=AliasChoices("originator_version", "version"),
    )
    occurred_at: UtcDatetime = Field(description="Business time: when it happened.")
    timestamp: UtcDatetime = Field(
        description="Transaction time: when the store recorded it.",
        serialization_alias="recorded_at",
        validation_alias=AliasChoices("timestamp", "recorded_at"),
    )
    actor: str = Field(min_length=1, description="Who or what caused the event.")
    prev_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")

    @property
    def ticket_id(self) -> UUID:
        return self.originator_id

    @property
    def version(self) -> int:
        return self.originator_version

    @property
    def recorded_at(self):  # noqa: ANN201 - a datetime, as ``timestamp``
        return self.timestamp

    def public_dict(self) -> dict[str, Any]:
        """The event as downstream systems see it (JSON types, public names)."""
        return self.model_dump(mode="json", by_alias=True)

    def mutate(self, aggregate: Any) -> Any:
        aggregate = created_by(self) if aggregate is None else super().mutate(aggregate)
        aggregate.last_hash = self.hash
        aggregate.last_occurred_at = self.occurred_at
        return aggregate

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Any:
        """A copy; one with changed fields forgets the stored JSON kept by ``hash_in_place``
        (it would no longer be this event's)."""
        copied = super().model_copy(update=update, deep=deep)
        if update:
            copied.__dict__.pop(STORED_JSON, None)
        return copied


_UNHASHED = b'"hash":"' + GENESIS_HASH.encode() + b'"'


def hash_in_place(event: TicketEvent) -> None:
    """Sets the chain hash of an event just built with ``GENESIS_HASH`` as its hash, and keeps its
    stored JSON (``domain.serialization.stored_json``), serialising it once: the stored JSON with the
    placeholder gives the public form the hash is computed over (decoded, three names renamed), and
    the hash then takes the placeholder's place in those bytes. Only for an event nobody holds yet
    (it is changed in place: ``model_copy`` would copy every field to change one)."""
    unhashed = event.__pydantic_serializer__.to_json(event)
    public = with_public_names(orjson.loads(unhashed))
    del public["hash"]
    digest = chain_hash(public)
    event.__dict__["hash"] = digest
    at = unhashed.find(_UNHASHED)  # the envelope's field: no other key of an event is "hash"…
    if at < 0 or unhashed.find(_UNHASHED, at + 1) >= 0:  # … else (never so far) serialise again
        event.__dict__[STORED_JSON] = event.__pydantic_serializer__.to_json(event)
        return
    event.__dict__[STORED_JSON] = b"".join((unhashed[:at], b'"hash":"', digest.encode(), b'"',
                                            unhashed[at + len(_UNHASHED):]))


class RecordEvent(BaseModel, CanMutateAggregate[UUID]):
    """Base of the events of the small aggregates beside tickets (keys, agents, idempotency records):
    frozen pydantic events stored with the same mapper, without the ticket envelope."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    originator_id: UUID
    originator_version: int
    timestamp: UtcDatetime

    def mutate(self, aggregate: Any) -> Any:
        return created_by(self) if aggregate is None else super().mutate(aggregate)


def created_by(event: Any) -> Any:
    """The aggregate a created event begins, as ``CanInitAggregate.mutate`` builds it, without its
    two passes of the event's fields against method signatures (for aggregates with no ``__init__``
    of their own, which is all of ours; others, and events that create nothing, go the library's way).
    An import creates four aggregates per source row: this was 5% of its time."""
    if not isinstance(event, CanInitAggregate):
        return CanMutateAggregate.mutate(event, None)  # refuses as the library does
    aggregate_class = resolve_topic(event.originator_topic)
    if aggregate_class.__init__ is not object.__init__:
        return CanInitAggregate.mutate(event, None)
    aggregate = aggregate_class.__new__(aggregate_class)
    aggregate.__base_init__(event.originator_id, event.originator_version, event.timestamp)
    event.apply(aggregate)
    return aggregate


class ActorEvent(RecordEvent):
    actor: str


def started_by(created: Any) -> Any:
    """The aggregate a created event begins, with that event pending to be saved."""
    aggregate = created.mutate(None)
    aggregate._pending_events.append(created)
    return aggregate

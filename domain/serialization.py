"""Stored form of our events: the pydantic contract's own JSON.

The library's default mapper walks ``vars(event)`` through its transcoder; our events are pydantic
models, so pydantic's serializer (in Rust) writes and validates them directly. Stored JSON uses the
internal field names; the public form (``TicketEvent.public_dict``) renames three of them.

An event is serialised once: a ticket event computes its stored JSON while hashing itself
(``domain.events.hash_in_place``) and keeps the bytes beside its fields (``STORED_JSON``); the
mapper stores those bytes instead of serialising the event again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import BaseModel, ValidationError


# Where an event keeps its stored JSON once made (a key of the model's ``__dict__`` that is not a
# field: pydantic neither serialises nor compares it; ``TicketEvent.model_copy`` drops it).
STORED_JSON = "_stored_json"


def stored_json(event: BaseModel) -> bytes:
    """The event's JSON as stored (internal names): the bytes it kept when it was made, else
    ``model_dump_json()`` as bytes (without its decode and our encode)."""
    kept = event.__dict__.get(STORED_JSON)
    return kept if kept is not None else event.__pydantic_serializer__.to_json(event)


class PydanticMapper(Mapper):
    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=_topic(type(domain_event)),
            state=self.stored_state(domain_event),
        )

    def stored_row(self, domain_event: Any) -> tuple[str, int, str, bytes]:
        """What ``to_stored_event`` stores, as a plain row (the id as 32 hex digits), without the
        ``StoredEvent`` object: a bulk append's rows (``consumers.importers.bulk_write``)."""
        originator_id = domain_event.originator_id
        return (originator_id.hex if isinstance(originator_id, UUID) else originator_id,
                domain_event.originator_version, _topic(type(domain_event)), self.stored_state(domain_event))

    def stored_state(self, domain_event: Any) -> bytes:
        if not isinstance(domain_event, BaseModel):
            raise TypeError(f"{type(domain_event).__name__} is not an event of ours (every one is a pydantic model)")
        state = stored_json(domain_event)
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return state

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return decode_event(stored_event.topic, self.decrypt_and_decompress(stored_event.state))

    def decrypt_and_decompress(self, state: bytes) -> bytes:
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        return state


@lru_cache(maxsize=None)  # a handful of event classes, asked for once per stored event
def _topic(event_class: type) -> str:
    return get_topic(event_class)


def decode_event(topic: str, state: bytes) -> Any:
    event_class: type[BaseModel] = resolve_topic(topic)
    try:
        return event_class.model_validate_json(state)  # the current schema version: the fast path
    except ValidationError:
        return event_class.model_validate(upcast(json.loads(state)))


# Upcasters turn a stored event of an old schema version into the next version, so that events are
# never rewritten yet always read in the current shape. Keyed by (type, the version upcast from).
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    def register(function: Upcaster) -> Upcaster:
        UPCASTERS[(event_type, from_version)] = function
        return function
    return register


def upcast(document: dict[str, Any]) -> dict[str, Any]:
    """Applies upcasters until no upcaster exists for the document's (type, schema_version)."""
    while (step := UPCASTERS.get((document.get("type"), document.get("schema_version")))) is not None:
        document = {**step(document), "schema_version": document["schema_version"] + 1}
    return document

# Internal (library) names of the envelope → the public names downstream systems read.
PUBLIC_NAMES = {"originator_id": "ticket_id", "originator_version": "version", "timestamp": "recorded_at"}
# Policy versions (``domain.sla_policies``) carry the same envelope; their aggregate is a policy.
POLICY_PUBLIC_NAMES = {**PUBLIC_NAMES, "originator_id": "policy_id"}


def public_document(internal: dict[str, Any]) -> dict[str, Any]:
    """The public form of a stored event's JSON, without decoding it into a model (a copy)."""
    return with_public_names(dict(internal))


def with_public_names(document: dict[str, Any]) -> dict[str, Any]:
    """Renames the envelope's internal names to the public ones, in place (a freshly decoded
    document needs no copy: this is the hot path of every consumer)."""
    names = POLICY_PUBLIC_NAMES if document.get("type", "").startswith("policy.") else PUBLIC_NAMES
    for internal, public in names.items():
        document[public] = document.pop(internal)
    return document


def stream_of(document: dict[str, Any]) -> str:
    """The aggregate a published event belongs to (its Kafka key, the unit of order and of
    versions): a ticket, or a policy version."""
    return document.get("ticket_id") or document["policy_id"]

"""Stored form of our events: the pydantic contract's own JSON.

The library's default mapper walks ``vars(event)`` through its transcoder; our events are pydantic
models, so pydantic's serializer (in Rust) writes and validates them directly. Stored JSON uses the
internal field names; the public form (``TicketEvent.public_dict``) renames three of them.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import BaseModel


class PydanticMapper(Mapper):
    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        assert isinstance(domain_event, BaseModel), "every event of ours is a pydantic model"
        state = domain_event.model_dump_json().encode("utf-8")
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(type(domain_event)),
            state=state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return decode_event(stored_event.topic, self.decrypt_and_decompress(stored_event.state))

    def decrypt_and_decompress(self, state: bytes) -> bytes:
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        return state


def decode_event(topic: str, state: bytes) -> Any:
    event_class: type[BaseModel] = resolve_topic(topic)
    return event_class.model_validate_json(state)


# Internal (library) names of the envelope → the public names downstream systems read.
PUBLIC_NAMES = {"originator_id": "ticket_id", "originator_version": "version", "timestamp": "recorded_at"}


def public_document(internal: dict[str, Any]) -> dict[str, Any]:
    """The public form of a stored event's JSON, without decoding it into a model."""
    return {PUBLIC_NAMES.get(key, key): value for key, value in internal.items()}

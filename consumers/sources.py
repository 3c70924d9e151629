"""Where a consumer's events come from: "give me what follows position P".

Two sources, one shape (``Delivery``): the embedded notification log of the event store (one
stream, ``log``, positions are notification ids) and Kafka (one stream per topic-partition,
positions are offsets; see ``consumers/kafka.py``). The projector's code does not know which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from domain.serialization import upcast, with_public_names
from domain.sla_policies import POLICY_EVENT_CLASSES
from domain.ticket import EVENT_CLASS_BY_TYPE

LOG_STREAM = "log"
POSITION = "_position"  # the event's global log position, added to its document by the source
TICKET_TOPIC_PREFIX = "domain.ticket:Ticket."
POLICY_TOPIC_PREFIX = "domain.sla_policies:PolicyAdoption."
# Every event type on the events topic: ticket events and policy versions.
PUBLISHED_EVENT_CLASSES = {**EVENT_CLASS_BY_TYPE, **{cls.TYPE: cls for cls in POLICY_EVENT_CLASSES}}


@dataclass(frozen=True)
class Delivery:
    """One position of a stream: a ticket event (its public JSON document), something to skip
    (``event is None``), or poison (``error`` says why it cannot be used; ``payload`` keeps the
    original bytes)."""

    stream: str
    position: int
    event: dict[str, Any] | None = None
    error: str | None = None
    payload: bytes = b""


SUPPORTED_VERSIONS = {kind: cls.model_fields["schema_version"].default
                      for kind, cls in PUBLISHED_EVENT_CLASSES.items()}


def unsupported(event: dict[str, Any]) -> str | None:
    """Why a decoded event cannot be folded (unknown type or schema version), or None."""
    kind = event.get("type")
    if kind not in SUPPORTED_VERSIONS:
        return f"unknown event type {kind!r}"
    if event.get("schema_version") != SUPPORTED_VERSIONS[kind]:
        return f"unsupported schema version {event.get('schema_version')!r} of {kind}"
    return None


def stored_document(mapper: Any, state: bytes) -> dict[str, Any]:
    """The one reader of a stored ticket event: decrypt, decompress, decode, public names. No
    upcasting and no validation: the relay publishes what was stored, the audit checks it, and a
    consumer upcasts (``Delivery``). Raises on bytes that do not decode."""
    return with_public_names(orjson.loads(mapper.decrypt_and_decompress(state)))


def is_ticket_event(notification: Any) -> bool:
    return notification.topic.startswith(TICKET_TOPIC_PREFIX)


def is_published_event(notification: Any) -> bool:
    """A ticket event or a policy version: what the relay publishes and consumers receive."""
    return notification.topic.startswith(TICKET_TOPIC_PREFIX) or notification.topic.startswith(POLICY_TOPIC_PREFIX)


def is_policy_event(event: dict[str, Any]) -> bool:
    return "policy_id" in event


class Source(Protocol):
    # True when the same event can arrive at two positions (Kafka: a relay republishing a tail);
    # the runtime then dedupes by ticket version. The embedded log has each event once.
    duplicates_possible: bool

    def poll(self, positions: dict[str, int], limit: int) -> list[Delivery]:
        """Deliveries after ``positions`` (stream → last processed), in order per stream."""
        ...

    def committed(self, positions: dict[str, int]) -> None:
        """Told after the consumer's transaction committed (Kafka also commits its offsets)."""
        ...

    def close(self) -> None: ...


class EmbeddedLogSource:
    """Follows the event store's global notification log (the library's SQLite recorder cannot be
    subscribed to, so this polls ``select_notifications``)."""

    duplicates_possible = False

    def __init__(self, recorder: Any, mapper: Any):
        self.recorder = recorder
        self.mapper = mapper

    def poll(self, positions: dict[str, int], limit: int) -> list[Delivery]:
        start = positions.get(LOG_STREAM, 0)
        notifications = self.recorder.select_notifications(
            start=start, limit=limit, inclusive_of_start=False
        )
        return [self._delivery(n) for n in notifications]

    def _delivery(self, notification: Any) -> Delivery:
        if not is_published_event(notification):
            return Delivery(LOG_STREAM, notification.id)  # keys, agents …: tracked, ignored
        try:
            event = upcast(stored_document(self.mapper, notification.state))
            event[POSITION] = notification.id
        except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError) as error:
            return Delivery(LOG_STREAM, notification.id, error=f"undecodable: {error}",
                            payload=self.mapper.decrypt_and_decompress(notification.state))
        problem = unsupported(event)
        if problem:
            return Delivery(LOG_STREAM, notification.id, error=problem,
                            payload=self.mapper.decrypt_and_decompress(notification.state))
        return Delivery(LOG_STREAM, notification.id, event=event)

    def committed(self, positions: dict[str, int]) -> None:
        pass

    def close(self) -> None:
        pass

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

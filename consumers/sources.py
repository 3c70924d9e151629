"""Where a consumer's events come from: "give me what follows position P".

Two sources, one shape (``Delivery``): the embedded notification log of the event store (one
stream, ``log``, positions are notification ids) and Kafka (one stream per topic-partition,
positions are offsets; see ``consumers/kafka.py``). The projector's code does not know which.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

import orjson
from eventsourcing.sqlite import SQLiteApplicationRecorder

from domain.serialization import upcast, with_public_names
from domain.sla_policies import POLICY_EVENT_CLASSES
from domain.ticket import EVENT_CLASS_BY_TYPE

LOG_STREAM = "log"
POSITION = "_position"  # the event's global log position, added to its document by the source
TICKET_TOPIC_PREFIX = "domain.ticket:Ticket."
POLICY_TOPIC_PREFIX = "domain.sla_policies:PolicyAdoption."
# Every event type on the events topic: ticket events and policy versions.
PUBLISHED_EVENT_CLASSES = {**EVENT_CLASS_BY_TYPE, **{cls.TYPE: cls for cls in POLICY_EVENT_CLASSES}}


class Delivery(NamedTuple):
    """One position of a stream: a ticket event (its public JSON document), something to skip
    (``event is None``), or poison (``error`` says why it cannot be used; ``payload`` keeps the
    original bytes). A named tuple: one is built per event read, and it is immutable."""

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


PUBLISHED_TOPIC_PREFIXES = (TICKET_TOPIC_PREFIX, POLICY_TOPIC_PREFIX)


def is_published_event(notification: Any) -> bool:
    """A ticket event or a policy version: what the relay publishes and consumers receive."""
    return notification.topic.startswith(PUBLISHED_TOPIC_PREFIXES)


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


def log_page(recorder: Any, after: int, limit: int) -> list[tuple[int, str, bytes]]:
    """(position, topic, stored state) of up to ``limit`` notifications after ``after``, in order.

    On SQLite the event table is read directly: the recorder's ``select_notifications`` builds a
    ``Notification`` and a ``UUID`` per row that no consumer reads, which cost more than the read
    itself (the rebuild's bottleneck). The query is the recorder's own (rowid is the position)."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT rowid, topic, state FROM {recorder.events_table_name} "  # noqa: S608
                           "WHERE rowid > ? ORDER BY rowid LIMIT ?", (after, limit))
            return [tuple(row) for row in cursor.fetchall()]
    return [(n.id, n.topic, n.state)
            for n in recorder.select_notifications(start=after, limit=limit, inclusive_of_start=False)]


class EmbeddedLogSource:
    """Follows the event store's global notification log (the library's SQLite recorder cannot be
    subscribed to, so this polls it: ``log_page``)."""

    duplicates_possible = False

    def __init__(self, recorder: Any, mapper: Any):
        self.recorder = recorder
        self.mapper = mapper

    def poll(self, positions: dict[str, int], limit: int) -> list[Delivery]:
        return [self._delivery(*item) for item in log_page(self.recorder, positions.get(LOG_STREAM, 0), limit)]

    def _delivery(self, position: int, topic: str, state: bytes) -> Delivery:
        if not topic.startswith(PUBLISHED_TOPIC_PREFIXES):
            return Delivery(LOG_STREAM, position)  # keys, agents …: tracked, ignored
        try:
            event = upcast(stored_document(self.mapper, state))
            event[POSITION] = position
        except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError) as error:
            return Delivery(LOG_STREAM, position, error=f"undecodable: {error}",
                            payload=self.mapper.decrypt_and_decompress(state))
        problem = unsupported(event)
        if problem:
            return Delivery(LOG_STREAM, position, error=problem, payload=self.mapper.decrypt_and_decompress(state))
        return Delivery(LOG_STREAM, position, event=event)

    def committed(self, positions: dict[str, int]) -> None:
        pass

    def close(self) -> None:
        pass

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

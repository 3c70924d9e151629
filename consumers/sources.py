"""Where a consumer's events come from: "give me what follows position P".

Two sources, one shape (``Delivery``): the embedded notification log of the event store (one
stream, ``log``, positions are notification ids) and Kafka (one stream per topic-partition,
positions are offsets; see ``consumers/kafka.py``). The projector's code does not know which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from domain.events import TicketEvent
from domain.serialization import decode_event

LOG_STREAM = "log"
TICKET_TOPIC_PREFIX = "domain.ticket:Ticket."


@dataclass(frozen=True)
class Delivery:
    """One position of a stream: a ticket event, something to skip (``event is None``), or poison
    (``error`` says why it cannot be decoded; ``payload`` keeps the original bytes)."""

    stream: str
    position: int
    event: TicketEvent | None = None
    error: str | None = None
    payload: bytes = b""


class Source(Protocol):
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
        if not notification.topic.startswith(TICKET_TOPIC_PREFIX):
            return Delivery(LOG_STREAM, notification.id)  # not a ticket event: tracked, ignored
        state = self.mapper.decrypt_and_decompress(notification.state)
        try:
            event = decode_event(notification.topic, state)
        except (ValidationError, ValueError, ImportError, AttributeError) as error:
            return Delivery(LOG_STREAM, notification.id, error=f"undecodable: {error}", payload=state)
        return Delivery(LOG_STREAM, notification.id, event=event)

    def committed(self, positions: dict[str, int]) -> None:
        pass

    def close(self) -> None:
        pass

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

"""The relay: event store → Kafka events topic, in global log order.

Delivery: at-least-once, in per-ticket order. A batch of notifications is sent with an idempotent
producer (acks=all), and the relay's position is saved only after the broker acknowledged every
record of the batch. A crash before that save republishes the batch's tail on restart;
consumers recognise those duplicates by event id (ticket and version). Nothing is ever skipped.
"""

from __future__ import annotations

from typing import Any

from consumers.kafka import event_record
from consumers.loop import PollingLoop
from consumers.sources import LOG_STREAM, TICKET_TOPIC_PREFIX
from projections.store import StateStore


class Relay(PollingLoop):
    name = "relay"

    def __init__(self, recorder: Any, mapper: Any, producer: Any, store: StateStore, topic: str,
                 *, batch_size: int = 2000, idle_sleep: float = 0.05):
        self.recorder, self.mapper, self.producer = recorder, mapper, producer
        self.store, self.topic = store, topic
        self.batch_size, self.idle_sleep = batch_size, idle_sleep
        super().__init__()
        self.position = self._saved_position()

    def _saved_position(self) -> int:
        with self.store.transaction() as tx:
            return tx.positions(self.name).get(LOG_STREAM, 0)

    def run_once(self) -> int:
        notifications = self.recorder.select_notifications(
            start=self.position, limit=self.batch_size, inclusive_of_start=False
        )
        if not notifications:
            return 0
        sent = [
            self.producer.send(self.topic, key=key, value=value, headers=headers)
            for notification in notifications
            if notification.topic.startswith(TICKET_TOPIC_PREFIX)
            for key, value, headers in [
                event_record(notification.id, self.mapper.decrypt_and_decompress(notification.state))
            ]
        ]
        self.producer.flush()
        for future in sent:
            future.get(timeout=0)  # raises the broker's error if any record was not acknowledged
        last = notifications[-1].id
        with self.store.transaction() as tx:
            tx.advance(self.name, {LOG_STREAM: last})
        self.position = last
        return len(notifications)

    def recover(self) -> None:
        """A batch not acknowledged is republished from the saved position."""
        self.position = self._saved_position()

    def lag(self) -> int:
        return (self.recorder.max_notification_id() or 0) - self.position


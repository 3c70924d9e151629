"""The relay: event store → Kafka events topic, in global log order (policy versions to every
partition, see ``_partitions``).

Delivery: at-least-once, in per-ticket order. A batch of notifications is sent with an idempotent
producer (acks=all), and the relay's position is saved only after the broker acknowledged every
record of the batch. A crash before that save republishes the batch's tail on restart;
consumers recognise those duplicates by event id (ticket and version). Nothing is ever skipped.

When the brokers cannot acknowledge (too few in-sync replicas, brokers down), the relay waits on
the batch it already handed to the producer, which keeps retrying it: nothing is sent again while
waiting, so nothing piles up. Each ``ack_timeout`` without acknowledgement is reported as a
``WaitingForBrokers`` failure, which ``/ready`` shows with the reason. A batch the producer gave up
on (its delivery timeout) is sent again from the saved position.
"""

from __future__ import annotations

import time
from typing import Any


from consumers.kafka import CLOSE_TIMEOUT_MS, KafkaTimeoutError, event_record
from consumers.loop import PollingLoop
from consumers.sources import LOG_STREAM, is_published_event, is_ticket_event, stored_document
from projections.store import StateStore


class WaitingForBrokers(Exception):
    """The batch in flight is not acknowledged yet; the relay keeps waiting for it."""


class Relay(PollingLoop):
    name = "relay"

    def __init__(self, recorder: Any, mapper: Any, producer: Any, store: StateStore, topic: str,
                 *, batch_size: int = 2000, idle_sleep: float = 0.05, ack_timeout: float = 10.0):
        self.recorder, self.mapper, self.producer = recorder, mapper, producer
        self.store, self.topic = store, topic
        self.batch_size, self.idle_sleep, self.ack_timeout = batch_size, idle_sleep, ack_timeout
        super().__init__()
        self.position = self._saved_position()
        self.in_flight: tuple[int, list[Any], float] | None = None  # (last id, futures, sent at)
        self.records_sent = 0
        self.records_acknowledged = 0  # for metrics: records the brokers acknowledged

    def _saved_position(self) -> int:
        with self.store.transaction() as tx:
            return tx.positions(self.name).get(LOG_STREAM, 0)

    def run_once(self) -> int:
        if self.in_flight is None:
            notifications = self.recorder.select_notifications(
                start=self.position, limit=self.batch_size, inclusive_of_start=False
            )
            if not notifications:
                return 0
            sent = [
                self.producer.send(self.topic, key=key, value=value, headers=headers, partition=partition)
                for notification in notifications
                if is_published_event(notification)
                for key, value, headers in [
                    event_record(notification.id, stored_document(self.mapper, notification.state))
                ]
                for partition in self._partitions(notification)
            ]
            self.records_sent += len(sent)
            self.in_flight = (notifications[-1].id, sent, time.monotonic())
        last, sent, since = self.in_flight
        try:
            self.producer.flush(timeout=self.ack_timeout)
        except KafkaTimeoutError:
            waiting = sum(1 for future in sent if not future.is_done)
            raise WaitingForBrokers(
                f"{waiting} of {len(sent)} records not acknowledged for {time.monotonic() - since:.0f}s "
                "(brokers unreachable or too few in-sync replicas); waiting, nothing is dropped") from None
        self.in_flight = None
        for future in sent:
            future.get(timeout=0)  # raises the broker's error if any record was not acknowledged
        self.records_acknowledged += len(sent)
        with self.store.transaction() as tx:
            tx.advance(self.name, {LOG_STREAM: last})
        self.position = last
        return len(sent) or 1

    def _partitions(self, notification: Any) -> list[int | None]:
        """A ticket event goes to its key's partition; a policy version to every partition, so
        that on each partition it comes before every ticket opening recorded after it (the rule
        of ``domain.sla_policies``): a consumer of any partition has it in time."""
        if is_ticket_event(notification):
            return [None]
        return sorted(self.producer.partitions_for(self.topic))

    def recover(self) -> None:
        """A batch still in flight is waited for; one that failed is republished from the saved position."""
        if self.in_flight is None:
            self.position = self._saved_position()

    def close(self) -> None:
        """Bounded: unacknowledged records are sent again from the saved position on the next start."""
        self.producer.close(timeout=CLOSE_TIMEOUT_MS / 1000)

    def lag(self) -> int:
        return (self.recorder.max_notification_id() or 0) - self.position


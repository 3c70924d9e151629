"""Kafka adapter: topics, the events topic's record format, the producer and the event source.

Record format of the events topic (the contract of CONTRACT.md): key = ticket id (so one ticket's
events share a partition and keep their order), value = the event's public JSON, headers
``type``, ``schema_version``, ``event_id`` and ``position`` (the global log position).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition
from kafka.errors import KafkaTimeoutError, TopicAlreadyExistsError
from pydantic import ValidationError

from consumers.sources import POSITION, PUBLISHED_EVENT_CLASSES, Delivery
from domain.serialization import stream_of

__all__ = ["CLOSE_TIMEOUT_MS", "KafkaConsumer", "KafkaEventSource", "KafkaTimeoutError", "TopicSpec", "commit_after",
           "decode_record", "ensure_topics", "event_record", "group_membership", "idempotent_producer",
           "inbound_consumer", "topic_records"]

log = logging.getLogger("servicetrail.kafka")

# Closing a consumer sends LeaveGroup, which a broker answers only after a pending JoinGroup of the
# same member completes (after a crash restart: when the dead incarnation's session expires).
# kafka-python waits request_timeout_ms (30 s) for it by default; shutdown must not.
CLOSE_TIMEOUT_MS = 2000


METADATA_MAX_AGE_MS = 5_000


def group_membership(group_id: str, *, session_timeout_ms: int, instance_id: str | None) -> dict[str, Any]:
    """Consumer-group settings shared by every consumer of ours.

    A member killed without leaving keeps its partitions until its session times out, and a new
    member's join waits for that: a short session timeout bounds how long a restarted consumer
    waits. With ``instance_id`` the member is static (KIP-345): the broker hands a restarted
    incarnation the same partitions at once, without a rebalance (and a static member does not
    leave the group on close: a restart is expected).

    A member that joins while its topic's partitions are not yet in its metadata (a topic just
    created: the broker's metadata lags the creation) is assigned nothing, and rejoins only when
    a metadata refresh shows them: kafka-python refreshes every 5 minutes by default, so the
    refresh here is every ``METADATA_MAX_AGE_MS`` (a small request to the broker)."""
    config: dict[str, Any] = dict(group_id=group_id, client_id=group_id, session_timeout_ms=session_timeout_ms,
                                  heartbeat_interval_ms=max(300, session_timeout_ms // 3),
                                  metadata_max_age_ms=METADATA_MAX_AGE_MS)
    if instance_id:
        config["group_instance_id"] = f"{group_id}-{instance_id}"[-249:]
    return config


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication: int
    configs: dict[str, str]


def ensure_topics(bootstrap: str, topics: list[TopicSpec]) -> None:
    """Creates absent topics with the configured partitions and replication; keeps existing ones."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="servicetrail-admin")
    try:
        existing = set(admin.list_topics())
        wanted = {
            t.name: {"num_partitions": t.partitions, "replication_factor": t.replication, "configs": t.configs}
            for t in topics if t.name not in existing
        }
        if wanted:
            try:
                admin.create_topics(wanted, wait_for_metadata=True)
            except TopicAlreadyExistsError:
                pass  # created by another process meanwhile
    finally:
        admin.close()


def event_record(position: int, document: dict[str, Any]) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """(key, value, headers) of the events topic for one stored ticket event (its public document,
    ``consumers.sources.stored_document``)."""
    headers = [
        ("type", document["type"].encode()),
        ("schema_version", str(document["schema_version"]).encode()),
        ("event_id", document["event_id"].encode()),
        ("position", str(position).encode()),
    ]
    value = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return stream_of(document).encode(), value, headers


def inbound_consumer(bootstrap: str, topic: str, group_id: str, *, session_timeout_ms: int,
                     instance_id: str | None) -> KafkaConsumer:
    """The ingestor's consumer of the inbound topic: a member of its group, committing by hand,
    from the earliest message the group has not yet committed."""
    membership = group_membership(group_id, session_timeout_ms=session_timeout_ms, instance_id=instance_id)
    return KafkaConsumer(topic, bootstrap_servers=bootstrap, **membership,
                         enable_auto_commit=False, auto_offset_reset="earliest")


def commit_after(consumer: KafkaConsumer, batches: dict[Any, list[Any]]) -> None:
    """Commits, per partition, the offset after the last record of a polled batch."""
    consumer.commit({tp: OffsetAndMetadata(records[-1].offset + 1, "", -1) for tp, records in batches.items()})


def topic_records(bootstrap: str, topic: str, timeout_ms: int = 1000) -> Iterator[Any]:
    """Every record of every partition of ``topic``, from the beginning to the end offsets it had
    when reading began (outside any consumer group; nothing is committed)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            for records in consumer.poll(timeout_ms=timeout_ms).values():
                yield from records
    finally:
        consumer.close(autocommit=False)


def idempotent_producer(bootstrap: str, **overrides: Any) -> KafkaProducer:
    """acks=all with idempotence stated explicitly, so a conflicting override fails loudly
    instead of silently disabling idempotence (kafka-python's behaviour for defaults)."""
    config = dict(
        bootstrap_servers=bootstrap, client_id="servicetrail-relay", acks="all",
        enable_idempotence=True, linger_ms=5, batch_size=256 * 1024,
        max_in_flight_requests_per_connection=5, delivery_timeout_ms=120_000,
        max_block_ms=60_000,
    )
    config.update(overrides)
    return KafkaProducer(**config)


def decode_record(stream: str, record: Any) -> Delivery:
    """A Kafka record of the events topic as a ``Delivery`` (poison if it breaks the contract)."""
    headers = {key: value for key, value in (record.headers or [])}
    event_type = headers.get("type", b"").decode("utf-8", "replace")
    event_class = PUBLISHED_EVENT_CLASSES.get(event_type)
    if event_class is None:
        return Delivery(stream, record.offset, error=f"unknown event type {event_type!r}",
                        payload=record.value or b"")
    try:
        event_class.model_validate_json(record.value)  # the contract check at the boundary
        event = json.loads(record.value)
        if "position" in headers:
            event[POSITION] = int(headers["position"])
    except ValidationError as invalid:
        first = invalid.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return Delivery(stream, record.offset, error=f"invalid {event_type}: {where}: {first['msg']}",
                        payload=record.value or b"")
    return Delivery(stream, record.offset, event=event)


class KafkaEventSource:
    """Reads the events topic as a member of a consumer group, positioned by *our* tracking.

    Kafka's committed offsets are not used: whenever the consumer's next offset for a partition
    differs from the stored position + 1 (a new assignment, a rebuild, a failed batch), the source
    seeks there first. Records fetched before such a seek are dropped.
    """

    duplicates_possible = True

    def __init__(self, bootstrap: str, topic: str, group_id: str, *, poll_timeout_ms: int = 200,
                 session_timeout_ms: int = 6000, instance_id: str | None = None):
        self.topic = topic
        self.poll_timeout_ms = poll_timeout_ms
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            **group_membership(group_id, session_timeout_ms=session_timeout_ms, instance_id=instance_id),
            enable_auto_commit=False, auto_offset_reset="earliest",
            isolation_level="read_committed", max_poll_records=2000,
            fetch_max_bytes=32 * 1024 * 1024, max_partition_fetch_bytes=8 * 1024 * 1024,
        )
        self.consumer.subscribe([topic])
        self._next: dict[str, int] = {}

    @staticmethod
    def stream_of(tp: TopicPartition) -> str:
        return f"{tp.topic}:{tp.partition}"

    def poll(self, positions: dict[str, int], limit: int) -> list[Delivery]:
        for tp in self.consumer.assignment():
            stream = self.stream_of(tp)
            wanted = positions.get(stream, -1) + 1
            if self._next.get(stream) != wanted:
                if wanted == 0:
                    self.consumer.seek_to_beginning(tp)
                else:
                    self.consumer.seek(tp, wanted)
                self._next[stream] = wanted
        batches = self.consumer.poll(timeout_ms=self.poll_timeout_ms, max_records=limit)
        deliveries = []
        for tp, records in batches.items():
            stream = self.stream_of(tp)
            for record in records:
                if record.offset < self._next.get(stream, 0):
                    continue  # fetched before our seek
                deliveries.append(decode_record(stream, record))
                self._next[stream] = record.offset + 1
        return deliveries

    def committed(self, positions: dict[str, int]) -> None:
        pass  # our tracking table is the position of record

    def lag(self, positions: dict[str, int]) -> int:
        partitions = self.consumer.assignment()
        if not partitions:
            return 0
        ends = self.consumer.end_offsets(list(partitions))
        return sum(max(0, end - (positions.get(self.stream_of(tp), -1) + 1)) for tp, end in ends.items())

    def close(self) -> None:
        self.consumer.close(autocommit=False, timeout_ms=CLOSE_TIMEOUT_MS)

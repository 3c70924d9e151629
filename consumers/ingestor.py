"""The ingestor: inbound channel topic → commands; everything it cannot apply → dead-letter topic.

Delivery: each message is applied at most once and dead-lettered at least once. Valid messages
become commands keyed by their own ``message_id`` (a redelivered message returns the first
outcome and writes nothing). Malformed ones (not JSON, not the contract) and refused ones (a
domain rule said no) go to the DLQ topic with the original bytes, the reason and the source
offset. Offsets are committed only after the batch's commands were stored and its DLQ records
acknowledged; a store outage stops the batch so nothing is skipped.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from consumers.kafka import CLOSE_TIMEOUT_MS, KafkaConsumer, commit_after
from consumers.loop import PollingLoop
from domain.commands import CommandContext
from domain.errors import DomainError
from domain.inbound import InboundAdapter
from domain.strict_json import RefusedJson, strict_loads
from domain.values import printable

log = logging.getLogger("servicetrail.ingestor")


def rejection_reason(invalid: ValidationError) -> str:
    parts = []
    for error in invalid.errors()[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "message"
        parts.append(f"{where}: {error['msg']}")
    return "invalid message: " + "; ".join(parts)


class Ingestor(PollingLoop):
    name = "ingestor"

    def __init__(self, app: Any, consumer: KafkaConsumer, producer: Any, dlq_topic: str,
                 *, poll_timeout_ms: int = 200):
        self.app, self.consumer, self.producer = app, consumer, producer
        self.dlq_topic, self.poll_timeout_ms = dlq_topic, poll_timeout_ms
        self.idle_sleep = 0.0  # polling already waits up to poll_timeout_ms
        self.dead_lettered = 0  # for metrics: messages the DLQ topic acknowledged
        super().__init__()

    def run_once(self) -> int:
        batches = self.consumer.poll(timeout_ms=self.poll_timeout_ms, max_records=500)
        rejected = []
        for tp, records in batches.items():
            for record in records:
                reason = self._apply(record)
                if reason:
                    rejected.append(self._dead_letter(record, reason))
        if not batches:
            return 0
        self.producer.flush()
        for future in rejected:
            future.get(timeout=0)
        self.dead_lettered += len(rejected)
        commit_after(self.consumer, batches)
        return sum(len(records) for records in batches.values())

    def _apply(self, record: Any) -> str | None:
        """Applies one message; returns why it was rejected, or None."""
        try:  # strictly: no duplicate keys, non-finite numbers or NUL (see domain.strict_json)
            message = InboundAdapter.validate_python(strict_loads(record.value or b""))
        except RefusedJson as refused:
            where = ".".join(str(part) for part in refused.path) or "message"
            return f"invalid message: {where}: {refused.reason}"
        except ValueError as unreadable:  # not JSON, not UTF-8 (a ValidationError is a ValueError too)
            if isinstance(unreadable, ValidationError):
                return rejection_reason(unreadable)
            return f"invalid message: not JSON: {unreadable}"
        try:
            command = message.command()
            context = CommandContext(actor=f"channel:{message.source}",
                                     idempotency_key=f"inbound:{message.message_id}")
            self.app.handle(command, context)
        except ValidationError as invalid:
            return rejection_reason(invalid)
        except DomainError as refused:
            return f"refused ({refused.rule}): {refused.detail}"
        return None

    def _dead_letter(self, record: Any, reason: str) -> Any:
        log.info("ingestor: dead-lettered %s:%s@%s: %s", record.topic, record.partition, record.offset,
                 printable(reason))  # the reason quotes the message's own keys: one log line, whatever they hold
        headers = [
            ("reason", reason.encode("utf-8")),
            ("source_topic", record.topic.encode()),
            ("source_partition", str(record.partition).encode()),
            ("source_offset", str(record.offset).encode()),
        ]
        return self.producer.send(self.dlq_topic, key=record.key, value=record.value or b"", headers=headers)

    def close(self) -> None:
        """Bounded: a shutdown never waits on the broker for long (see ``CLOSE_TIMEOUT_MS``)."""
        try:
            self.consumer.close(autocommit=False, timeout_ms=CLOSE_TIMEOUT_MS)
        finally:
            self.producer.close(timeout=CLOSE_TIMEOUT_MS / 1000)

    def recover(self) -> None:
        """Seeks every assigned partition back to its committed offset (the failed batch again)."""
        for tp in self.consumer.assignment():
            committed = self.consumer.committed(tp)
            if committed is None:
                self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, committed)

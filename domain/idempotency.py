"""Idempotency keys as aggregates: the first outcome of a keyed command, stored atomically with it.

The record's id is ``uuid5`` of the key, so two racing requests with one key collide in the event
store itself (optimistic concurrency), and only one of them is ever recorded.
"""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar, Literal
from uuid import UUID

from eventsourcing.domain import BaseAggregate, CanInitAggregate
from pydantic import Field

from domain.events import RecordEvent, started_by
from domain.uuids import uuid5_in
from domain.values import UtcDatetime

IDEMPOTENCY_NAMESPACE = UUID("0d2c6a51-8f0e-5b7a-a3c4-1e9d2f6b7c80")


_record_uuid5 = uuid5_in(IDEMPOTENCY_NAMESPACE)


@lru_cache(maxsize=1 << 16)  # asked for again when the record is looked up, then written
def idempotency_record_id(key: str) -> UUID:
    return _record_uuid5(key)


class IdempotencyEvent(RecordEvent):
    pass


class IdempotencyRecord(BaseAggregate[UUID]):
    """Remembers which command a key was first used for and what it produced."""

    Event = IdempotencyEvent

    class Recorded(IdempotencyEvent, CanInitAggregate[UUID]):
        TYPE: ClassVar[str] = "idempotency.recorded"
        type: Literal["idempotency.recorded"] = "idempotency.recorded"
        command: str
        request_digest: str = Field(pattern=r"^[0-9a-f]{64}$")
        ticket_id: UUID
        version: int

        originator_topic: str = Field(default="domain.idempotency:IdempotencyRecord", exclude=True)

        def apply(self, record: IdempotencyRecord) -> None:
            record.command = self.command
            record.request_digest = self.request_digest
            record.ticket_id = self.ticket_id
            record.result_version = self.version

    @classmethod
    def record(
        cls, key: str, *, command: str, request_digest: str, ticket_id: UUID, version: int,
        recorded_at: UtcDatetime,
    ) -> IdempotencyRecord:
        event = cls.Recorded(
            originator_id=idempotency_record_id(key), originator_version=1, timestamp=recorded_at,
            command=command, request_digest=request_digest, ticket_id=ticket_id, version=version,
        )
        return started_by(event)

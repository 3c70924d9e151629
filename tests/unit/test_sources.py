"""The embedded log source: one reader of stored events; what it cannot use becomes poison with
a reason and the original bytes, never a crash."""

from __future__ import annotations

from types import SimpleNamespace

import orjson

from consumers.sources import TICKET_TOPIC_PREFIX, EmbeddedLogSource
from domain.application import ServiceTrail
from tests.fakes import FakeClock


def stored(position: int, document: dict | bytes):
    state = document if isinstance(document, bytes) else orjson.dumps(document)
    return SimpleNamespace(id=position, topic=TICKET_TOPIC_PREFIX + "Opened", state=state)


def source_of(*notifications) -> EmbeddedLogSource:
    recorder = SimpleNamespace(select_notifications=lambda **_: list(notifications))
    app = ServiceTrail({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=FakeClock())
    return EmbeddedLogSource(recorder, app.mapper)


def test_an_event_of_an_unsupported_schema_version_is_poison_with_its_reason_and_bytes():
    document = {"type": "ticket.opened", "schema_version": 99, "originator_id": "t", "originator_version": 1,
                "timestamp": "2026-03-02T09:00:00Z"}
    (delivery,) = source_of(stored(7, document)).poll({}, 10)
    assert delivery.event is None and "unsupported schema version 99" in delivery.error
    assert orjson.loads(delivery.payload)["schema_version"] == 99


def test_undecodable_bytes_are_poison_with_the_original_bytes():
    (delivery,) = source_of(stored(8, b"{not json")).poll({}, 10)
    assert delivery.event is None and delivery.error.startswith("undecodable")
    assert delivery.payload == b"{not json"

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


def test_the_sqlite_log_read_directly_gives_what_the_recorder_gives(tmp_path):
    from datetime import datetime, timezone
    from uuid import uuid4

    from consumers.sources import log_page
    from domain.ticket import Ticket
    from domain.values import Channel, Stamp

    app = ServiceTrail({"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                        "SQLITE_DBNAME": str(tmp_path / "events.db")}, clock=FakeClock())
    now = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    stamp = Stamp(now, now, "test")
    for _ in range(3):
        ticket = Ticket.open(uuid4(), stamp, customer_id="c", channel=Channel.EMAIL, category="billing", subject="s")
        ticket.assign(stamp, agent_id="ana")
        app.save(ticket)
    expected = [(n.id, n.topic, n.state) for n in app.recorder.select_notifications(start=2, limit=4,
                                                                                     inclusive_of_start=False)]
    assert log_page(app.recorder, 2, 4) == expected and len(expected) == 4
    source = EmbeddedLogSource(app.recorder, app.mapper)
    assert [d.event["version"] for d in source.poll({"log": 0}, 10)] == [1, 2] * 3

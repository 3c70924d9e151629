"""A downstream consumer written with another client library (confluent-kafka / librdkafka)
reads the events topic and validates every value against the exported JSON Schema."""

from __future__ import annotations

import json
import time

import jsonschema
import pytest

from api.bootstrap import bootstrap
from api.schema import export
from api.settings import Settings
from domain import commands as c
from tests.fakes import FakeClock

confluent_kafka = pytest.importorskip("confluent_kafka")


def test_every_event_on_the_topic_validates_against_the_exported_schema(kafka_settings, tmp_path):
    services = bootstrap(Settings(**kafka_settings), clock=FakeClock())
    app = services.app
    try:
        for n in range(5):
            t = app.open_ticket(c.OpenTicket(customer_id=f"c{n}", channel="phone", category="x", subject="s",
                                             severity="major", priority="P1")).ticket_id
            for command in (
                c.TriageTicket(ticket_id=t, priority="P2"), c.AssignTicket(ticket_id=t, agent_id="ana"),
                c.RecordInteraction(ticket_id=t, channel="phone", direction="outbound", author="agent",
                                    agent_id="ana", duration_seconds=60),
                c.WaitOnCustomer(ticket_id=t), c.ResumeTicket(ticket_id=t),
                c.TransferTicket(ticket_id=t, department="tech"), c.EscalateTicket(ticket_id=t, reason="vip"),
                c.ResolveTicket(ticket_id=t, code="ok", summary="done", remedy="replacement", root_cause="defect"),
                c.ReopenTicket(ticket_id=t), c.ResolveTicket(ticket_id=t, code="ok", summary="again",
                                                            remedy="replacement", root_cause="defect"),
                c.CloseTicket(ticket_id=t), c.RecordSurvey(ticket_id=t, csat=3, nps=6),
            ):
                app.handle(command)
        expected = app.event_count() - 0
        relay = services.relay()
        relay.run_until_caught_up()
        relay.producer.close()
    finally:
        services.close()

    export(tmp_path, kafka_settings["events_topic"], kafka_settings["inbound_topic"], kafka_settings["inbound_dlq_topic"])
    schemas = {path.name.removesuffix(".schema.json"): json.loads(path.read_text())
               for path in (tmp_path / "events").glob("*.schema.json")}

    consumer = confluent_kafka.Consumer({
        "bootstrap.servers": kafka_settings["kafka_bootstrap"], "group.id": "downstream-librdkafka",
        "auto.offset.reset": "earliest", "enable.auto.commit": False,
    })
    consumer.subscribe([kafka_settings["events_topic"]])
    seen_types, count = set(), 0
    deadline = time.monotonic() + 60
    try:
        while count < expected and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            headers = {k: v.decode() for k, v in message.headers()}
            value = json.loads(message.value())
            jsonschema.validate(value, schemas[f"{headers['type']}.v{headers['schema_version']}"])
            assert message.key().decode() == value["ticket_id"]
            seen_types.add(value["type"])
            count += 1
    finally:
        consumer.close()
    assert count == expected
    assert len(seen_types) == 12, "every event type was produced and validated"

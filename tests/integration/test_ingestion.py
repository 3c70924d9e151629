"""Inbound ingestion against a real broker: valid messages become commands once; malformed and
refused ones reach the DLQ with the original bytes, the reason and the source offset."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from kafka import KafkaProducer

from api.bootstrap import bootstrap
from api.settings import Settings
from domain import commands as c
from domain.idempotency import idempotency_record_id
from tests.fakes import FakeClock
from tests.support.topics import read_topic, wait_for_records


@pytest.fixture
def services(kafka_settings):
    wired = bootstrap(Settings(**kafka_settings), clock=FakeClock())
    wired.ensure_topics()
    yield wired
    wired.close()


def publish(bootstrap_servers: str, topic: str, values: list[bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap_servers)
    for value in values:
        producer.send(topic, key=b"k", value=value)  # one key: one partition, known offsets
    producer.flush()
    producer.close()


def test_inbound_messages_become_commands_and_rejects_reach_the_dlq(services, kafka_settings):
    app = services.app
    ticket_id = app.open_ticket(c.OpenTicket(customer_id="c", channel="chat", category="x", subject="s")).ticket_id
    interaction = {"kind": "interaction", "message_id": "chat-1", "source": "chatgw", "ticket_id": str(ticket_id),
                   "channel": "chat", "direction": "inbound", "author": "customer", "body": "hello"}
    new_ticket = {"kind": "ticket", "message_id": "mail-9", "source": "mailgw",
                  "ticket": {"customer_id": "c2", "channel": "email", "category": "billing", "subject": "refund"}}
    messages = [
        json.dumps(interaction).encode(),                                     # 0 valid
        b"{this is not json",                                                 # 1 malformed
        json.dumps({**interaction, "message_id": "chat-2", "channel": "fax"}).encode(),  # 2 invalid field
        json.dumps(interaction).encode(),                                     # 3 duplicate of 0
        json.dumps({**interaction, "message_id": "chat-3", "ticket_id": str(uuid.uuid4())}).encode(),  # 4 refused
        json.dumps(new_ticket).encode(),                                      # 5 valid new ticket
        json.dumps({**interaction, "message_id": "chat-4", "author": "agent", "direction": "outbound"}).encode(),  # 6 refused: no agent_id
    ]
    publish(kafka_settings["kafka_bootstrap"], kafka_settings["inbound_topic"], messages)

    ingestor = services.ingestor()
    try:
        deadline, consumed = time.monotonic() + 30, 0
        while consumed < len(messages):
            assert time.monotonic() < deadline, "ingestor did not consume the inbound topic"
            consumed += ingestor.run_once()
    finally:
        ingestor.consumer.close()
        ingestor.producer.close()

    history = app.ticket_events(ticket_id)
    assert [e.type for e in history] == ["ticket.opened", "ticket.interaction_recorded"], "applied once"
    assert history[1].actor == "channel:chatgw"
    opened = app.repository.get(idempotency_record_id("inbound:mail-9"))
    assert app.get_ticket(opened.ticket_id).customer_id == "c2"

    dlq = wait_for_records(kafka_settings["kafka_bootstrap"], kafka_settings["inbound_dlq_topic"], 4)
    rejected = {int(dict(r.headers)["source_offset"]): r for r in dlq}
    assert sorted(rejected) == [1, 2, 4, 6]
    for offset, record in rejected.items():
        headers = dict(record.headers)
        assert record.value == messages[offset], "the original bytes are kept"
        assert headers["source_topic"].decode() == kafka_settings["inbound_topic"]
    reasons = {offset: dict(r.headers)["reason"].decode() for offset, r in rejected.items()}
    assert reasons[1].startswith("invalid message:") and "json" in reasons[1].lower()
    assert "channel" in reasons[2]
    assert reasons[4].startswith("refused (ticket_not_found)")
    assert "agent_id" in reasons[6]


def test_a_restarted_ingestor_does_not_reapply(services, kafka_settings):
    app = services.app
    ticket_id = app.open_ticket(c.OpenTicket(customer_id="c", channel="chat", category="x", subject="s")).ticket_id
    message = {"kind": "interaction", "message_id": "m-1", "ticket_id": str(ticket_id),
               "channel": "chat", "direction": "inbound", "author": "customer"}
    publish(kafka_settings["kafka_bootstrap"], kafka_settings["inbound_topic"], [json.dumps(message).encode()])
    for _ in range(2):  # the second ingestor has a new group: it re-reads the whole topic
        kafka_settings["consumer_group_prefix"] += "-again"
        ingestor = bootstrap(Settings(**kafka_settings), clock=FakeClock()).ingestor()
        try:
            deadline = time.monotonic() + 30
            while ingestor.run_once() == 0:
                assert time.monotonic() < deadline
        finally:
            ingestor.consumer.close()
            ingestor.producer.close()
    assert len(app.ticket_events(ticket_id)) == 2
    assert read_topic(kafka_settings["kafka_bootstrap"], kafka_settings["inbound_dlq_topic"]) == []

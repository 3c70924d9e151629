"""The relay against a 3-broker cluster (replication 3, min.insync.replicas 2) losing two brokers:
it waits on the batch it handed to the producer instead of dropping or re-sending it, ``/ready``
says why, and when the brokers return it resumes on its own; every event reaches the topic."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from fastapi.testclient import TestClient

from api.bootstrap import bootstrap
from api.http import create_app
from api.settings import Settings
from domain import commands as c
from tests.support.kafka import new_cluster
from tests.support.topics import read_topic


def _open(services, count: int) -> None:
    for n in range(count):
        services.app.handle(c.OpenTicket(customer_id=f"c{n}", channel="web", category="billing", subject="s"))


def _until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


@pytest.mark.slow
def test_the_relay_waits_for_lost_brokers_says_why_and_resumes(tmp_path):
    cluster = new_cluster(3)
    cluster.start()
    topic = f"events-{uuid.uuid4().hex[:6]}"
    services = bootstrap(Settings(store_url=f"sqlite:///{tmp_path / 'e.db'}", kafka_bootstrap=cluster.bootstrap,
                                  events_topic=topic, topic_partitions=3, topic_replication=3,
                                  relay_batch_size=100))
    relay = services.relay(request_timeout_ms=5_000)
    relay.ack_timeout = 2.0
    services.running.append(relay)
    thread = threading.Thread(target=relay.run_forever, daemon=True)
    thread.start()
    client = TestClient(create_app(services, run_consumers=False))
    try:
        _open(services, 150)
        _until(lambda: relay.lag() == 0, 60, "the relay publishes while all brokers run")
        assert client.get("/ready").status_code == 200

        cluster.stop_node(cluster.nodes[1])
        cluster.stop_node(cluster.nodes[2])
        sent_before = relay.records_sent
        _open(services, 150)
        _until(lambda: relay.last_error is not None, 60, "the relay reports that it waits")
        time.sleep(6)  # several acknowledgement timeouts pass
        assert "not acknowledged" in relay.last_error and "nothing is dropped" in relay.last_error
        assert relay.records_sent - sent_before <= 100, "one batch in flight, never sent again while waiting"
        assert relay.lag() > 0
        ready = client.get("/ready")
        assert ready.status_code == 503 and ready.json()["status"] == "degraded"
        assert "not acknowledged" in ready.json()["consumers"]["relay"]["error"]

        cluster.start_node(cluster.nodes[1])
        cluster.start_node(cluster.nodes[2])
        _until(lambda: relay.lag() == 0 and relay.last_error is None, 180, "the relay resumes on its own")
        assert client.get("/ready").status_code == 200
        published = {record.value for record in read_topic(cluster.bootstrap, topic, timeout=60)}
        stored = {event["event_id"] for event in services.log_events()}
        import json

        assert {json.loads(value)["event_id"] for value in published} == stored and len(stored) == 300
    finally:
        relay.stop()
        thread.join(timeout=30)
        services.close()
        cluster.stop()

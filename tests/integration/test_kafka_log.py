"""The log in Kafka, against a real broker: relay round trip, per-ticket order, exactly-once
projection through Kafka, and a relay killed with SIGKILL mid-stream."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from api.bootstrap import bootstrap
from api.settings import Settings
from domain import commands as c
from domain.hashing import chain_hash
from projections.ticket_state.store import TicketStateProjection, read_all
from tests.fakes import FakeClock
from tests.support.topics import read_topic

ROOT = Path(__file__).resolve().parents[2]


def make_traffic(app, tickets: int, steps: int = 4) -> int:
    """Opens tickets and interleaves commands across them; returns the number of ticket events."""
    ids = [app.open_ticket(c.OpenTicket(customer_id=f"c{i}", channel="chat", category="x", subject="s")).ticket_id
           for i in range(tickets)]
    for step in range(steps):
        for ticket_id in ids:
            app.record_interaction(c.RecordInteraction(
                ticket_id=ticket_id, channel="chat", direction="inbound", author="customer", body=f"m{step}"))
    return tickets * (1 + steps)


@pytest.fixture
def services(kafka_settings):
    wired = bootstrap(Settings(**kafka_settings), clock=FakeClock())
    yield wired
    wired.close()


def test_relay_publishes_every_event_once_keyed_and_in_ticket_order(services, kafka_settings):
    expected = make_traffic(services.app, tickets=20)
    relay = services.relay()
    try:
        assert relay.run_until_caught_up() >= expected
        assert relay.lag() == 0
    finally:
        relay.producer.close()

    records = read_topic(kafka_settings["kafka_bootstrap"], kafka_settings["events_topic"])
    assert len(records) == expected
    by_ticket: dict[str, list[int]] = defaultdict(list)
    partition_of: dict[str, set[int]] = defaultdict(set)
    for record in records:
        event = json.loads(record.value)
        headers = dict(record.headers)
        assert record.key.decode() == event["ticket_id"]
        assert headers["type"].decode() == event["type"]
        assert headers["event_id"].decode() == event["event_id"]
        assert headers["schema_version"].decode() == str(event["schema_version"])
        assert chain_hash(event) == event["hash"], "the published event verifies"
        by_ticket[event["ticket_id"]].append(event["version"])
        partition_of[event["ticket_id"]].add(record.partition)
    assert all(versions == list(range(1, 6)) for versions in by_ticket.values())
    assert all(len(partitions) == 1 for partitions in partition_of.values())


def test_relay_position_survives_a_restart_without_republishing(services, kafka_settings):
    make_traffic(services.app, tickets=5)
    first = services.relay()
    first.run_until_caught_up()
    first.producer.close()
    make_traffic(services.app, tickets=3)
    second = services.relay()
    try:
        second.run_until_caught_up()
    finally:
        second.producer.close()
    assert len(read_topic(kafka_settings["kafka_bootstrap"], kafka_settings["events_topic"])) == 5 * 5 + 3 * 5


def test_projection_through_kafka_equals_a_rebuild_from_the_store(services):
    make_traffic(services.app, tickets=30)
    relay = services.relay()
    relay.run_until_caught_up()
    relay.producer.close()

    via_kafka = services.projector(TicketStateProjection(), source="kafka")
    try:
        deadline = time.monotonic() + 30
        while via_kafka.lag() > 0 or not via_kafka.positions:
            via_kafka.run_once()
            assert time.monotonic() < deadline
    finally:
        via_kafka.source.close()
    live = assert_equals_a_rebuild(services)
    assert len(live) == 30


def assert_equals_a_rebuild(services) -> dict:
    """The live ticket-state rows equal a rebuild from the store's log; returns them."""
    with services.state.transaction() as tx:
        live = read_all(tx)
    rebuilt = services.projector(TicketStateProjection(), source="embedded")
    rebuilt.reset()
    rebuilt.run_until_caught_up()
    with services.state.transaction() as tx:
        assert read_all(tx) == live
    return live


class CrashingProjection(TicketStateProjection):
    """Fails after its effects were written but before the transaction commits."""

    def __init__(self, crash_on_batches: set[int]):
        super().__init__()
        self.crash_on_batches, self.batches = crash_on_batches, 0

    def handle(self, tx, events):
        super().handle(tx, events)
        self.batches += 1
        if self.batches in self.crash_on_batches:
            raise RuntimeError("crash between handling and commit")


def test_a_consumer_crash_between_handling_and_commit_leaves_state_equal_to_a_rebuild(services):
    make_traffic(services.app, tickets=25)
    relay = services.relay()
    relay.run_until_caught_up()
    relay.run_until_caught_up()
    # A relay that lost its position republishes everything: duplicates at new offsets.
    with services.state.transaction() as tx:
        tx.forget("relay")
    again = services.relay()
    again.run_until_caught_up()
    relay.producer.close(), again.producer.close()

    crashing = CrashingProjection({1, 3, 4})
    runtime = services.projector(crashing, source="kafka")
    runtime.batch_size = 20
    crashes = 0
    try:
        deadline = time.monotonic() + 60
        while runtime.lag() > 0 or not runtime.positions:
            assert time.monotonic() < deadline
            try:
                runtime.run_once()
            except RuntimeError:
                crashes += 1
                with services.state.transaction() as tx:  # what a restarted process would do
                    runtime.positions = tx.positions(runtime.name)
    finally:
        runtime.source.close()
    assert crashes == 3
    live = assert_equals_a_rebuild(services)
    assert {row["version"] for row in live.values()} == {5}


def test_a_relay_killed_mid_stream_loses_nothing(services, kafka_settings, tmp_path):
    expected = make_traffic(services.app, tickets=600, steps=4)
    bootstrap_servers, topic = kafka_settings["kafka_bootstrap"], kafka_settings["events_topic"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SERVICETRAIL_RELAY_BATCH_SIZE": "50",
           **{f"SERVICETRAIL_{k.upper()}": str(v) for k, v in kafka_settings.items()}}
    relay_command = [sys.executable, "-m", "api.cli", "relay"]
    published_at_kill: list[int] = []
    while len(published_at_kill) < 3:
        process = subprocess.Popen(relay_command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        before = len(read_topic(bootstrap_servers, topic))
        deadline = time.monotonic() + 60
        while len(read_topic(bootstrap_servers, topic)) <= before and time.monotonic() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)  # at whatever point it has reached
        process.wait()
        published_at_kill.append(len(read_topic(bootstrap_servers, topic)))
        if published_at_kill[-1] >= expected:
            break
    final = subprocess.Popen(relay_command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with services.state.transaction() as tx:
                if tx.positions("relay").get("log", 0) >= services.app.event_count():
                    break
            time.sleep(0.1)
    finally:
        final.send_signal(signal.SIGTERM)
        final.wait(timeout=30)

    records = read_topic(bootstrap_servers, topic)
    seen = [json.loads(r.value)["event_id"] for r in records]
    assert any(0 < n < expected for n in published_at_kill), f"killed mid-stream: {published_at_kill}"
    assert len(set(seen)) == expected, "every event reached the topic"
    per_ticket: dict[str, list[int]] = defaultdict(list)
    for record in records:
        event = json.loads(record.value)
        per_ticket[event["ticket_id"]].append(event["version"])
    for versions in per_ticket.values():
        first_seen = list(dict.fromkeys(versions))
        assert first_seen == sorted(first_seen), "per-ticket order holds (duplicates only repeat)"


def test_audit_verify_from_kafka_accepts_republished_duplicates(services):
    from api.kafka_audit import verify_topic

    make_traffic(services.app, tickets=10)
    first = services.relay()
    first.run_until_caught_up()
    first.producer.close()
    with services.state.transaction() as tx:
        tx.forget("relay")  # the next relay republishes everything: duplicates on the topic
    second = services.relay()
    second.run_until_caught_up()
    second.producer.close()
    report = verify_topic(services)
    assert report["intact"] and report["events"] == 100 and report["unique_events"] == 50


@pytest.mark.postgres
def test_two_projectors_of_one_group_on_postgresql_equal_a_single_process_rebuild(kafka_settings, postgres_url):
    """Scaled out: two members of one consumer group split the partitions and write the same
    PostgreSQL read side (current rows, versions, late-event tickets); the result equals a rebuild
    by one process from the store's log."""
    import threading

    from projections.ticket_state.store import read_history

    services = bootstrap(Settings(**{**kafka_settings, "state_store_url": postgres_url}), clock=FakeClock())
    try:
        make_traffic(services.app, tickets=40)
        relay = services.relay()
        relay.run_until_caught_up()
        relay.producer.close()
        members = [services.projector(TicketStateProjection(), source="kafka") for _ in range(2)]
        done = threading.Event()

        def follow(member) -> None:
            while not done.is_set():
                member.run_once()

        threads = [threading.Thread(target=follow, args=(member,)) for member in members]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        try:
            while True:
                with services.state.transaction() as tx:
                    applied = sum(tx.positions("ticket_state").values())
                    rows = len(read_all(tx))
                if rows == 40 and all(m.lag() == 0 for m in members) and applied:
                    break
                assert time.monotonic() < deadline, "the group did not catch up"
                time.sleep(0.2)
        finally:
            done.set()
            for thread in threads:
                thread.join(timeout=10)
            for member in members:
                member.source.close()
        with services.state.transaction() as tx:
            live, history = read_all(tx), read_history(tx)
            streams = set(tx.positions("ticket_state"))
        assert len(streams) == 3, "every partition was consumed"
        rebuilt = services.projector(TicketStateProjection(), source="embedded")
        rebuilt.reset()
        rebuilt.run_until_caught_up()
        with services.state.transaction() as tx:
            assert read_all(tx) == live and read_history(tx) == history
    finally:
        services.close()


def test_a_policy_version_reaches_every_partition_and_a_kafka_projector_judges_by_it(services, kafka_settings):
    """A policy version is sent to every partition (after every event recorded before it), so a
    projector reading any partition has it before the openings it governs: through Kafka, each
    ticket gets the version a rebuild from the store gives it."""
    from datetime import timedelta

    from api.policies import adopt_policy_text

    def open_p1(count: int) -> None:
        for i in range(count):
            services.app.open_ticket(c.OpenTicket(customer_id=f"c{i}", channel="chat", category="x", subject="s",
                                                  priority="P1"))

    open_p1(10)
    services.clock.advance(timedelta(minutes=1))
    version = adopt_policy_text(services, '[[sla]]\npriority = "P1"\nresolution_minutes = 120\n', actor="manager:mo")
    services.clock.advance(timedelta(minutes=1))
    open_p1(10)
    relay = services.relay()
    try:
        relay.run_until_caught_up()
    finally:
        relay.producer.close()
    records = read_topic(kafka_settings["kafka_bootstrap"], kafka_settings["events_topic"])
    adoptions = [r for r in records if dict(r.headers)["type"] == b"policy.adopted"]
    assert sorted(r.partition for r in adoptions) == list(range(kafka_settings["topic_partitions"]))
    assert {r.key.decode() for r in adoptions} == {json.loads(adoptions[0].value)["policy_id"]}

    via_kafka = services.projector(TicketStateProjection(), source="kafka")
    try:
        deadline = time.monotonic() + 30
        while via_kafka.lag() > 0 or not via_kafka.positions:
            via_kafka.run_once()
            assert time.monotonic() < deadline
    finally:
        via_kafka.source.close()
    live = assert_equals_a_rebuild(services)
    assert sorted(row["policy_version"] for row in live.values()) == [0] * 10 + [version.number] * 10

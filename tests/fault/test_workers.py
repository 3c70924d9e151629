"""Faults under ``servicetrail serve --workers 2`` (real processes): a worker or the consumers
process SIGKILLed under load is started again and nothing accepted is lost; PostgreSQL stopped
under load gives clean 503s, never half-writes, and every worker resumes without a restart."""

from __future__ import annotations

import os
import signal
import threading
import time
from uuid import UUID

import pytest

from api.bootstrap import bootstrap
from api.settings import Settings
from tests.support.workers import serve_workers


def _load(served, stop: threading.Event, accepted: list[str], statuses: list[int], name: str) -> None:
    """Opens tickets on fresh connections (so every worker, old and new, gets some) until stopped."""
    n = 0
    while not stop.is_set() and n < 2000:
        n += 1
        try:
            connection = served.connect()
            status, body = served.request(connection, "POST", "/v1/tickets",
                                          {"customer_id": f"c{n}", "channel": "web", "category": "x",
                                           "subject": "load"}, **{"Idempotency-Key": f"{name}-{n}"})
            connection.close()
        except OSError:  # the worker holding this connection was killed: the client retries elsewhere
            statuses.append(0)
            continue
        statuses.append(status)
        if status in (200, 201):
            accepted.append(body["ticket_id"])
        else:
            assert status == 503, (status, body)


def _listed(served, connection) -> set[str]:
    """Every ticket id the read side lists, page after page."""
    listed, cursor = set(), ""
    while True:
        status, body = served.request(connection, "GET", f"/v1/tickets?limit=500{cursor}")
        assert status == 200, body
        listed |= {row["ticket_id"] for row in body["tickets"]}
        if not body.get("next_cursor"):
            return listed
        cursor = f"&cursor={body['next_cursor']}"


def _stored_once(store_url: str, accepted: list[str]) -> None:
    services = bootstrap(Settings(store_url=store_url, secret_key="workers-test-secret"))
    try:
        for ticket_id in set(accepted):
            assert [e.version for e in services.app.ticket_events(UUID(ticket_id))] == [1]
    finally:
        services.close()


@pytest.mark.slow
@pytest.mark.parametrize("victim", ["api", "consumers"])
def test_a_killed_worker_process_is_replaced_and_nothing_accepted_is_lost(tmp_path, victim):
    store_url = f"sqlite:///{tmp_path / 'events.db'}"
    with serve_workers(tmp_path, store_url, workers=2) as served:
        accepted, statuses, stop = [], [], threading.Event()
        loader = threading.Thread(target=_load, args=(served, stop, accepted, statuses, victim))
        loader.start()
        time.sleep(1.5)
        before = served.children()
        killed = next(pid for pid, command in before.items()
                      if (pid in served.api_workers()) == (victim == "api"))
        os.kill(killed, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # a new process takes the killed one's place
            now = served.children()
            if killed not in now and len(now) == len(before) and len(served.api_workers()) == 2:
                break
            time.sleep(0.2)
        assert killed not in served.children() and len(served.api_workers()) == 2
        time.sleep(2.0)
        stop.set()
        loader.join(timeout=60)
        connection = served.connect()
        status, _ = served.request(connection, "POST", "/v1/tickets", {"customer_id": "after", "channel": "web",
                                                                       "category": "x", "subject": "after"})
        assert status == 201
        assert accepted and set(statuses) <= {0, 200, 201}
        # the read side (the consumers process, restarted or not) catches up with every accepted ticket
        deadline = time.monotonic() + 90
        while True:
            listed = _listed(served, connection)
            if set(accepted) <= listed or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert set(accepted) <= listed
    _stored_once(store_url, accepted)


@pytest.mark.slow
@pytest.mark.postgres
def test_workers_survive_a_postgres_restart_without_half_writes(tmp_path):
    from tests.support.postgres import start_cluster

    cluster = start_cluster()
    try:
        with serve_workers(tmp_path, cluster.url, workers=2) as served:
            accepted, statuses, stop = [], [], threading.Event()
            loader = threading.Thread(target=_load, args=(served, stop, accepted, statuses, "pg"))
            loader.start()
            time.sleep(1.0)
            cluster.run_pg_ctl("stop")
            time.sleep(12.0)
            cluster.run_pg_ctl("start")
            time.sleep(2.0)
            stop.set()
            loader.join(timeout=120)
            assert set(statuses) <= {200, 201, 503} and accepted
            for _ in range(8):  # every worker answers again without a restart (fresh connections spread)
                connection = served.connect()
                status, _ = served.request(connection, "POST", "/v1/tickets", {
                    "customer_id": "after", "channel": "web", "category": "x", "subject": "resumed"})
                connection.close()
                assert status == 201
        _stored_once(cluster.url, accepted)
    finally:
        cluster.stop()

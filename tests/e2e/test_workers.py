"""``servicetrail serve --workers N``: several API processes on one port and the consumers in their
own process, on the embedded SQLite store and on PostgreSQL (real processes, real sockets)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from api.keys import CACHE_SECONDS
from tests.support.workers import serve_workers

OPEN = {"customer_id": "cust-w", "channel": "web", "category": "billing", "subject": "two workers"}


def _connections_on_every_worker(served, wanted: int = 12, limit: int = 60):
    """Keep-alive connections, opened until every worker holds at least one of them."""
    connections, owners = [], {}
    workers = served.api_workers()
    while len(connections) < limit and (len(connections) < wanted or set(owners.values()) != workers):
        connection = served.connect()
        status, _ = served.request(connection, "GET", "/health")
        assert status == 200
        connections.append(connection)
        owners[connection] = served.worker_of(connection)
    assert set(owners.values()) == workers, f"connections reached {set(owners.values())} of {workers}"
    return connections, owners


@pytest.mark.slow
def test_several_workers_serve_commands_and_queries(store_url, tmp_path):
    with serve_workers(tmp_path, store_url, workers=2) as served:
        connections, owners = _connections_on_every_worker(served)
        opened = {}
        for n, connection in enumerate(connections):
            status, body = served.request(connection, "POST", "/v1/tickets", OPEN,
                                          **{"Idempotency-Key": f"w-{n}"})
            assert status == 201, body
            opened[body["ticket_id"]] = owners[connection]
            status, body = served.request(connection, "POST", f"/v1/tickets/{body['ticket_id']}/assignment",
                                          {"agent_id": "ana"})
            assert status == 200 and body["version"] == 2, body
        # every command is visible from every worker, whichever wrote it
        for connection in connections:
            for ticket_id in opened:
                status, body = served.request(connection, "GET", f"/v1/tickets/{ticket_id}")
                assert status == 200 and body["assignee_id"] == "ana" and body["version"] == 2
        # a replayed idempotency key answers the first outcome, on another worker too
        status, body = served.request(connections[-1], "POST", "/v1/tickets", OPEN, **{"Idempotency-Key": "w-0"})
        assert status == 200 and body["version"] == 1
        # the consumers process keeps the read side: the list query (read models) finds every ticket
        deadline = time.monotonic() + 60
        while True:
            status, body = served.request(connections[0], "GET", "/v1/tickets?limit=100")
            listed = {row["ticket_id"] for row in body["tickets"]} if status == 200 else set()
            if set(opened) <= listed or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert set(opened) <= listed
        assert len(set(opened.values())) == 2, "both workers wrote tickets"


@pytest.mark.slow
def test_a_revoked_key_is_refused_by_every_worker(tmp_path):
    with serve_workers(tmp_path, f"sqlite:///{tmp_path / 'events.db'}", workers=2) as served:
        admin = served.connect()
        status, issued = served.request(admin, "POST", "/v1/keys", {"role": "manager", "principal": "mia"})
        assert status == 201, issued
        connections, _ = _connections_on_every_worker(served)
        for connection in connections:  # every worker has the key in its cache now
            assert served.request(connection, "GET", "/v1/kpis", key=issued["key"])[0] == 200
        status, _ = served.request(admin, "DELETE", f"/v1/keys/{issued['key_id']}")
        assert status == 200
        deadline = time.monotonic() + CACHE_SECONDS + 5
        refused = set()
        while len(refused) < len(connections) and time.monotonic() < deadline:
            for connection in connections:
                if served.request(connection, "GET", "/v1/kpis", key=issued["key"])[0] == 401:
                    refused.add(connection)
            time.sleep(0.2)
        assert len(refused) == len(connections), "every worker refuses the revoked key"
        for connection in connections:  # and keeps refusing it
            assert served.request(connection, "GET", "/v1/kpis", key=issued["key"])[0] == 401
            assert served.request(connection, "GET", "/v1/kpis")[0] == 200


def test_an_in_memory_store_is_refused_with_workers(tmp_path):
    result = subprocess.run([sys.executable, "-m", "api.cli", "serve", "--workers", "2", "--store-url",
                             "sqlite:///:memory:"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "invalid setting flag --workers" in result.stderr and "in-memory SQLite" in result.stderr


@pytest.mark.slow
def test_a_keys_rate_limit_holds_in_total_across_workers(tmp_path):
    """Each worker keeps its share of the limit (10 per minute over 2 workers: 5 each), so however
    a client's connections are spread, the key gets at most its limit in total."""
    with serve_workers(tmp_path, f"sqlite:///{tmp_path / 'events.db'}", workers=2,
                       rate_limit_per_minute="10") as served:
        connections, owners = _connections_on_every_worker(served, wanted=4)
        answered = {}
        for _ in range(6):
            for connection in connections:
                status, _ = served.request(connection, "GET", "/v1/kpis")
                answered.setdefault(owners[connection], []).append(status)
        statuses = [status for per_worker in answered.values() for status in per_worker]
        assert set(statuses) == {200, 429}
        assert statuses.count(200) <= 10, "never more than the key's limit in total"
        assert all(per_worker.count(200) == 5 for per_worker in answered.values()), "each worker grants its share"

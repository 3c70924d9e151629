"""A store that cannot be reached is a 503 problem with Retry-After (the request did not happen and
may be retried), never a 500; a programming error stays a 500."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import OperationalError
from fastapi.testclient import TestClient

from api.http import create_app
from domain.access import Role


@pytest.mark.parametrize(("failure", "status"), [
    (OperationalError("server closed the connection unexpectedly"), 503),
    (RuntimeError("a bug"), 500),
])
def test_store_failures_are_503_with_retry_after(services, monkeypatch, failure, status):
    key, _ = services.keys.create(Role.ADMIN, "ops")

    def broken(*_args, **_kwargs):
        raise failure

    monkeypatch.setattr(services.app, "open_ticket", broken)
    with TestClient(create_app(services, run_consumers=False), raise_server_exceptions=False,
                    headers={"Authorization": f"Bearer {key}"}) as client:
        response = client.post("/v1/tickets", json={"customer_id": "c", "channel": "web", "category": "x",
                                                     "subject": "s"})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    if status == 503:
        assert response.headers["retry-after"] == "5" and response.json()["type"].endswith("store_unavailable")

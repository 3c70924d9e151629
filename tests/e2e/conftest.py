from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.http import create_app
from domain.access import Role


@pytest.fixture
def admin_key(services) -> str:
    text, _ = services.keys.create(Role.ADMIN, "admin")
    return text


@pytest.fixture
def client(services, admin_key) -> Iterator[TestClient]:
    """An HTTP client that presents an admin key (tests of access rules use their own keys). No
    background consumers: each test drives projector and watcher itself, deterministically; the
    real server process with its in-process consumers is tested in test_cli / test_sla_e2e."""
    with TestClient(create_app(services, run_consumers=False), raise_server_exceptions=False,
                    headers={"Authorization": f"Bearer {admin_key}"}) as test_client:
        yield test_client


@pytest.fixture
def scenario_store(tmp_path):
    """A SQLite store holding the hand-worked scenario, projected and witnessed by the checkpointer:
    (store URL, events file, tickets)."""
    from api.bootstrap import bootstrap, projection_handlers
    from api.settings import Settings
    from tests.scenarios import scenario

    url = f"sqlite:///{tmp_path / 'events.db'}"
    services = bootstrap(Settings(store_url=url))
    tickets = scenario()
    services.app.save(*tickets)
    for handler in projection_handlers():
        services.projector(handler, source="embedded").run_until_caught_up()
    services.checkpointer().run_until_caught_up()
    services.close()
    return url, tmp_path / "events.db", tickets

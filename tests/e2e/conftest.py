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
    """An HTTP client that presents an admin key (tests of access rules use their own keys)."""
    with TestClient(create_app(services), raise_server_exceptions=False,
                    headers={"Authorization": f"Bearer {admin_key}"}) as test_client:
        yield test_client

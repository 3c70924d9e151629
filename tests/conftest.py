"""Shared fixtures. Store-backed tests run once per store: SQLite and a real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from api.bootstrap import Services, bootstrap
from api.settings import Settings
from tests.fakes import FakeClock
from tests.support.postgres import PostgresCluster, start_cluster


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of a PostgreSQL server: ``SERVICETRAIL_TEST_POSTGRES_URL`` or a throwaway cluster."""
    given = os.environ.get("SERVICETRAIL_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    cluster: PostgresCluster = start_cluster()
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty schema per test: the same tables every time, no leftovers."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{postgres_server}?schema={schema}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def services(store_url: str, clock: FakeClock) -> Iterator[Services]:
    wired = bootstrap(Settings(store_url=store_url), clock=clock)
    yield wired
    wired.close()


@pytest.fixture
def app(services: Services):
    return services.app

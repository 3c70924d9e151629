"""Shared fixtures. Store-backed tests run once per store: SQLite and a real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterator

import psycopg
import pytest

from api.bootstrap import Services, bootstrap
from api.settings import Settings
from tests.fakes import FakeClock
from tests.support.postgres import PostgresCluster, start_cluster


# Public form of every ticket event saved during the session (checked against the published schema
# by tests/zz_contract). Bounded, so that large tests do not hold everything.
PRODUCED: list[dict] = []
PRODUCED_PER_TYPE = 2_000
PRODUCED_COUNTS: Counter[str] = Counter()


def pytest_configure(config):
    from domain.application import ServiceTrail
    from domain.events import TicketEvent

    original = ServiceTrail.save

    def recording_save(self, *objs, **kwargs):
        for obj in objs:
            for event in getattr(obj, "pending_events", None) or ([obj] if isinstance(obj, TicketEvent) else []):
                if isinstance(event, TicketEvent) and PRODUCED_COUNTS[event.TYPE] < PRODUCED_PER_TYPE:
                    PRODUCED_COUNTS[event.TYPE] += 1
                    PRODUCED.append(event.public_dict())
        return original(self, *objs, **kwargs)

    ServiceTrail.save = recording_save


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


@pytest.fixture(scope="session")
def kafka_cluster():
    """One real Kafka broker (KRaft) for the whole session; tests isolate by topic names."""
    from tests.support.kafka import new_cluster

    cluster = new_cluster(1)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def kafka_settings(kafka_cluster, tmp_path) -> dict[str, object]:
    """Settings for one test: its own topics on the shared broker, its own SQLite stores."""
    suffix = uuid.uuid4().hex[:8]
    return dict(
        store_url=f"sqlite:///{tmp_path / 'events.db'}",
        state_store_url=f"sqlite:///{tmp_path / 'state.db'}",
        kafka_bootstrap=kafka_cluster.bootstrap,
        events_topic=f"events-{suffix}", inbound_topic=f"inbound-{suffix}",
        inbound_dlq_topic=f"inbound-{suffix}.dlq", consumer_group_prefix=f"test-{suffix}",
        topic_partitions=3, poll_interval_ms=20,
    )


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
    wired = bootstrap(Settings(store_url=store_url, secret_key="test-server-secret"), clock=clock)
    yield wired
    wired.close()


@pytest.fixture
def app(services: Services):
    return services.app

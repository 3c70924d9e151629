"""The command path: events appended per second through the service layer (``ServiceTrail.handle``:
command validation, per-ticket lock, clock, idempotency, optimistic concurrency), beside a bare
``eventsourcing`` application that loads and saves the same ``Ticket`` aggregates with the same
methods and the same mapper, on SQLite and on PostgreSQL, in the same run.

Workload per ticket: open, assign, an agent's reply, resolve (four commands, four events, each
command one load and one save, as over HTTP). Single writer, so the figure is the cost of the path,
not of contention.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import ClassVar
from uuid import uuid4

from eventsourcing.application import Application
from eventsourcing.utils import get_topic

from benchmarks.common import Result
from domain import commands as c
from domain.serialization import PydanticMapper
from domain.ticket import Ticket
from domain.values import Author, Channel, Direction, Stamp


class BareApplication(Application):
    """Only what the library gives: repository and save."""

    name = "servicetrail"
    env: ClassVar[dict[str, str]] = {"MAPPER_TOPIC": get_topic(PydanticMapper)}


def _bare(app: Application, tickets: int) -> int:
    for _ in range(tickets):
        now = datetime.now(timezone.utc)
        ticket = Ticket.open(uuid4(), Stamp(now, now, "bench"), customer_id="c", channel=Channel.WEB,
                             category="billing", subject="s")
        app.save(ticket)
        ticket = app.repository.get(ticket.id)
        ticket.assign(Stamp(now, now, "bench"), agent_id="ana")
        app.save(ticket)
        ticket = app.repository.get(ticket.id)
        ticket.record_interaction(Stamp(now, now, "bench"), channel=Channel.WEB, direction=Direction.OUTBOUND,
                                  author=Author.AGENT, agent_id="ana", body="hello")
        app.save(ticket)
        ticket = app.repository.get(ticket.id)
        ticket.resolve(Stamp(now, now, "bench"), code="ok", summary="done")
        app.save(ticket)
    return tickets * 4


def _ours(app, tickets: int, keys: bool) -> int:
    def context(step: str, n: int) -> c.CommandContext:
        return c.CommandContext(actor="bench", idempotency_key=f"{uuid4()}:{step}" if keys else None)

    for n in range(tickets):
        opened = app.handle(c.OpenTicket(customer_id="c", channel="web", category="billing", subject="s"),
                            context("open", n))
        tid = opened.ticket_id
        app.handle(c.AssignTicket(ticket_id=tid, agent_id="ana"), context("assign", n))
        app.handle(c.RecordInteraction(ticket_id=tid, channel="web", direction="outbound", author="agent",
                                       agent_id="ana", body="hello"), context("reply", n))
        app.handle(c.ResolveTicket(ticket_id=tid, code="ok", summary="done"), context("resolve", n))
    return tickets * 4


def _rate(make: Callable[[], object], work: Callable[[object], int], repeats: int) -> float:
    rates = []
    for _ in range(repeats):
        app = make()
        started = time.perf_counter()
        done = work(app)
        rates.append(done / (time.perf_counter() - started))
        close = getattr(app, "close", None)
        if close:
            close()
    return statistics.median(rates)


def _measure(store: str, env_for: Callable[[], dict[str, str]], tickets: int, repeats: int) -> list[Result]:
    from api.bootstrap import bootstrap
    from api.settings import Settings

    def ours_app():
        env = env_for()
        url = env.pop("_url")
        return bootstrap(Settings(store_url=url, secret_key="bench")).app

    def bare_app():
        env = env_for()
        env.pop("_url")
        return BareApplication(env)

    bare = _rate(bare_app, lambda app: _bare(app, tickets), repeats)
    plain = _rate(ours_app, lambda app: _ours(app, tickets, keys=False), repeats)
    keyed = _rate(ours_app, lambda app: _ours(app, tickets, keys=True), repeats)
    print(f"   {store}: bare eventsourcing {bare:,.0f} events/s; service layer {plain:,.0f} events/s, "
          f"with idempotency keys {keyed:,.0f} events/s (each keyed command also saves its outcome record)")
    return [
        Result(f"command path, {store}: events/s through the service layer", plain, bare, "events/s",
               "≥ 0.60 of bare eventsourcing", plain >= 0.6 * bare),
        Result(f"command path, {store}: … with idempotency keys", keyed, bare, "events/s", "reported", None),
    ]


def run(events: int | None = None, repeats: int = 3) -> list[Result]:
    tickets = 250 if events is not None else 1000
    results = []
    with tempfile.TemporaryDirectory(prefix="servicetrail-commands-") as folder:
        counter = iter(range(1_000_000))

        def sqlite_env() -> dict[str, str]:
            path = Path(folder) / f"run{next(counter)}.db"
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path),
                    "SQLITE_LOCK_TIMEOUT": "30", "_url": f"sqlite:///{path}"}

        results += _measure("SQLite", sqlite_env, tickets, repeats)
    try:
        from tests.support.postgres import start_cluster
    except ImportError:  # pragma: no cover - the test helpers ship with the repository
        return results
    cluster = start_cluster()
    try:
        import psycopg

        def postgres_env() -> dict[str, str]:
            schema = f"bench{next(counter)}"
            with psycopg.connect(cluster.url, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            url = f"{cluster.url}?schema={schema}"
            from api.settings import Settings

            return {**Settings(store_url=url, secret_key="bench").eventsourcing_env(), "_url": url}

        results += _measure("PostgreSQL", postgres_env, tickets, repeats)
    finally:
        cluster.stop()
    return results

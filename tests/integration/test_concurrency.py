"""Many writers on one ticket: every accepted write is in the log, in order, none lost."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from domain import commands as c
from domain.application import ServiceTrail
from domain.errors import VersionConflictError

WRITERS = 8
WRITES_EACH = 10


def test_concurrent_writers_lose_no_update(app: ServiceTrail):
    ticket_id = app.open_ticket(
        c.OpenTicket(customer_id="c", channel="chat", category="x", subject="busy")
    ).ticket_id

    def writer(n: int) -> list[int]:
        versions = []
        for i in range(WRITES_EACH):
            outcome = app.record_interaction(c.RecordInteraction(
                ticket_id=ticket_id, channel="chat", direction="inbound", author="customer",
                body=f"writer {n} message {i}",
            ))
            versions.append(outcome.version)
        return versions

    with ThreadPoolExecutor(WRITERS) as pool:
        accepted = list(pool.map(writer, range(WRITERS)))

    events = app.ticket_events(ticket_id)
    assert len(events) == 1 + WRITERS * WRITES_EACH
    assert [e.version for e in events] == list(range(1, len(events) + 1))
    every_version = sorted(v for versions in accepted for v in versions)
    assert every_version == list(range(2, len(events) + 1)), "each accepted write has its own version"
    for n, versions in enumerate(accepted):
        assert versions == sorted(versions)
        bodies = [e.body for e in events[1:] if e.body.startswith(f"writer {n} ")]
        assert bodies == [f"writer {n} message {i}" for i in range(WRITES_EACH)], "per-writer order kept"
    for previous, event in zip(events, events[1:]):
        assert event.prev_hash == previous.hash


def test_writers_pinning_the_same_version_have_exactly_one_winner(app: ServiceTrail):
    ticket_id = app.open_ticket(
        c.OpenTicket(customer_id="c", channel="chat", category="x", subject="race")
    ).ticket_id

    def writer(n: int) -> str:
        try:
            app.assign_ticket(c.AssignTicket(ticket_id=ticket_id, agent_id=f"agent-{n}"),
                              c.CommandContext(expected_version=1))
            return "won"
        except VersionConflictError:
            return "conflict"

    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(writer, range(WRITERS)))

    assert results.count("won") == 1
    assert results.count("conflict") == WRITERS - 1
    assert app.get_ticket(ticket_id).version == 2


def test_writers_in_separate_application_instances_lose_no_update(services, store_url, clock):
    """Two instances on one store behave like two processes: only the store's constraint
    arbitrates between them, and the losing save is retried on fresh state."""
    from api.bootstrap import bootstrap
    from api.settings import Settings

    other_services = bootstrap(Settings(store_url=store_url, secret_key="test-server-secret"), clock=clock)
    other = other_services.app
    try:
        first = services.app
        ticket_id = first.open_ticket(
            c.OpenTicket(customer_id="c", channel="chat", category="x", subject="two nodes")
        ).ticket_id

        def writer(n: int) -> None:
            app = (first, other)[n % 2]
            for i in range(WRITES_EACH):
                app.record_interaction(c.RecordInteraction(
                    ticket_id=ticket_id, channel="chat", direction="inbound", author="customer",
                    body=f"writer {n} message {i}"))

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(writer, range(4)))
        events = first.ticket_events(ticket_id)
        assert [e.version for e in events] == list(range(1, 2 + 4 * WRITES_EACH))
    finally:
        other_services.close()


def test_two_processes_of_concurrent_writers_lose_no_update(store_url, clock):
    """Two applications on one store (as two API workers are), each with 8 threads writing the same
    tickets: concurrent saves of one process share a transaction (``domain.group_commit``), and a
    group that meets the other process's write falls back to one save per command, so every
    accepted write is in the log once, with its own version, and nothing is lost."""
    from api.bootstrap import bootstrap
    from api.settings import Settings

    workers = [bootstrap(Settings(store_url=store_url, secret_key="s"), clock=clock) for _ in range(2)]
    try:
        tickets = [workers[0].app.open_ticket(
            c.OpenTicket(customer_id=f"c{n}", channel="chat", category="x", subject="shared")).ticket_id
            for n in range(4)]

        def writer(job: tuple[int, int]) -> list[tuple[str, int]]:
            process, thread = job
            accepted = []
            for i in range(WRITES_EACH):
                ticket_id = tickets[(thread + i) % len(tickets)]
                outcome = workers[process].app.record_interaction(c.RecordInteraction(
                    ticket_id=ticket_id, channel="chat", direction="inbound", author="customer",
                    body=f"{process}-{thread}-{i}"))
                accepted.append((str(ticket_id), outcome.version))
            return accepted

        with ThreadPoolExecutor(16) as pool:
            accepted = [a for batch in pool.map(writer, [(p, t) for p in range(2) for t in range(8)]) for a in batch]
        assert len(accepted) == 2 * 8 * WRITES_EACH and len(set(accepted)) == len(accepted)
        bodies = []
        for ticket_id in tickets:
            events = workers[1].app.ticket_events(ticket_id)
            assert [e.version for e in events] == list(range(1, len(events) + 1))
            bodies += [e.body for e in events[1:]]
        assert sorted(bodies) == sorted(f"{p}-{t}-{i}" for p in range(2) for t in range(8) for i in range(WRITES_EACH))
    finally:
        for services in workers:
            services.close()

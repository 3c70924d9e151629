"""Every query of the read side, at any moment, equals the definition (hypothesis).

The definition is ``time_travel.replay``: fold the events that occurred by ``as_of`` and were
recorded by ``known_at`` into a fresh store, and ask it the live question. The read side answers
the same questions from its versioned, indexed rows without any replay. Logs here carry what
makes that hard: late events (occurred before events recorded earlier), back-dated openings,
reopens, transfers, escalations; moments anywhere on both axes.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from uuid import UUID

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consumers.runtime import ConsumerRuntime
from consumers.sources import EmbeddedLogSource
from domain.application import ServiceTrail
from domain.service_levels import ServicePolicy
from projections import agent_performance, measures, queries
from projections.moment import Moment, period_bounds
from projections.read_side import ReadView
from projections.store import StateStore
from projections.ticket_state.facts import SlaFacts
from projections.ticket_state.fold import TicketRow
from projections.ticket_state.store import TicketStateProjection, read_all
from projections.time_travel import replay
from tests.fakes import FakeClock
from tests.figures import assert_same_board, assert_same_figures
from domain.sla_policies import PolicyBook, PolicyVersion
from projections.ticket_state.store import read_policy_book
from tests.property.logs import T0, build_events, logs, logs_with_policies

POLICY = ServicePolicy()
NOW = T0 + timedelta(days=4)
WEIGHTS = agent_performance.DEFAULT_WEIGHTS

def moments(events, rng: random.Random) -> list[Moment]:
    """Moments on both axes: unbounded, at an event's instant, just before it, or between."""
    def instant(kind: str):
        choice = rng.random()
        if choice < 0.2:
            return None
        event = rng.choice(events)
        base = event.occurred_at if kind == "occurred" else event.recorded_at
        return base + timedelta(microseconds=rng.choice([-1, 0, 0, 1])) + timedelta(minutes=rng.choice([0, 0, 37]))
    found = [Moment(instant("occurred"), instant("recorded")) for _ in range(4)]
    return [m for m in found if not m.is_live] or [Moment(T0 + timedelta(days=1), None)]


def project(app: ServiceTrail, url: str) -> StateStore:
    store = StateStore(url)
    ConsumerRuntime(TicketStateProjection(policy=POLICY), EmbeddedLogSource(app.recorder, app.mapper),
                    store).run_until_caught_up()
    return store


def oracle_rows(events, as_of, known_at) -> list[TicketRow]:
    with replay(events, as_of, known_at, policy=POLICY).transaction() as tx:
        return sorted((TicketRow.from_dict(doc) for doc in read_all(tx).values()), key=lambda r: r.ticket_id)


def book_of(events) -> PolicyBook:
    """The policy versions of the log (the definition's judge: each ticket by its own version)."""
    return PolicyBook(POLICY, [PolicyVersion.from_event(e.public_dict()) for e in events
                               if e.TYPE == "policy.adopted"])


def oracle_answers(events, moment: Moment, start: datetime, end: datetime, group_by: str | None) -> dict:
    """Every question answered from the definition alone (no read-side code but the measures)."""
    rows = oracle_rows(events, moment.as_of, moment.known_at)
    backlog_at = end if moment.as_of is None or end < moment.as_of else moment.as_of
    backlog = [r for r in oracle_rows(events, backlog_at, moment.known_at) if r.is_open]
    newest = sorted(rows, key=lambda r: (r.opened_at, r.ticket_id), reverse=True)
    return {
        "kpis": measures.grouped_kpis(rows, start, end, group_by, backlog, SlaFacts(book_of(events)),
                                      moment.instant(NOW)),
        "leaderboard": agent_performance.leaderboard(rows, T0.replace(day=1), T0.replace(month=4, day=1), WEIGHTS),
        "leaderboard of a week": agent_performance.leaderboard(rows, *period_bounds("2026-W10"), WEIGHTS),
        "tickets": [r.as_dict() for r in newest],
        "open": [r.as_dict() for r in newest if r.is_open],
        "of_ana": [r.as_dict() for r in newest if r.assignee_id == "ana"],
        "customers": {c: sorted((r.ticket_id for r in rows if r.customer_id == c)) for c in ("c0", "c1", "c2")},
    }


def read_side_answers(view: ReadView, start: datetime, end: datetime, group_by: str | None) -> dict:
    def every_page(**filters) -> list:
        tickets, cursor = [], None
        while True:
            page = queries.list_tickets(view, limit=3, cursor=cursor, **filters)
            tickets += page["tickets"]
            if (cursor := page["next_cursor"]) is None:
                return tickets
    customers = {}
    for customer in ("c0", "c1", "c2"):
        report = queries.customer_report(view, customer)
        customers[customer] = sorted(t["ticket_id"] for t in report["tickets"]) if report else []
    return {
        "kpis": queries.kpi_report(view, start, end, group_by, NOW)["groups"],
        "leaderboard": queries.leaderboard(view, "2026-03", WEIGHTS)["agents"],
        "leaderboard of a week": queries.leaderboard(view, "2026-W10", WEIGHTS)["agents"],
        "tickets": every_page(),
        "open": every_page(status="open"),
        "of_ana": every_page(agent_id="ana"),
        "customers": customers,
    }


def check_every_query_at_random_moments(url: str, log, query_seed: int) -> None:
    events = build_events(*log)
    app = ServiceTrail({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=FakeClock())
    app.save(*events)
    store = project(app, url)
    rng = random.Random(query_seed)
    try:
        for moment in [*moments(events, rng), Moment()]:  # and now, live
            start = T0 + timedelta(minutes=rng.randrange(-600, 4000))
            end = start + timedelta(minutes=rng.choice([60, 600, 3000, 20000]))
            shape = rng.random()
            if shape < 0.3:  # whole days: the roll-ups' day cells answer them
                start = start.replace(hour=0, minute=0, second=0, microsecond=0)
                end = start + timedelta(days=rng.choice([1, 2, 5]))
            elif shape < 0.45:  # the whole month: its month cell (or its days) answers it
                start = T0.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
                end = start.replace(month=4)
            group_by = rng.choice([None, "channel", "priority", "team"])
            expected = oracle_answers(events, moment, start, end, group_by)
            with store.read() as tx:
                view = ReadView(tx, moment, lambda ticket: app.ticket_events(UUID(ticket)),
                                SlaFacts(read_policy_book(tx, POLICY)))
                answered = read_side_answers(view, start, end, group_by)
            for question in expected:
                if question.startswith("leaderboard"):
                    assert_same_board(answered[question], expected[question])
                else:
                    assert_same_figures(answered[question], expected[question], question)
    finally:
        store.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log=st.one_of(logs, logs_with_policies), query_seed=st.integers(0, 10_000))
def test_every_query_at_any_moment_equals_a_replay_on_sqlite(log, query_seed):
    check_every_query_at_random_moments("sqlite:///:memory:", log, query_seed)


@pytest.mark.postgres
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(log=st.one_of(logs, logs_with_policies), query_seed=st.integers(0, 10_000))
def test_every_query_at_any_moment_equals_a_replay_on_postgresql(postgres_server, log, query_seed):
    schema = f"r_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        check_every_query_at_random_moments(f"{postgres_server}?schema={schema}", log, query_seed)
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

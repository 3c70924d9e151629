"""Replay invariants of the read models (hypothesis):
- rebuild == incremental, whatever the chunking of the log and wherever the consumer crashed;
- known_at T == the live state a caught-up projector showed at T;
- as_of T == a rebuild from only the events that occurred by T, in any recording order.
The logs carry late events (``tests.property.logs``)."""

from __future__ import annotations

import random
import uuid
from types import SimpleNamespace
from datetime import timedelta

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consumers.runtime import ConsumerRuntime
from consumers.sources import EmbeddedLogSource
from domain.application import ServiceTrail
from projections.store import StateStore
from projections.ticket_state.store import FACT_ROW_COLUMNS, TicketStateProjection, read_all, read_history
from projections.time_travel import replay
from tests.fakes import FakeClock
from projections.fact_totals import TOTALS
from projections.local_periods import Calendar
from projections.ticket_state.fact_rows import COLUMNS as FACT_COLUMNS
from projections.ticket_state.fact_rows import Fact
from projections.ticket_state.rollups import RollupChanges, decode_bins
from tests.property.logs import T0, build_events, logs, logs_with_policies

def new_app() -> ServiceTrail:
    return ServiceTrail({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=FakeClock())


def projected(app: ServiceTrail, runtime: ConsumerRuntime) -> dict:
    runtime.run_until_caught_up()
    with runtime.store.transaction() as tx:
        return read_all(tx)


def history(runtime: ConsumerRuntime) -> dict:
    """Every stored version, with its validity on both axes, and the tickets with late events."""
    with runtime.store.transaction() as tx:
        return {"versions": read_history(tx),
                "anomalies": sorted(tx.fetchall("SELECT ticket_id, kind, recorded_at FROM ticket_anomalies")),
                "facts": sorted(map(tuple, tx.fetchall(f"SELECT {', '.join(FACT_ROW_COLUMNS)} FROM ticket_facts")),
                                key=repr),
                "policies": sorted(tx.fetchall("SELECT number, doc FROM sla_policies")),
                "rollups": stored_rollups(tx)}


def stored_rollups(tx) -> dict:
    """The roll-up cells and sketch bins that count something, and the periods' change stamps."""
    totals = " OR ".join(f"{column} <> 0" for column in TOTALS)
    return {"cells": sorted(tx.fetchall(f"SELECT * FROM ticket_rollups WHERE {totals}")),
            "bins": sorted((*key, sorted(decode_bins(text).items()))
                           for *key, text in tx.fetchall("SELECT * FROM ticket_rollup_bins")
                           if any(decode_bins(text).values())),
            "periods": sorted(tx.fetchall("SELECT * FROM ticket_rollup_periods")),
            "backlog": sorted(row for row in tx.fetchall("SELECT * FROM ticket_rollup_backlog") if row[4]),
            "lead": tx.fetchall("SELECT lead_us FROM ticket_clock_lead")}


def recounted_rollups(tx) -> dict:
    """The roll-ups recounted from the facts holding now (what every cell must sum)."""
    changes = RollupChanges(Calendar())
    for row in tx.fetchall(f"SELECT {', '.join(FACT_COLUMNS)} FROM ticket_facts WHERE to_recorded IS NULL AND kind <> 'open'"):
        changes.add(Fact(*row), 1, "", "")
    for row in tx.fetchall(f"SELECT from_occurred, from_recorded, to_occurred, to_recorded, {', '.join(FACT_COLUMNS)} "
                           "FROM ticket_facts WHERE kind = 'open'"):
        changes.add(Fact(*row[4:]), 1, row[0], row[1])
        if row[3] is not None:
            changes.add(Fact(*row[4:]), -1, row[2], row[3])
    return {"cells": sorted((*key, *values) for key, values in changes.cells.items() if any(values)),
            "bins": sorted((*key, sorted((b, n) for b, n in bins.items() if n))
                           for key, bins in changes.bins.items() if any(bins.values())),
            "backlog": sorted((*key, net) for key, net in changes.backlog.items() if net)}


def fresh_runtime(app: ServiceTrail, batch_size: int = 1000, handler=None) -> ConsumerRuntime:
    runtime = ConsumerRuntime(handler or TicketStateProjection(), EmbeddedLogSource(app.recorder, app.mapper),
                              StateStore("sqlite:///:memory:"))
    runtime.batch_size = batch_size
    return runtime


def rebuilt(events, *, with_history: bool = False):
    app = new_app()
    if events:
        app.save(*events)
    runtime = fresh_runtime(app)
    state = projected(app, runtime)
    return (state, history(runtime)) if with_history else state


def catch_up_through_crashes(runtime: ConsumerRuntime) -> None:
    """Runs until caught up; after each crash, resumes from the stored tracking (a restarted process)."""
    while True:
        try:
            runtime.run_until_caught_up()
            return
        except RuntimeError:
            with runtime.store.transaction() as tx:
                runtime.positions = tx.positions(runtime.name)


class Crashing(TicketStateProjection):
    def __init__(self, crashes: set[int]):
        super().__init__()
        self.crashes, self.calls = crashes, 0

    def handle(self, tx, events):
        super().handle(tx, events)
        self.calls += 1
        if self.calls in self.crashes:
            raise RuntimeError("crash before commit")


common = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@common
@given(log=st.one_of(logs, logs_with_policies), chunks=st.lists(st.integers(1, 7), min_size=1, max_size=20),
       crashes=st.sets(st.integers(1, 30), max_size=5), batch=st.integers(1, 9))
def test_incremental_with_any_chunking_and_crashes_equals_a_rebuild(log, chunks, crashes, batch):
    """Also with policy versions in the log: each ticket keeps the version it was opened under."""
    events = build_events(*log)
    app = new_app()
    runtime = fresh_runtime(app, batch, Crashing(crashes))
    position, sizes = 0, iter(chunks * 50)
    while position < len(events):  # the log grows in chunks while the projector runs
        size = next(sizes)
        app.save(*events[position:position + size])
        position += size
        for _ in range(200):
            try:
                if runtime.run_once() == 0:
                    break
            except RuntimeError:
                with runtime.store.transaction() as tx:  # a restarted process resumes from its tracking
                    runtime.positions = tx.positions(runtime.name)
    catch_up_through_crashes(runtime)
    with runtime.store.transaction() as tx:
        live = read_all(tx)
    assert (live, history(runtime)) == rebuilt(events, with_history=True)
    with runtime.store.transaction() as tx:
        stored = stored_rollups(tx)
        assert {key: stored[key] for key in ("cells", "bins", "backlog")} == recounted_rollups(tx)


@common
@given(log=st.one_of(logs, logs_with_policies), picks=st.lists(st.integers(0, 10_000), min_size=1, max_size=4))
def test_known_at_equals_what_the_live_projection_showed_then(log, picks):
    events = build_events(*log)
    app = new_app()
    runtime = fresh_runtime(app)
    captured = {}
    cut_points = sorted({pick % len(events) for pick in picks})
    saved = 0
    for cut in cut_points:
        app.save(*events[saved:cut + 1])
        saved = cut + 1
        moment = events[cut].recorded_at
        if cut + 1 < len(events) and events[cut + 1].recorded_at == moment:
            continue  # not a moment the log can be cut at
        captured[moment] = projected(app, runtime)
    if saved < len(events):
        app.save(*events[saved:])
    for moment, live in captured.items():
        with replay(events, known_at=moment).transaction() as tx:
            assert read_all(tx) == live


@common
@given(log=logs, offset_minutes=st.integers(0, 8000), order_seed=st.integers(0, 1000))
def test_as_of_equals_a_rebuild_from_the_events_that_occurred_by_then(log, offset_minutes, order_seed):
    events = build_events(*log)
    moment = T0 + timedelta(minutes=offset_minutes)
    opened = {e.ticket_id for e in events if e.version == 1 and e.occurred_at <= moment}
    occurred = [e for e in events if e.occurred_at <= moment and e.ticket_id in opened]
    # Recorded in another order: tickets interleaved differently (each ticket's own order kept).
    rng = random.Random(order_seed)
    queues: dict = {}
    for event in occurred:
        queues.setdefault(event.ticket_id, []).append(event)
    shuffled = []
    while queues:
        ticket = rng.choice(sorted(queues))
        shuffled.append(queues[ticket].pop(0))
        if not queues[ticket]:
            del queues[ticket]
    with replay(events, as_of=moment).transaction() as tx:
        assert read_all(tx) == rebuilt(shuffled)


@pytest.mark.postgres
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(log=logs, batch=st.integers(1, 9), crashes=st.sets(st.integers(1, 20), max_size=4))
def test_incremental_equals_a_rebuild_on_postgresql(postgres_server, log, batch, crashes):
    events = build_events(*log)
    app = new_app()
    app.save(*events)
    stores = []
    try:
        for _ in range(2):
            schema = f"p_{uuid.uuid4().hex[:10]}"
            with psycopg.connect(postgres_server, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            stores.append(StateStore(f"{postgres_server}?schema={schema}"))
        incremental = ConsumerRuntime(Crashing(crashes), EmbeddedLogSource(app.recorder, app.mapper), stores[0])
        incremental.batch_size = batch
        while True:
            try:
                incremental.run_until_caught_up()
                break
            except RuntimeError:
                with stores[0].transaction() as tx:
                    incremental.positions = tx.positions(incremental.name)
        rebuild = ConsumerRuntime(TicketStateProjection(), EmbeddedLogSource(app.recorder, app.mapper), stores[1])
        rebuild.run_until_caught_up()
        with stores[0].transaction() as a, stores[1].transaction() as b:
            assert read_all(a) == read_all(b)
    finally:
        for store in stores:
            store.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log=st.one_of(logs, logs_with_policies), batch=st.integers(1, 9), crashes=st.sets(st.integers(1, 30), max_size=4))
def test_one_pass_rebuild_of_every_projection_equals_the_incremental_projectors(log, batch, crashes):
    """``rebuild_all`` (one consumer feeding every projection's copy, then one swap) writes the
    tables the incremental projectors wrote, tracking included; stale state is replaced."""
    from consumers.rebuild import rebuild_all
    from projections.arrivals import ArrivalsProjection

    events = build_events(*log)
    app = new_app()
    app.save(*events)
    incremental = [fresh_runtime(app, batch, Crashing(crashes)), fresh_runtime(app, batch, ArrivalsProjection())]
    for runtime in incremental:
        catch_up_through_crashes(runtime)
    store = StateStore("sqlite:///:memory:")
    with store.transaction() as tx:  # a projection that holds something else, and old tracking
        TicketStateProjection().setup(tx)
        ArrivalsProjection().setup(tx)
        tx.execute("INSERT INTO ticket_state (ticket_id, version, status, customer_id, opened_at, activity_at, "
                   "breached, doc) VALUES ('stale', 1, 'opened', 'c', 'x', 'x', 0, '[]')")
        tx.advance("ticket_state", {"log": 1})
    total = rebuild_all([TicketStateProjection(), ArrivalsProjection()],
                        lambda handler: ConsumerRuntime(handler, EmbeddedLogSource(app.recorder, app.mapper), store))
    assert total == len(events)
    with store.transaction() as tx:
        rebuilt_state = (read_all(tx), tx.positions("ticket_state"), tx.positions("arrivals"),
                         sorted(tx.fetchall("SELECT * FROM arrivals")))
        leftovers = tx.fetchall("SELECT consumer FROM tracking WHERE consumer LIKE '%rebuild%'")
    with incremental[0].store.transaction() as a, incremental[1].store.transaction() as b:
        expected = (read_all(a), a.positions("ticket_state"), b.positions("arrivals"),
                    sorted(b.fetchall("SELECT * FROM arrivals")))
    assert rebuilt_state == expected and leftovers == []
    assert history(SimpleNamespace(store=store)) == history(incremental[0])

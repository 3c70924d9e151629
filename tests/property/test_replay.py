"""Replay determinism: whatever valid commands a ticket went through, the state rebuilt from its
stored events equals the live aggregate, and the stored chain verifies."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.application import ServiceTrail
from domain.errors import DomainError
from domain.hashing import GENESIS_HASH, chain_hash
from domain.ticket import Ticket
from domain.values import Author, Channel, Direction, Priority, Remedy, Severity, Stamp
from tests.fakes import FakeClock

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)
agents = st.sampled_from(["ana", "bo", "chen", "dee"])
texts = st.text(min_size=1, max_size=20)

operations = st.one_of(
    st.tuples(st.just("triage"), st.fixed_dictionaries({
        "priority": st.none() | st.sampled_from(Priority),
        "severity": st.none() | st.sampled_from(Severity),
        "category": st.none() | texts})),
    st.tuples(st.just("assign"), st.fixed_dictionaries({"agent_id": agents, "team": st.none() | texts})),
    st.tuples(st.just("transfer"), st.fixed_dictionaries({"department": st.sampled_from(["billing", "tech", "logistics"])})),
    st.tuples(st.just("record_interaction"), st.sampled_from([
        {"direction": Direction.INBOUND, "author": Author.CUSTOMER},
        {"direction": Direction.OUTBOUND, "author": Author.AGENT, "agent_id": "ana"},
        {"direction": Direction.OUTBOUND, "author": Author.BOT},
    ]).map(lambda kw: {**kw, "channel": Channel.CHAT, "body": "hi"})),
    st.tuples(st.just("wait_on_customer"), st.just({})),
    st.tuples(st.just("resume"), st.just({})),
    st.tuples(st.just("escalate"), st.fixed_dictionaries({"reason": texts, "level": st.none() | st.integers(1, 3)})),
    st.tuples(st.just("resolve"), st.fixed_dictionaries({
        "code": st.just("fixed"), "summary": texts,
        "remedy": st.none() | st.sampled_from(Remedy), "root_cause": st.none() | texts})),
    st.tuples(st.just("reopen"), st.just({})),
    st.tuples(st.just("close"), st.just({})),
    st.tuples(st.just("survey"), st.fixed_dictionaries({
        "csat": st.integers(1, 5), "nps": st.none() | st.integers(0, 10)})),
)
histories = st.lists(st.tuples(operations, st.integers(0, 4 * 24 * 60)), max_size=40)


def state_of(ticket: Ticket) -> dict:
    return {k: v for k, v in vars(ticket).items() if k != "_pending_events"}


def run_history(app: ServiceTrail, history) -> Ticket:
    moment = T0
    ticket = Ticket.open(uuid4(), Stamp(moment, moment, "prop"), customer_id="c",
                         channel=Channel.WEB, category="x", subject="s")
    app.save(ticket)
    for (name, kwargs), minutes in history:
        moment += timedelta(minutes=minutes)
        try:
            getattr(ticket, name)(Stamp(moment, moment + timedelta(seconds=1), "prop"), **kwargs)
        except DomainError:
            continue  # refused: nothing pending, nothing saved
        app.save(ticket)
    return ticket


@pytest.fixture(params=["popo", "sqlite"])
def store_env(request, tmp_path_factory) -> dict[str, str]:
    if request.param == "popo":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    path = tmp_path_factory.mktemp("replay") / "store.db"
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories)
def test_replaying_stored_events_rebuilds_the_live_state(store_env, history):
    app = ServiceTrail(store_env, clock=FakeClock())
    try:
        live = run_history(app, history)
        replayed = app.repository.get(live.id)
        assert state_of(replayed) == state_of(live)

        events = app.ticket_events(live.id)
        assert len(events) == live.version
        previous = GENESIS_HASH
        for event in events:
            assert event.prev_hash == previous
            assert chain_hash(event.public_dict()) == event.hash
            previous = event.hash
    finally:
        app.close()


@settings(max_examples=100, deadline=None)
@given(history=histories)
def test_replay_from_public_json_rebuilds_the_same_state(history):
    """A downstream system that folds the public JSON gets the same aggregate."""
    from domain.ticket import EVENT_CLASS_BY_TYPE

    app = ServiceTrail({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=FakeClock())
    live = run_history(app, history)
    rebuilt = None
    for event in app.ticket_events(live.id):
        public = event.public_dict()
        rebuilt = EVENT_CLASS_BY_TYPE[public["type"]].model_validate(public).mutate(rebuilt)
    assert state_of(rebuilt) == state_of(live)

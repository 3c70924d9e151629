"""Use cases against a real store (SQLite file and PostgreSQL): round trip, idempotency,
optimistic concurrency, time rules, and "a refused command writes nothing"."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from domain import commands as c
from domain.application import ServiceTrail
from domain.errors import (
    IdempotencyKeyReusedError,
    OccurredInFutureError,
    TicketNotFoundError,
    TransitionNotAllowedError,
    VersionConflictError,
)
from domain.hashing import GENESIS_HASH, chain_hash
from domain.values import Status


def open_ticket(app: ServiceTrail, **overrides) -> c.Outcome:
    fields = dict(customer_id="cust-1", channel="email", category="billing", subject="Charged twice")
    fields.update(overrides)
    return app.open_ticket(c.OpenTicket(**fields))


def test_a_ticket_survives_the_store_round_trip_with_its_hash_chain(app: ServiceTrail):
    ticket_id = open_ticket(app, severity="major").ticket_id
    for command in (
        c.TriageTicket(ticket_id=ticket_id, priority="P1"),
        c.AssignTicket(ticket_id=ticket_id, agent_id="ana", team="billing"),
        c.RecordInteraction(ticket_id=ticket_id, channel="phone", direction="outbound",
                            author="agent", agent_id="ana", duration_seconds=312.5),
        c.ResolveTicket(ticket_id=ticket_id, code="refund", summary="Refunded",
                        remedy="compensation", root_cause="double charge"),
        c.RecordSurvey(ticket_id=ticket_id, csat=5, nps=10),
    ):
        app.handle(command)

    ticket = app.get_ticket(ticket_id)
    events = app.ticket_events(ticket_id)
    assert ticket.status == Status.RESOLVED and ticket.version == 6 == len(events)
    assert [e.version for e in events] == [1, 2, 3, 4, 5, 6]
    previous = GENESIS_HASH
    for event in events:
        assert event.prev_hash == previous
        assert chain_hash(event.public_dict()) == event.hash
        previous = event.hash
    assert ticket.last_hash == events[-1].hash


def test_an_earlier_version_of_a_ticket_can_be_read(app: ServiceTrail):
    ticket_id = open_ticket(app).ticket_id
    app.assign_ticket(c.AssignTicket(ticket_id=ticket_id, agent_id="ana"))
    assert app.get_ticket(ticket_id, version=1).status == Status.OPENED


def test_same_idempotency_key_and_body_returns_the_first_result_and_writes_nothing(app: ServiceTrail):
    context = c.CommandContext(idempotency_key="open-42")
    command = c.OpenTicket(customer_id="cust-1", channel="chat", category="x", subject="y")
    first = app.open_ticket(command, context)
    written = app.event_count()
    again = app.open_ticket(command, context)
    assert (again.ticket_id, again.version) == (first.ticket_id, first.version)
    assert again.replayed and not first.replayed
    assert app.event_count() == written


def test_same_idempotency_key_with_another_body_is_refused_and_writes_nothing(app: ServiceTrail):
    ticket_id = open_ticket(app).ticket_id
    context = c.CommandContext(idempotency_key="assign-1")
    app.assign_ticket(c.AssignTicket(ticket_id=ticket_id, agent_id="ana"), context)
    written = app.event_count()
    with pytest.raises(IdempotencyKeyReusedError):
        app.assign_ticket(c.AssignTicket(ticket_id=ticket_id, agent_id="bo"), context)
    with pytest.raises(IdempotencyKeyReusedError):
        app.close_ticket(c.CloseTicket(ticket_id=ticket_id), context)
    assert app.event_count() == written
    assert app.get_ticket(ticket_id).assignee_id == "ana"


def test_a_repeated_keyed_command_is_not_applied_twice(app: ServiceTrail):
    ticket_id = open_ticket(app).ticket_id
    context = c.CommandContext(idempotency_key="msg-7")
    command = c.RecordInteraction(ticket_id=ticket_id, channel="chat", direction="inbound", author="customer")
    outcomes = {app.record_interaction(command, context) [:2] for _ in range(3)}
    assert outcomes == {(ticket_id, 2)}
    assert len(app.ticket_events(ticket_id)) == 2


def test_a_stale_expected_version_is_a_conflict_and_writes_nothing(app: ServiceTrail):
    ticket_id = open_ticket(app).ticket_id
    app.assign_ticket(c.AssignTicket(ticket_id=ticket_id, agent_id="ana"))
    written = app.event_count()
    with pytest.raises(VersionConflictError) as conflict:
        app.assign_ticket(c.AssignTicket(ticket_id=ticket_id, agent_id="bo"),
                          c.CommandContext(expected_version=1))
    assert conflict.value.current_version == 2
    assert app.event_count() == written
    app.assign_ticket(c.AssignTicket(ticket_id=ticket_id, agent_id="bo"), c.CommandContext(expected_version=2))
    assert app.get_ticket(ticket_id).assignee_id == "bo"


def test_occurred_at_is_taken_from_the_caller_and_the_future_is_refused(app: ServiceTrail, clock):
    now = clock()
    ticket_id = open_ticket(app, occurred_at=now - timedelta(days=3)).ticket_id
    opened = app.ticket_events(ticket_id)[0]
    assert opened.occurred_at == now - timedelta(days=3)
    assert opened.recorded_at > now
    written = app.event_count()
    with pytest.raises(OccurredInFutureError):
        app.close_ticket(c.CloseTicket(ticket_id=ticket_id, occurred_at=now + timedelta(hours=1)))
    app.assign_ticket(c.AssignTicket(ticket_id=ticket_id, agent_id="a", occurred_at=now + timedelta(minutes=2)))
    assert app.event_count() == written + 1, "a small skew is tolerated"


def test_a_refused_transition_writes_nothing(app: ServiceTrail):
    ticket_id = open_ticket(app).ticket_id
    written = app.event_count()
    with pytest.raises(TransitionNotAllowedError):
        app.record_survey(c.RecordSurvey(ticket_id=ticket_id, csat=5))
    assert app.event_count() == written


def test_commands_on_an_unknown_ticket_are_refused(app: ServiceTrail):
    with pytest.raises(TicketNotFoundError):
        app.assign_ticket(c.AssignTicket(ticket_id=uuid4(), agent_id="ana"))
    with pytest.raises(TicketNotFoundError):
        app.ticket_events(uuid4())
    assert app.event_count() == 0


def test_an_idempotency_record_is_not_a_ticket(app: ServiceTrail):
    from domain.idempotency import idempotency_record_id

    app.open_ticket(
        c.OpenTicket(customer_id="c", channel="web", category="x", subject="y"),
        c.CommandContext(idempotency_key="k"),
    )
    with pytest.raises(TicketNotFoundError):
        app.get_ticket(idempotency_record_id("k"))

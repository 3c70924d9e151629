"""Versioned SLA policies on real stores: each ticket is judged by the policy in force when it was
opened; the versions are events of the log (projector, watcher and rebuild follow them there)."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import pytest

from api.policies import adopt_policy_text, policy_at
from consumers.rebuild import rebuild
from consumers.sla_watcher import SlaWatcher
from domain import commands as c
from domain.errors import InvalidCommandError
from projections.ticket_state.fold import TicketRow
from projections.ticket_state.store import read_all, read_history

FAST_P1 = """
[[sla]]
priority = "P1"
calendar = "24x7"
first_response_minutes = 30
resolution_minutes = 120
"""


def open_p1(services, at: datetime | None = None) -> str:
    outcome = services.app.handle(c.OpenTicket(customer_id="c1", channel="email", category="billing", subject="s",
                                               priority="P1", occurred_at=at))
    return str(outcome.ticket_id)


def resolve(services, ticket_id: str, at: datetime) -> None:
    services.app.handle(c.ResolveTicket(ticket_id=UUID(ticket_id), code="ok", summary="done", occurred_at=at))


def project(services) -> None:
    for handler in services.handlers():
        services.projector(handler, source="embedded").run_until_caught_up()


def row_of(services, ticket_id: str) -> TicketRow:
    with services.state.transaction() as tx:
        return TicketRow.from_dict(read_all(tx)[ticket_id])


def resolution_due(services, ticket_id: str) -> str:
    row = row_of(services, ticket_id)
    return next(d["due_at"] for d in services.deadline_state(row) if d["kind"] == "resolution")


def test_a_policy_change_changes_the_deadlines_of_tickets_opened_after_it_only(services, clock):
    before = open_p1(services)
    clock.advance(timedelta(minutes=1))
    adopted = adopt_policy_text(services, FAST_P1, actor="manager:ops", reason="faster P1")
    clock.advance(timedelta(minutes=1))
    after = open_p1(services)
    project(services)

    rows = {t: row_of(services, t) for t in (before, after)}
    assert (rows[before].policy_version, rows[after].policy_version) == (0, adopted.number)
    # the settings file's policy gives P1 480 minutes, the adopted one 120
    for ticket_id, minutes in ((before, 480), (after, 120)):
        opened = datetime.fromisoformat(rows[ticket_id].opened_at)
        assert datetime.fromisoformat(resolution_due(services, ticket_id)) == opened + timedelta(minutes=minutes)

    # resolved 200 minutes after opening: within the old policy's target, late under the new one
    clock.advance(timedelta(minutes=200))
    for ticket_id in (before, after):
        resolve(services, ticket_id, clock())
    project(services)
    rows = {t: row_of(services, t) for t in (before, after)}
    with services.read() as view:
        missed = {t: {key for key, _ in view.judge.missed_by(rows[t], "9999")} for t in (before, after)}
    assert "resolution#0" not in missed[before] and "resolution#0" in missed[after]


def test_as_of_before_the_change_reports_the_old_policy(services, clock):
    ahead = clock() + timedelta(days=1)
    first = adopt_policy_text(services, FAST_P1, actor="manager:ops", effective_from=ahead)
    assert policy_at(services, None, None)["version"] == 0  # scheduled, not yet in force
    assert policy_at(services, ahead - timedelta(seconds=1), None)["version"] == 0
    assert policy_at(services, ahead, None)["version"] == first.number
    # as the system knew it before the adoption was recorded: the old policy, even at a later instant
    assert policy_at(services, ahead + timedelta(days=1), first_recorded(first) - timedelta(seconds=1))["version"] == 0
    shown = policy_at(services, ahead, None)
    assert shown["adopted_by"] == "manager:ops" and shown["policy"]["sla"][0]["resolution_minutes"] == 120


def first_recorded(version) -> datetime:
    return datetime.fromisoformat(version.recorded_at)


def test_a_policy_cannot_take_effect_before_it_is_adopted(services, clock):
    with pytest.raises(InvalidCommandError) as refused:
        adopt_policy_text(services, FAST_P1, actor="m", effective_from=clock() - timedelta(hours=1))
    assert refused.value.field == "effective_from"
    assert services.app.sla_policy_versions() == []


def test_a_broken_policy_is_refused_naming_the_field_and_nothing_is_written(services):
    before = services.app.event_count()
    with pytest.raises(InvalidCommandError) as refused:
        adopt_policy_text(services, '[[sla]]\npriority = "P1"\nresolution_minutes = -5\n', actor="m")
    assert refused.value.field == "policy.sla[0].resolution_minutes"
    assert services.app.event_count() == before


def test_an_import_of_old_history_is_judged_by_the_policy_in_force_back_then(services, clock):
    """Tickets that occurred before a version took effect keep the earlier policy, however late
    they are recorded (an import after the change)."""
    adopt_policy_text(services, FAST_P1, actor="m")
    clock.advance(timedelta(minutes=5))
    old = open_p1(services, at=clock() - timedelta(days=30))
    new = open_p1(services)
    project(services)
    assert (row_of(services, old).policy_version, row_of(services, new).policy_version) == (0, 1)


def test_incremental_projection_with_policy_events_equals_a_rebuild(services, clock):
    tickets = []
    for step in range(6):
        tickets.append(open_p1(services))
        if step in (1, 3):
            adopt_policy_text(services, FAST_P1.replace("120", str(100 + step)), actor="m")
        clock.advance(timedelta(minutes=7))
        for handler in services.handlers():  # incrementally, a little at a time
            services.projector(handler, source="embedded").run_once()
    for ticket_id in tickets:
        resolve(services, ticket_id, clock())
    project(services)
    with services.state.transaction() as tx:
        incremental = read_all(tx), read_history(tx)
    handler = next(h for h in services.handlers() if h.name == "ticket_state")
    rebuild(handler, lambda h: services.projector(h, source="embedded"))
    with services.state.transaction() as tx:
        rebuilt = read_all(tx), read_history(tx)
    assert rebuilt == incremental
    assert sorted({doc["policy_version"] for doc in incremental[0].values()}) == [0, 1, 2]


def test_the_watcher_acts_on_each_tickets_own_policy(services, clock):
    before = open_p1(services)
    clock.advance(timedelta(seconds=10))
    adopt_policy_text(services, FAST_P1, actor="m")
    clock.advance(timedelta(seconds=10))
    after = open_p1(services)
    watcher = SlaWatcher(services.app, services.embedded_source(), services.policy, clock, grace=timedelta(0))
    watcher.run_until_caught_up()
    clock.advance(timedelta(minutes=125))  # past the new 120-minute target, far from the old 480
    watcher.run_until_caught_up()
    def breached(ticket_id: str) -> set[str]:
        return {e.deadline for e in services.app.ticket_events(UUID(ticket_id)) if e.TYPE == "ticket.sla_breached"}

    # the old policy: first response due after 60 minutes, resolution after 480; the new: 30 and 120
    assert breached(before) == {"first_response#0"}
    assert breached(after) == {"first_response#0", "resolution#0"}

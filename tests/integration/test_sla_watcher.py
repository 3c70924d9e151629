"""The SLA watcher on a simulated clock: warnings, breaches and escalations; pauses, reopens,
OLAs and severity routing; determinism and idempotence; facts versus actions (no action for a
moment already past when the ticket became known, none for history that arrives back-dated or
imported, each moment judged a grace period after it fell due)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.bootstrap import bootstrap
from api.settings import Settings
from domain import commands as c
from domain.service_levels import load_policy
from tests.fakes import FakeClock

POLICY = """
[calendars.24x7]
always_open = true

[[sla]]
priority = "P1"
calendar = "24x7"
first_response_minutes = 60
resolution_minutes = 240
warning_at = 0.8

[[sla]]
calendar = "24x7"
first_response_minutes = 600
resolution_minutes = 120

[ola.billing]
calendar = "24x7"
minutes = 30

[escalation]
first_response = 1
resolution = 2
ola = 2
"""


@pytest.fixture
def world(tmp_path, store_url):
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(POLICY)
    clock = FakeClock(tick=timedelta(0))
    services = bootstrap(Settings(store_url=store_url, secret_key="s", policy_file=policy_file), clock=clock)
    watcher = services.watcher()
    yield services, watcher, clock
    services.close()


def open_ticket(app, key: str, **fields):
    body = dict(customer_id="c", channel="phone", category="x", subject="s")
    body.update(fields)
    return app.open_ticket(c.OpenTicket(**body), c.CommandContext(idempotency_key=key)).ticket_id


def types(app, ticket) -> list[str]:
    return [e.type.removeprefix("ticket.") for e in app.ticket_events(ticket)]


def step(watcher, clock, minutes: float) -> None:
    clock.advance(timedelta(minutes=minutes))
    watcher.run_until_caught_up()
    watcher.run_until_caught_up()  # see our own events come back


def test_first_response_warns_then_breaches_and_escalates_to_the_team_lead(world):
    services, watcher, clock = world
    t = open_ticket(services.app, "t", priority="P1")
    step(watcher, clock, 47)
    assert "sla_warned" not in types(services.app, t)
    step(watcher, clock, 2)  # 49 min: past 80 % of 60
    assert types(services.app, t)[-1] == "sla_warned"
    step(watcher, clock, 12)  # 61 min
    events = services.app.ticket_events(t)
    assert [e.type for e in events[-2:]] == ["ticket.sla_breached", "ticket.escalated"]
    breach, escalation = events[-2:]
    assert breach.deadline == "first_response#0"
    assert (escalation.to_level, escalation.automatic, escalation.actor) == (1, True, "system:sla-watcher")
    assert breach.due_at == events[0].occurred_at + timedelta(minutes=60)
    assert breach.occurred_at == escalation.occurred_at == clock(), "when the watcher acted, a grace after due"


def test_a_met_deadline_is_never_breached(world):
    services, watcher, clock = world
    t = open_ticket(services.app, "t", priority="P1")
    services.app.assign_ticket(c.AssignTicket(ticket_id=t, agent_id="ana"))
    step(watcher, clock, 30)
    services.app.record_interaction(c.RecordInteraction(ticket_id=t, channel="phone", direction="outbound",
                                                        author="agent", agent_id="ana"))
    step(watcher, clock, 100)
    assert "sla_breached" not in types(services.app, t)


def test_waiting_on_the_customer_pauses_the_resolution_clock(world):
    services, watcher, clock = world
    t = open_ticket(services.app, "t")  # resolution in 120 min
    services.app.assign_ticket(c.AssignTicket(ticket_id=t, agent_id="ana"))
    step(watcher, clock, 60)
    services.app.wait_on_customer(c.WaitOnCustomer(ticket_id=t))
    step(watcher, clock, 180)  # paused: no breach although 240 min passed
    assert "sla_breached" not in types(services.app, t)
    services.app.resume_ticket(c.ResumeTicket(ticket_id=t))
    step(watcher, clock, 50)  # 60 + 50 = 110 of 120 running minutes
    assert "sla_breached" not in types(services.app, t)
    step(watcher, clock, 11)
    assert types(services.app, t)[-2:] == ["sla_breached", "escalated"]


def test_reopening_restarts_the_resolution_clock(world):
    services, watcher, clock = world
    t = open_ticket(services.app, "t")
    services.app.resolve_ticket(c.ResolveTicket(ticket_id=t, code="ok", summary="s"))
    step(watcher, clock, 100)
    services.app.reopen_ticket(c.ReopenTicket(ticket_id=t))
    step(watcher, clock, 100)  # 200 min after opening, but 100 after the reopen
    assert "sla_breached" not in types(services.app, t)
    step(watcher, clock, 21)
    breach = [e for e in services.app.ticket_events(t) if e.type == "ticket.sla_breached"]
    assert [b.deadline for b in breach] == ["resolution#1"]


def test_a_transfer_starts_an_ola_whose_breach_goes_to_the_department_manager(world):
    services, watcher, clock = world
    t = open_ticket(services.app, "t", priority="P1")
    services.app.assign_ticket(c.AssignTicket(ticket_id=t, agent_id="ana"))
    services.app.record_interaction(c.RecordInteraction(ticket_id=t, channel="phone", direction="outbound",
                                                        author="agent", agent_id="ana"))
    services.app.transfer_ticket(c.TransferTicket(ticket_id=t, department="billing"))
    step(watcher, clock, 31)
    events = services.app.ticket_events(t)
    breach = next(e for e in events if e.type == "ticket.sla_breached")
    escalation = next(e for e in events if e.type == "ticket.escalated")
    assert breach.deadline == "ola:billing#1" and escalation.to_level == 2
    assert escalation.to_role == "department_manager"


@pytest.mark.parametrize(("severity", "level"), [("major", 3), ("general", 2)])
def test_complaints_are_routed_by_severity_a_grace_after_opening(world, severity, level):
    services, watcher, clock = world
    t = open_ticket(services.app, "t", severity=severity)
    step(watcher, clock, 0)
    assert "escalated" not in types(services.app, t), "waits the grace: the history may still be arriving"
    step(watcher, clock, 1)
    escalation = services.app.ticket_events(t)[-1]
    assert escalation.type == "ticket.escalated" and escalation.to_level == level


def test_a_complaint_recorded_with_its_resolution_is_not_routed(world):
    services, watcher, clock = world
    t = open_ticket(services.app, "t", severity="major", occurred_at=clock() - timedelta(days=3))
    step(watcher, clock, 0.01)
    services.app.resolve_ticket(c.ResolveTicket(ticket_id=t, code="ok", summary="s", remedy="replacement", root_cause="x",
                                                occurred_at=clock() - timedelta(days=2)))
    step(watcher, clock, 60)
    assert "escalated" not in types(services.app, t)


def test_a_deadline_already_past_when_the_opening_is_recorded_is_never_acted_on(world):
    services, watcher, clock = world
    t = open_ticket(services.app, "old", priority="P1", occurred_at=clock() - timedelta(hours=5))
    for _ in range(3):
        step(watcher, clock, 60 * 24)
    assert types(services.app, t) == ["opened"], "a missed target is a fact for the read side, not an action"


def test_a_deadline_falling_due_within_the_grace_of_a_delayed_opening_is_still_acted_on(world):
    services, watcher, clock = world
    t = open_ticket(services.app, "t", priority="P1", occurred_at=clock() - timedelta(minutes=60, seconds=30))
    step(watcher, clock, 0)
    assert "sla_breached" not in types(services.app, t), "judged a grace after due, not before"
    step(watcher, clock, 1)
    assert types(services.app, t)[-2:] == ["sla_breached", "escalated"]


def test_a_back_dated_p1_posted_within_a_second_gets_no_breach_and_no_escalation(world):
    services, watcher, clock = world
    app, nine = services.app, clock() - timedelta(days=1)
    t = open_ticket(app, "p1", priority="P1", occurred_at=nine)
    commands = [
        c.AssignTicket(ticket_id=t, agent_id="ana", occurred_at=nine + timedelta(minutes=5)),
        c.RecordInteraction(ticket_id=t, channel="phone", direction="outbound", author="agent", agent_id="ana",
                            occurred_at=nine + timedelta(minutes=10)),
        c.ResolveTicket(ticket_id=t, code="fixed", summary="s", occurred_at=nine + timedelta(minutes=30)),
    ]
    for command in commands:  # the watcher runs between the posts, as a live server does
        step(watcher, clock, 0.005)
        app.handle(command, c.CommandContext())
    for _ in range(3):
        step(watcher, clock, 60 * 24)
    assert types(app, t) == ["opened", "assigned", "interaction_recorded", "resolved"]


def test_an_answer_buffered_past_the_due_time_but_within_the_grace_prevents_the_breach(world):
    services, watcher, clock = world
    app = services.app
    t = open_ticket(app, "t", priority="P1")
    app.assign_ticket(c.AssignTicket(ticket_id=t, agent_id="ana"))
    opened = app.ticket_events(t)[0].occurred_at
    step(watcher, clock, 60.5)  # due at 60 min; judged at 61
    app.record_interaction(c.RecordInteraction(ticket_id=t, channel="chat", direction="outbound", author="agent",
                                               agent_id="ana", occurred_at=opened + timedelta(minutes=59)))
    step(watcher, clock, 120)
    assert "sla_breached" not in types(app, t) and "escalated" not in types(app, t)


def test_a_restarted_or_second_watcher_never_repeats_an_action(world):
    services, watcher, clock = world
    t = open_ticket(services.app, "t", priority="P1")
    step(watcher, clock, 61)
    before = types(services.app, t)
    for _ in range(2):
        fresh = services.watcher()  # a restart: memory rebuilt from the log
        fresh.run_until_caught_up()
        fresh.run_until_caught_up()
        assert fresh.actions_taken == 0
    assert types(services.app, t) == before
    assert before.count("sla_breached") == 1 and before.count("escalated") == 1


def test_same_log_and_same_clock_give_the_same_escalations_byte_for_byte(tmp_path):
    runs = []
    for attempt in range(2):
        folder = tmp_path / f"run{attempt}"
        folder.mkdir()
        (folder / "policy.toml").write_text(POLICY)
        clock = FakeClock(tick=timedelta(0))
        services = bootstrap(Settings(store_url=f"sqlite:///{folder / 'e.db'}", secret_key="s",
                                      policy_file=folder / "policy.toml"), clock=clock)
        watcher = services.watcher()
        a = open_ticket(services.app, "a", priority="P1")
        b = open_ticket(services.app, "b", severity="general")
        step(watcher, clock, 50)
        step(watcher, clock, 200)
        runs.append([e.public_dict() for t in (a, b) for e in services.app.ticket_events(t)])
        services.close()
    assert runs[0] == runs[1]
    assert sum(e["type"] == "ticket.escalated" for e in runs[0]) >= 3


def test_a_bad_policy_file_stops_start_up_naming_the_key(tmp_path):
    from api.settings import SettingsError, load_settings

    bad = tmp_path / "bad.toml"
    bad.write_text('[[sla]]\ncalendar = "24x7"\nresolution_minutes = -5\n')
    with pytest.raises(SettingsError, match=r"sla\[0\]\.resolution_minutes"):
        load_settings(policy_file=str(bad))
    bad.write_text('[[sla]]\ncalendar = "nine-to-five"\n')
    with pytest.raises(SettingsError, match="no calendar named 'nine-to-five'"):
        load_settings(policy_file=str(bad))


def test_the_policy_example_in_the_readme_loads():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    policy = load_policy(example)
    assert policy.sla and policy.calendars


NEXT_RESPONSE_POLICY = """
[[sla]]
calendar = "24x7"
first_response_minutes = 60
next_response_minutes = 30
resolution_minutes = 6000
"""


def test_each_customer_message_after_the_first_response_waits_for_the_next_reply(tmp_path):
    policy = tmp_path / "p.toml"
    policy.write_text(NEXT_RESPONSE_POLICY)
    clock = FakeClock(tick=timedelta(0))
    services = bootstrap(Settings(store_url=f"sqlite:///{tmp_path / 'e.db'}", secret_key="s", policy_file=policy),
                         clock=clock)
    watcher = services.watcher()
    try:
        t = open_ticket(services.app, "t")
        services.app.assign_ticket(c.AssignTicket(ticket_id=t, agent_id="ana"))
        reply = c.RecordInteraction(ticket_id=t, channel="chat", direction="outbound", author="agent", agent_id="ana")
        ask = c.RecordInteraction(ticket_id=t, channel="chat", direction="inbound", author="customer")
        services.app.record_interaction(reply)
        step(watcher, clock, 5)
        services.app.record_interaction(ask)
        step(watcher, clock, 20)
        services.app.record_interaction(reply)  # answered in 20 of 30 minutes: met
        services.app.record_interaction(ask)
        step(watcher, clock, 31)                # not answered: breached
        breaches = [e.deadline for e in services.app.ticket_events(t) if e.type == "ticket.sla_breached"]
        assert breaches == ["next_response#2"]
    finally:
        services.close()


def test_a_ticket_resolved_late_records_no_breach_notice_and_no_escalation(world):
    services, watcher, clock = world
    t = open_ticket(services.app, "late", occurred_at=clock() - timedelta(minutes=100))  # resolution due in 20
    step(watcher, clock, 30)
    services.app.resolve_ticket(c.ResolveTicket(ticket_id=t, code="ok", summary="s"))
    step(watcher, clock, 60)
    assert types(services.app, t)[-3:] == ["sla_breached", "escalated", "resolved"], "acted on while open"
    u = open_ticket(services.app, "resolved-late", occurred_at=clock() - timedelta(hours=5))
    services.app.resolve_ticket(c.ResolveTicket(ticket_id=u, code="ok", summary="s"))
    step(watcher, clock, 60)
    assert types(services.app, u) == ["opened", "resolved"], "met late is a fact of the ticket, not an event"


def test_the_risk_list_holds_breached_and_soon_due_tickets(world):
    from api.bootstrap import projection_handlers
    from domain.service_levels import at_risk
    from projections.queries import open_rows

    services, watcher, clock = world
    late = open_ticket(services.app, "late", priority="P1", occurred_at=clock() - timedelta(minutes=90))
    soon = open_ticket(services.app, "soon", priority="P1", occurred_at=clock() - timedelta(minutes=50))
    calm = open_ticket(services.app, "calm", occurred_at=clock())  # due in 120 min
    for handler in projection_handlers():
        services.projector(handler, source="embedded").run_until_caught_up()
    with services.read() as tx:
        risky = at_risk(open_rows(tx), lambda row: services.policy, clock(), timedelta(minutes=30))
    assert [(r["ticket_id"], r["breached"]) for r in risky] == [(str(late), True), (str(soon), False)]
    assert str(calm) not in {r["ticket_id"] for r in risky}


def test_importing_a_data_set_then_following_it_appends_no_warning_breach_or_escalation(world):
    import itertools
    from collections import Counter

    from consumers.importers import FORMATS
    from consumers.importers.base import run_import
    from tests.support.data import data_file

    services, watcher, clock = world
    rows = itertools.islice(FORMATS["nyc-council"](data_file("nyc-council")), 600)  # the excerpt in tests/data
    report = run_import(services.app, rows, actor="import:nyc-council")
    head = services.app.event_count()
    assert report.imported > 400
    for _ in range(3):
        step(watcher, clock, 60 * 24 * 30)
    assert services.app.event_count() == head and watcher.actions_taken == 0
    kinds = Counter(e["type"] for e in services.log_events())
    assert not kinds.keys() & {"ticket.sla_warned", "ticket.sla_breached", "ticket.escalated"}
    still_open = {e["ticket_id"] for e in services.log_events()} - {
        e["ticket_id"] for e in services.log_events() if e["type"] in ("ticket.resolved", "ticket.closed")}
    assert set(watcher.rows) == still_open, "closed history is neither folded nor scheduled"

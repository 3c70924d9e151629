"""Routing through the service layer: roster events, the load read from projections, the choice
recorded as an event (so it replays), and a clear refusal when nobody is available."""

from __future__ import annotations

import pytest

from api.bootstrap import projection_handlers
from domain import commands as c
from domain.errors import NoAgentAvailableError


def roster(app):
    app.register_agent(c.RegisterAgent(agent_id="ana", name="Ana", team="billing", skills=("billing",),
                                       languages=("en", "pt")))
    app.register_agent(c.RegisterAgent(agent_id="bo", name="Bo", team="billing", skills=("billing",),
                                       languages=("en",)))
    app.register_agent(c.RegisterAgent(agent_id="vic", name="Vic", team="accounts", accounts=("vip-7",)))


def open_ticket(app, **fields):
    body = dict(customer_id="c", channel="email", category="billing", subject="s")
    body.update(fields)
    return app.open_ticket(c.OpenTicket(**body)).ticket_id


def project(services):
    for handler in projection_handlers():
        services.projector(handler, source="embedded").run_until_caught_up()


def test_routing_records_its_choice_and_balances_load(services):
    app = services.app
    roster(app)
    first = open_ticket(app, language="pt")
    app.assign_ticket(c.AssignTicket(ticket_id=first))
    routed, assigned = app.ticket_events(first)[-2:]
    assert (routed.type, routed.agent_id, assigned.agent_id) == ("ticket.routed", "ana", "ana")
    assert "speaks pt" in routed.reason
    project(services)
    second = open_ticket(app)
    app.assign_ticket(c.AssignTicket(ticket_id=second))
    assert app.get_ticket(second).assignee_id == "bo", "ana has one open ticket, bo none"


def test_vip_customers_go_to_their_account_manager(services):
    app = services.app
    roster(app)
    ticket = open_ticket(app, customer_id="vip-7", customer_tier="vip")
    app.assign_ticket(c.AssignTicket(ticket_id=ticket))
    assert app.get_ticket(ticket).assignee_id == "vic"


def test_unavailable_agents_are_skipped_and_nobody_available_is_refused(services):
    app = services.app
    roster(app)
    for agent in ("ana", "bo"):
        app.set_availability(c.SetAvailability(agent_id=agent, available=False, reason="lunch"))
    ticket = open_ticket(app)
    written = app.event_count()
    with pytest.raises(NoAgentAvailableError):
        app.assign_ticket(c.AssignTicket(ticket_id=ticket))
    assert app.event_count() == written
    app.set_availability(c.SetAvailability(agent_id="bo", available=True))
    app.assign_ticket(c.AssignTicket(ticket_id=ticket))
    assert app.get_ticket(ticket).assignee_id == "bo"


def test_the_roster_is_event_sourced(services):
    app = services.app
    roster(app)
    app.register_agent(c.RegisterAgent(agent_id="bo", name="Bo", team="billing", skills=("billing", "returns")))
    app.set_availability(c.SetAvailability(agent_id="bo", available=False))
    history = list(app.repository.event_store.get(app.get_agent("bo").id))
    assert [type(e).__name__ for e in history] == ["Registered", "ProfileChanged", "AvailabilityChanged"]
    assert {a.agent_id for a in app.agents()} == {"ana", "bo", "vic"}

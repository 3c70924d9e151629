"""Commands map one-to-one onto use cases of the service layer."""

from __future__ import annotations

from uuid import uuid4

import pytest
from pydantic import ValidationError

from domain import commands as c
from domain.application import ServiceTrail


def test_every_command_has_exactly_one_handler_named_after_it():
    every = c.COMMANDS + c.INTERNAL_COMMANDS + c.ROSTER_COMMANDS + c.PRIVACY_COMMANDS + c.POLICY_COMMANDS
    names = [command.handler_name() for command in every]
    assert len(set(names)) == len(names)
    for command, name in zip(every, names):
        assert callable(getattr(ServiceTrail, name, None)), f"{command.__name__} has no {name}"
    assert c.AssignTicket.handler_name() == "assign_ticket"


def test_every_command_class_is_registered():
    defined = {
        value for value in vars(c).values()
        if isinstance(value, type) and issubclass(value, c.Command)
        and value not in (c.Command, c.TicketCommand)
    }
    assert defined == (set(c.COMMANDS) | set(c.INTERNAL_COMMANDS) | set(c.ROSTER_COMMANDS)
                       | set(c.PRIVACY_COMMANDS) | set(c.POLICY_COMMANDS))


def test_digest_depends_on_content_and_command_type():
    ticket_id = uuid4()
    a = c.CloseTicket(ticket_id=ticket_id, reason="done")
    assert a.digest() == c.CloseTicket(ticket_id=ticket_id, reason="done").digest()
    assert a.digest() != c.CloseTicket(ticket_id=ticket_id, reason="other").digest()
    assert a.digest() != c.ReopenTicket(ticket_id=ticket_id, reason="done").digest()


def test_commands_reject_unknown_fields_and_bad_ranges():
    with pytest.raises(ValidationError):
        c.RecordSurvey(ticket_id=uuid4(), csat=6)
    with pytest.raises(ValidationError):
        c.AssignTicket(ticket_id=uuid4(), agent_id="a", colour="red")


def test_naive_occurred_at_is_rejected():
    with pytest.raises(ValidationError, match="timezone"):
        c.CloseTicket(ticket_id=uuid4(), occurred_at="2026-01-01T10:00:00")


@pytest.mark.parametrize("number", [float("inf"), float("-inf"), float("nan")])
def test_commands_refuse_non_finite_numbers_as_such(number):
    with pytest.raises(ValidationError, match="finite number"):
        c.RecordInteraction(ticket_id=uuid4(), channel="phone", direction="inbound", author="customer",
                            duration_seconds=number)


def test_commands_refuse_nul_characters_in_any_text_field():
    with pytest.raises(ValidationError, match="NUL") as refused:
        c.OpenTicket(customer_id="c", channel="email", category="x", subject="s",
                     contact={"name": "Ana\x00Admin"})
    assert refused.value.errors()[0]["loc"] == ("contact",)
    with pytest.raises(ValidationError, match="NUL"):
        c.RegisterAgent(agent_id="ana", name="Ana", skills=("billing\x00",))


@pytest.mark.parametrize("make", [
    lambda: c.OpenTicket(customer_id="a/b", channel="email", category="x", subject="s"),
    lambda: c.RegisterAgent(agent_id="team/ana", name="Ana"),
    lambda: c.AssignTicket(ticket_id=uuid4(), agent_id="team/ana"),
])
def test_ids_that_appear_in_url_paths_cannot_hold_a_slash(make):
    with pytest.raises(ValidationError, match="must not contain '/'"):
        make()

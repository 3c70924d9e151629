"""Every lifecycle transition of DOMAIN.md, and every refusal, on the pure aggregate."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest

from domain.errors import (
    InvalidCommandError,
    OccurredBeforeOpeningError,
    TransitionNotAllowedError,
)
from domain.ticket import Ticket
from domain.values import Author, Channel, Direction, Remedy, Severity, Stamp, Status

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def at(minutes: float = 0, actor: str = "tester") -> Stamp:
    moment = T0 + timedelta(minutes=minutes)
    return Stamp(moment, moment, actor)


def opened(**details) -> Ticket:
    fields = dict(customer_id="c-1", channel=Channel.EMAIL, category="billing", subject="Charged twice")
    fields.update(details)
    return Ticket.open(uuid4(), at(0), **fields)


def in_progress() -> Ticket:
    ticket = opened()
    ticket.assign(at(1), agent_id="a-1")
    ticket.record_interaction(at(2), channel=Channel.EMAIL, direction=Direction.OUTBOUND,
                              author=Author.AGENT, agent_id="a-1", body="On it")
    return ticket


def resolved(**details) -> Ticket:
    ticket = opened(**details)
    ticket.assign(at(1), agent_id="a-1")
    kwargs = {"remedy": Remedy.COMPENSATION, "root_cause": "billing bug"} if ticket.is_complaint else {}
    ticket.resolve(at(10), code="fixed", summary="Refunded", **kwargs)
    return ticket


def test_opening_records_first_contact():
    ticket = opened(severity=Severity.MAJOR)
    assert ticket.status == Status.OPENED
    assert ticket.version == 1
    assert ticket.opened_at == T0
    assert ticket.is_complaint
    [event] = ticket.collect_events()
    assert isinstance(event, Ticket.Opened)
    assert event.public_dict()["type"] == "ticket.opened"


def test_triage_moves_an_opened_ticket_to_triaged_and_sets_priority():
    ticket = opened()
    ticket.triage(at(1), priority="P2", severity=Severity.GENERAL)
    assert ticket.status == Status.TRIAGED
    assert ticket.priority == "P2"
    assert ticket.is_complaint


def test_triage_that_changes_nothing_is_refused():
    with pytest.raises(InvalidCommandError):
        opened().triage(at(1))


def test_retriage_keeps_the_status_of_work_in_progress():
    ticket = in_progress()
    ticket.triage(at(3), priority="P1")
    assert ticket.status == Status.IN_PROGRESS


def test_assignment_and_reassignment_record_the_previous_agent():
    ticket = opened()
    ticket.assign(at(1), agent_id="a-1", team="billing")
    ticket.assign(at(2), agent_id="a-2", team="billing")
    events = ticket.collect_events()
    assert ticket.status == Status.ASSIGNED and ticket.assignee_id == "a-2"
    assert events[-1].previous_agent_id == "a-1"


def test_assigning_the_same_agent_again_is_refused():
    ticket = opened()
    ticket.assign(at(1), agent_id="a-1")
    with pytest.raises(TransitionNotAllowedError, match="already assigned"):
        ticket.assign(at(2), agent_id="a-1")


def test_first_outbound_agent_interaction_is_the_first_response_and_starts_work():
    ticket = opened()
    ticket.assign(at(1), agent_id="a-1")
    ticket.record_interaction(at(5), channel=Channel.EMAIL, direction=Direction.OUTBOUND,
                              author=Author.AGENT, agent_id="a-1", body="Hello")
    ticket.record_interaction(at(6), channel=Channel.EMAIL, direction=Direction.OUTBOUND,
                              author=Author.AGENT, agent_id="a-1", body="Again")
    first, second = ticket.collect_events()[-2:]
    assert ticket.status == Status.IN_PROGRESS
    assert ticket.first_response_at == T0 + timedelta(minutes=5)
    assert first.first_response and not second.first_response


def test_bot_and_customer_messages_are_not_a_first_response():
    ticket = opened()
    ticket.record_interaction(at(1), channel=Channel.CHAT, direction=Direction.OUTBOUND, author=Author.BOT)
    ticket.record_interaction(at(2), channel=Channel.CHAT, direction=Direction.INBOUND, author=Author.CUSTOMER)
    assert ticket.first_response_at is None


@pytest.mark.parametrize(
    ("direction", "author", "agent_id", "field"),
    [
        (Direction.OUTBOUND, Author.AGENT, None, "agent_id"),
        (Direction.INBOUND, Author.CUSTOMER, "a-1", "agent_id"),
        (Direction.OUTBOUND, Author.CUSTOMER, None, "direction"),
        (Direction.INBOUND, Author.AGENT, "a-1", "direction"),
        (Direction.INBOUND, Author.BOT, None, "direction"),
    ],
)
def test_inconsistent_interactions_are_refused_naming_the_field(direction, author, agent_id, field):
    with pytest.raises(InvalidCommandError) as refused:
        opened().record_interaction(at(1), channel=Channel.PHONE, direction=direction,
                                    author=author, agent_id=agent_id)
    assert refused.value.field == field


def test_negative_call_duration_is_refused():
    with pytest.raises(InvalidCommandError) as refused:
        opened().record_interaction(at(1), channel=Channel.PHONE, direction=Direction.INBOUND,
                                    author=Author.CUSTOMER, duration_seconds=-1)
    assert refused.value.field == "duration_seconds"


def test_transfer_hands_over_to_another_department_and_clears_the_assignee():
    ticket = in_progress()
    ticket.transfer(at(3), department="logistics")
    assert ticket.status == Status.TRANSFERRED
    assert ticket.department == "logistics" and ticket.assignee_id is None
    ticket.assign(at(4), agent_id="a-9")
    assert ticket.status == Status.ASSIGNED


def test_transfer_to_the_current_department_is_refused():
    ticket = opened(department="billing")
    with pytest.raises(TransitionNotAllowedError, match="already with department"):
        ticket.transfer(at(1), department="billing")


def test_waiting_on_customer_pauses_and_a_customer_reply_resumes():
    ticket = in_progress()
    ticket.wait_on_customer(at(3), reason="need invoice number")
    assert ticket.status == Status.WAITING_ON_CUSTOMER
    ticket.record_interaction(at(30), channel=Channel.EMAIL, direction=Direction.INBOUND,
                              author=Author.CUSTOMER, body="INV-1")
    assert ticket.status == Status.IN_PROGRESS
    assert ticket.collect_events()[-1].resumed


def test_explicit_resume_after_waiting():
    ticket = in_progress()
    ticket.wait_on_customer(at(3))
    ticket.resume(at(4))
    assert ticket.status == Status.IN_PROGRESS


def test_resume_without_waiting_is_refused():
    with pytest.raises(TransitionNotAllowedError, match="waiting on the customer"):
        in_progress().resume(at(3))


def test_waiting_on_an_unassigned_ticket_is_refused():
    with pytest.raises(TransitionNotAllowedError):
        opened().wait_on_customer(at(1))


def test_transfer_or_resolution_while_waiting_is_refused():
    ticket = in_progress()
    ticket.wait_on_customer(at(3))
    with pytest.raises(TransitionNotAllowedError):
        ticket.transfer(at(4), department="billing")
    with pytest.raises(TransitionNotAllowedError):
        ticket.resolve(at(4), code="x", summary="y")


def test_escalation_goes_up_one_level_at_a_time_by_default():
    ticket = opened()
    ticket.escalate(at(1), reason="angry customer")
    ticket.escalate(at(2), reason="still angry")
    event = ticket.collect_events()[-1]
    assert ticket.escalation_level == 2
    assert (event.from_level, event.to_level, event.to_role) == (1, 2, "department_manager")


def test_escalation_may_jump_to_a_higher_level_but_never_down():
    ticket = opened()
    ticket.escalate(at(1), reason="major", level=3)
    assert ticket.escalation_level == 3
    with pytest.raises(TransitionNotAllowedError, match="highest escalation level"):
        ticket.escalate(at(2), reason="more")
    other = opened()
    other.escalate(at(1), reason="x", level=2)
    with pytest.raises(TransitionNotAllowedError, match="must go up"):
        other.escalate(at(2), reason="y", level=1)


def test_escalation_to_an_unknown_level_is_refused():
    with pytest.raises(InvalidCommandError) as refused:
        opened().escalate(at(1), reason="x", level=4)
    assert refused.value.field == "level"


def test_resolution_records_code_summary_and_the_resolving_agent():
    ticket = resolved()
    event = ticket.collect_events()[-1]
    assert ticket.status == Status.RESOLVED
    assert ticket.resolved_at == T0 + timedelta(minutes=10)
    assert (event.code, event.summary, event.resolved_by) == ("fixed", "Refunded", "a-1")


def test_a_complaint_needs_remedy_and_root_cause_to_be_resolved():
    ticket = opened(severity=Severity.GENERAL)
    with pytest.raises(InvalidCommandError) as refused:
        ticket.resolve(at(1), code="x", summary="y")
    assert refused.value.field == "remedy"
    with pytest.raises(InvalidCommandError) as refused:
        ticket.resolve(at(1), code="x", summary="y", remedy=Remedy.REPLACEMENT)
    assert refused.value.field == "root_cause"
    ticket.resolve(at(1), code="x", summary="y", remedy=Remedy.REPLACEMENT, root_cause="defect")
    assert ticket.status == Status.RESOLVED


def test_bot_deflection_resolves_a_ticket_no_agent_touched():
    ticket = opened(channel=Channel.BOT)
    ticket.resolve(at(1), code="self_service", summary="answered by FAQ")
    assert ticket.status == Status.RESOLVED and ticket.resolved_by is None


def test_resolving_a_resolved_or_closed_ticket_is_refused():
    ticket = resolved()
    with pytest.raises(TransitionNotAllowedError, match="cannot resolve a resolved ticket"):
        ticket.resolve(at(11), code="x", summary="y")
    ticket.close(at(12))
    with pytest.raises(TransitionNotAllowedError, match="cannot resolve a closed ticket"):
        ticket.resolve(at(13), code="x", summary="y")


def test_reopen_within_the_window_counts_a_reopen():
    ticket = resolved()
    ticket.reopen(at(10 + 60 * 24 * 6), reason="still broken")
    assert ticket.status == Status.REOPENED and ticket.reopen_count == 1
    assert ticket.resolved_at is None
    ticket.record_interaction(at(10 + 60 * 24 * 6 + 1), channel=Channel.EMAIL,
                              direction=Direction.OUTBOUND, author=Author.AGENT, agent_id="a-1")
    assert ticket.status == Status.IN_PROGRESS


def test_reopen_after_the_window_is_refused():
    ticket = resolved()
    with pytest.raises(TransitionNotAllowedError, match="reopen window"):
        ticket.reopen(at(10 + 60 * 24 * 7 + 1))
    ticket.reopen(at(10 + 60 * 24 * 7 + 1), window=timedelta(days=30))
    assert ticket.status == Status.REOPENED


def test_reopening_an_open_ticket_is_refused():
    with pytest.raises(TransitionNotAllowedError, match="only a resolved ticket"):
        in_progress().reopen(at(3))


def test_close_only_after_resolution():
    with pytest.raises(TransitionNotAllowedError, match="only a resolved ticket can be closed"):
        in_progress().close(at(3))
    ticket = resolved()
    ticket.close(at(11))
    assert ticket.status == Status.CLOSED


def test_a_closed_ticket_accepts_no_more_work():
    ticket = resolved()
    ticket.close(at(11))
    for refused in (
        lambda: ticket.assign(at(12), agent_id="a-2"),
        lambda: ticket.triage(at(12), priority="P1"),
        lambda: ticket.transfer(at(12), department="x"),
        lambda: ticket.escalate(at(12), reason="x"),
        lambda: ticket.reopen(at(12)),
        lambda: ticket.close(at(12)),
        lambda: ticket.record_interaction(at(12), channel=Channel.EMAIL,
                                          direction=Direction.INBOUND, author=Author.CUSTOMER),
    ):
        with pytest.raises(TransitionNotAllowedError):
            refused()


def test_survey_after_resolution_evaluates_the_resolving_agent_by_default():
    ticket = resolved()
    ticket.survey(at(20), csat=5, nps=10, comment="great")
    event = ticket.collect_events()[-1]
    assert (event.csat, event.nps, event.evaluated_agent_id) == (5, 10, "a-1")
    assert ticket.surveyed


def test_survey_of_a_closed_ticket_is_allowed():
    ticket = resolved()
    ticket.close(at(11))
    ticket.survey(at(20), csat=3)
    assert ticket.surveyed


def test_surveying_an_open_ticket_is_refused():
    with pytest.raises(TransitionNotAllowedError, match="only taken after resolution"):
        in_progress().survey(at(3), csat=4)


def test_a_second_survey_is_refused():
    ticket = resolved()
    ticket.survey(at(20), csat=5)
    with pytest.raises(TransitionNotAllowedError, match="already been surveyed"):
        ticket.survey(at(21), csat=1)


@pytest.mark.parametrize(("csat", "nps", "field"), [(7, None, "csat"), (0, None, "csat"), (4, 11, "nps"), (4, -1, "nps")])
def test_survey_scores_out_of_range_are_refused(csat, nps, field):
    with pytest.raises(InvalidCommandError) as refused:
        resolved().survey(at(20), csat=csat, nps=nps)
    assert refused.value.field == field


def test_an_event_cannot_occur_before_the_ticket_was_opened():
    with pytest.raises(OccurredBeforeOpeningError):
        opened().assign(at(-5), agent_id="a-1")


def test_late_events_are_accepted_with_their_own_business_time():
    ticket = opened()
    late = Stamp(T0 + timedelta(minutes=1), T0 + timedelta(days=2), "importer")
    ticket.assign(late, agent_id="a-1")
    event = ticket.collect_events()[-1]
    assert event.occurred_at == T0 + timedelta(minutes=1)
    assert event.recorded_at == T0 + timedelta(days=2)


def test_a_payload_that_breaks_the_contract_is_refused_naming_the_field():
    with pytest.raises(InvalidCommandError) as refused:
        opened(subject="")
    assert refused.value.field == "subject"

"""The projector's hot paths unpack a ticket's histories by position instead of building a named
tuple per item (``fact_rows.facts_of``, ``measures.has_handle_time``): the positions they assume
must be the named tuples' own fields, so a reordered or widened history fails here, not as wrong
facts."""

from domain.ticket_history import Assignment, Escalation, Interaction, Reopen, Resolution
from projections.ticket_state.fact_rows import UNPACKED


def test_the_histories_facts_unpack_have_the_named_tuples_fields_in_order():
    named = {"resolutions": Resolution, "reopens": Reopen, "assignments": Assignment, "escalations": Escalation}
    assert {history: named[history]._fields for history in UNPACKED} == UNPACKED


def test_handle_time_unpacks_interactions_in_their_field_order():
    assert Interaction._fields == ("at", "channel", "author", "agent_id", "duration_seconds")

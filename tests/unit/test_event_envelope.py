"""The envelope every event carries, and the per-ticket hash chain."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import uuid4

from eventsourcing.utils import get_topic

from domain.events import event_id_for
from domain.hashing import GENESIS_HASH, chain_hash
from domain.idempotency import IdempotencyRecord
from domain.ticket import EVENT_CLASS_BY_TYPE, TICKET_EVENT_CLASSES, Ticket
from domain.values import Channel, Stamp

ENVELOPE = {"event_id", "ticket_id", "version", "type", "schema_version", "occurred_at",
            "recorded_at", "actor", "prev_hash", "hash"}


def sample_ticket() -> Ticket:
    t0 = datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=8)))
    stamp = Stamp(t0, t0 + timedelta(seconds=3), "agent:a-1")
    ticket = Ticket.open(uuid4(), stamp, customer_id="c", channel=Channel.CHAT, category="x", subject="s")
    ticket.assign(stamp, agent_id="a-1")
    ticket.escalate(stamp, reason="vip")
    return ticket


def test_every_event_carries_the_full_envelope():
    for event in sample_ticket().collect_events():
        public = event.public_dict()
        assert ENVELOPE <= public.keys()
        assert public["event_id"] == str(event_id_for(event.originator_id, event.originator_version))
        assert public["actor"] == "agent:a-1"
        assert public["occurred_at"].endswith("Z"), "instants are stored in UTC"


def test_hashes_chain_each_event_to_the_previous_one_of_its_ticket():
    events = sample_ticket().collect_events()
    assert events[0].prev_hash == GENESIS_HASH
    for previous, event in zip(events, events[1:]):
        assert event.prev_hash == previous.hash
    for event in events:
        assert chain_hash(event.public_dict()) == event.hash


def test_changing_any_field_changes_the_hash():
    event = sample_ticket().collect_events()[1]
    public = event.public_dict()
    public["agent_id"] = "a-2"
    assert chain_hash(public) != event.hash


def test_event_types_are_unique_and_each_has_a_schema_version():
    assert len(EVENT_CLASS_BY_TYPE) == len(TICKET_EVENT_CLASSES) == 15
    for cls in TICKET_EVENT_CLASSES:
        assert cls.model_fields["type"].default == cls.TYPE
        assert cls.model_fields["schema_version"].default >= 1


def test_public_json_schema_uses_public_names():
    schema = Ticket.Assigned.model_json_schema(mode="serialization", by_alias=True)
    assert {"ticket_id", "version", "recorded_at"} <= set(schema["properties"])
    assert "originator_id" not in schema["properties"]


def test_created_event_topics_name_their_aggregates():
    assert Ticket.Opened.model_fields["originator_topic"].default == get_topic(Ticket)
    recorded = IdempotencyRecord.Recorded
    assert recorded.model_fields["originator_topic"].default == get_topic(IdempotencyRecord)


def test_the_canonical_encoding_refuses_non_finite_numbers():
    import math

    import pytest

    from domain.hashing import NonCanonicalValueError, canonical_bytes

    for number in (math.inf, -math.inf, math.nan):
        with pytest.raises(NonCanonicalValueError, match="non-finite"):
            chain_hash({"type": "ticket.interaction_recorded", "duration_seconds": number})
    assert canonical_bytes({"b": 1.5, "a": None}) == b'{"a":null,"b":1.5}'


def test_an_event_is_serialised_once_and_keeps_the_bytes_pydantic_writes():
    """``hash_in_place`` computes the hash from the stored JSON it keeps; the mapper stores those
    bytes: the very bytes ``model_dump_json`` writes (non-ASCII, escapes and numbers included)."""
    from domain.serialization import STORED_JSON, PydanticMapper, stored_json
    from domain.values import Author, Direction

    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    stamp = Stamp(t0, t0, "agent:a-1")
    ticket = Ticket.open(uuid4(), stamp, customer_id="c", channel=None, category="账单 \"quoted\" \\ \x01",
                         subject='{"hash":"' + GENESIS_HASH + '"}', sub_category="é")
    ticket.record_interaction(stamp, channel=Channel.CHAT, direction=Direction.OUTBOUND, author=Author.AGENT,
                              agent_id="a-1", body="hash", duration_seconds=12.5e-3)
    ticket.resolve(stamp, code="ok", summary="done")
    mapper = PydanticMapper(transcoder=None)
    for event in ticket.collect_events():
        pydantic_bytes = event.model_dump_json().encode()
        assert event.__dict__[STORED_JSON] == stored_json(event) == pydantic_bytes
        assert mapper.to_stored_event(event).state == pydantic_bytes
        assert chain_hash(event.public_dict()) == event.hash
        assert mapper.to_domain_event(mapper.to_stored_event(event)) == event
    changed = event.model_copy(update={"summary": "other"})
    assert STORED_JSON not in changed.__dict__ and b'"other"' in stored_json(changed)


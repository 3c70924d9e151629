"""The fast name-based ids are exactly ``uuid.uuid5``'s (ids of stored tickets, events and keys
must never change)."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from domain.application import TICKET_ID_NAMESPACE, ticket_id_for_key
from domain.events import EVENT_ID_NAMESPACE, event_id_for
from domain.idempotency import IDEMPOTENCY_NAMESPACE, idempotency_record_id


@given(st.text())
def test_fast_name_based_ids_equal_the_standard_uuid5(name):
    assert ticket_id_for_key(name) == uuid.uuid5(TICKET_ID_NAMESPACE, name)
    assert idempotency_record_id(name) == uuid.uuid5(IDEMPOTENCY_NAMESPACE, name)
    made = ticket_id_for_key(name)
    assert made.version == 5 and made.variant == uuid.RFC_4122
    assert str(made) == str(uuid.uuid5(TICKET_ID_NAMESPACE, name)) and hash(made) == hash(uuid.UUID(str(made)))


def test_event_ids_equal_the_standard_uuid5():
    ticket = uuid.uuid4()
    assert event_id_for(ticket, 7) == uuid.uuid5(EVENT_ID_NAMESPACE, f"{ticket}/7")

"""Malformed inbound bytes never crash the ingestor: each message is applied or rejected with a
reason (which the ingestor puts in the DLQ), and rejected ones write nothing."""

from __future__ import annotations

import json
from types import SimpleNamespace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consumers.ingestor import Ingestor
from domain import commands as c
from domain.application import ServiceTrail
from tests.fakes import FakeClock

APP = ServiceTrail({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=FakeClock())
TICKET = APP.open_ticket(c.OpenTicket(customer_id="c", channel="chat", category="x", subject="s")).ticket_id
VALID = {"kind": "interaction", "message_id": "m", "ticket_id": str(TICKET), "channel": "chat",
         "direction": "inbound", "author": "customer", "body": "hi"}

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                           max_leaves=10)
mutated = st.builds(lambda key, value: json.dumps({**VALID, key: value}).encode(),
                    st.sampled_from(sorted(VALID) + ["extra", "kind"]), json_values)
payloads = st.binary(max_size=300) | mutated | st.builds(lambda v: json.dumps(v).encode(), json_values)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(payload=payloads)
def test_any_bytes_are_applied_or_rejected_with_a_reason(payload):
    ingestor = Ingestor(APP, consumer=None, producer=None, dlq_topic="dlq")
    before = APP.event_count()
    reason = ingestor._apply(SimpleNamespace(value=payload, key=None, topic="inbound", partition=0, offset=0))
    if reason is not None:
        assert isinstance(reason, str) and reason.strip()
        assert APP.event_count() == before, "a rejected message writes nothing"
    else:
        assert APP.event_count() >= before


def test_an_inbound_message_with_a_non_finite_number_or_a_duplicate_key_is_rejected_with_a_reason():
    ingestor = Ingestor(APP, consumer=None, producer=None, dlq_topic="dlq")
    valid = json.dumps(VALID)[:-1]
    for payload, reason in ((valid + ', "duration_seconds": 1e999}', "duration_seconds: Input should be a finite"),
                            (valid + ', "duration_seconds": NaN}', "duration_seconds: Input should be a finite"),
                            (valid + ', "body": "second"}', "body: the key 'body' is given more than once"),
                            (valid.replace('"hi"', '"h\\u0000i"') + "}", "body: must not contain NUL")):
        before = APP.event_count()
        rejected = ingestor._apply(SimpleNamespace(value=payload.encode(), key=None, topic="inbound", partition=0,
                                                   offset=0))
        assert rejected is not None and reason in rejected, payload
        assert APP.event_count() == before

"""Every published event (ticket events, policy versions) the whole test suite produced validates against the exported JSON Schema.

This folder is named to run last: the suite's events are collected by tests/conftest.py as they
are saved. Run alone, the test still produces every event type itself first."""

from __future__ import annotations

import jsonschema

from api.schema import event_schemas
from domain.application import ServiceTrail
from consumers.sources import PUBLISHED_EVENT_CLASSES
from domain.commands import AdoptSlaPolicy
from domain.service_levels import ServicePolicy
from tests.conftest import PRODUCED
from tests.fakes import FakeClock
from tests.scenarios import every_event_type, scenario


def test_every_produced_event_matches_the_exported_schema():
    app = ServiceTrail({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=FakeClock())
    tickets = [*scenario(), every_event_type()]
    app.save(*tickets)
    app.adopt_sla_policy(AdoptSlaPolicy(policy=ServicePolicy(), reason="the contract test"))
    schemas = event_schemas()
    validators = {name: jsonschema.Draft202012Validator(schema) for name, schema in schemas.items()}
    seen = set()
    for event in PRODUCED:
        validators[f"{event['type']}.v{event['schema_version']}"].validate(event)
        seen.add(event["type"])
    assert seen == set(PUBLISHED_EVENT_CLASSES)
    assert len(PRODUCED) >= sum(t.version for t in tickets)

"""The published schema is a contract: a change to an event type's contract must come with a new
schema version (and an upcaster from the old one). The snapshot in schemas/ is what was published."""

from __future__ import annotations

import json
from pathlib import Path

from api.schema import event_schemas
from domain.serialization import UPCASTERS, upcast, upcaster

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "schemas" / "events"


def published() -> dict[str, dict]:
    return {path.name.removesuffix(".schema.json"): json.loads(path.read_text())
            for path in PUBLISHED.glob("*.schema.json")}


def test_no_contract_changed_without_a_new_schema_version():
    snapshot = published()
    for name, schema in event_schemas().items():
        assert name in snapshot, f"{name} is not published: run `servicetrail schema export schemas`"
        assert json.loads(json.dumps(schema, sort_keys=True)) == snapshot[name], (
            f"the contract of {name} changed without a new schema version: bump schema_version, add an "
            "upcaster from the old version, and publish with `servicetrail schema export schemas`")


def test_every_published_old_version_has_an_upcaster():
    current = {name.rsplit(".v", 1)[0]: int(name.rsplit(".v", 1)[1]) for name in event_schemas()}
    for name in published():
        kind, version = name.rsplit(".v", 1)
        if int(version) < current[kind]:
            assert (kind, int(version)) in UPCASTERS, f"no upcaster from {name}"


def test_upcasters_chain_from_old_versions_to_the_current_one():
    @upcaster("test.thing", 1)
    def _add_reason(document):
        return {**document, "reason": None}

    @upcaster("test.thing", 2)
    def _rename(document):
        document = dict(document)
        document["note"] = document.pop("reason")
        return document

    try:
        assert upcast({"type": "test.thing", "schema_version": 1}) == {
            "type": "test.thing", "schema_version": 3, "note": None}
        assert upcast({"type": "test.thing", "schema_version": 3}) == {"type": "test.thing", "schema_version": 3}
    finally:
        del UPCASTERS[("test.thing", 1)], UPCASTERS[("test.thing", 2)]

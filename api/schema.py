"""The published contract: JSON Schema for every event type (generated from the pydantic models,
never written by hand) and an AsyncAPI document of the topics, keys and headers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from domain.inbound import InboundAdapter
from domain.sla_policies import POLICY_EVENT_CLASSES
from domain.ticket import TICKET_EVENT_CLASSES

HEADERS = {
    "type": "event type, e.g. ticket.opened",
    "schema_version": "version of that type's schema",
    "event_id": "uuid of the event (uuid5 of ticket id and version): dedupe by it",
    "position": "global position of the event in the store's log",
}


def event_schemas() -> dict[str, dict[str, Any]]:
    """``{"<type>.v<schema_version>": JSON Schema}`` of every event type's public form."""
    schemas = {}
    for event_class in (*TICKET_EVENT_CLASSES, *POLICY_EVENT_CLASSES):
        version = event_class.model_fields["schema_version"].default
        schema = event_class.model_json_schema(mode="serialization", by_alias=True)
        schema["$id"] = f"urn:servicetrail:event:{event_class.TYPE}:v{version}"
        schema["title"] = f"{event_class.TYPE} v{version}"
        schemas[f"{event_class.TYPE}.v{version}"] = schema
    return schemas


def asyncapi(events_topic: str, inbound_topic: str, dlq_topic: str) -> dict[str, Any]:
    messages = {
        name.replace(".", "_"): {
            "name": name, "contentType": "application/json",
            "headers": {"type": "object", "properties": {k: {"type": "string", "description": d}
                                                         for k, d in HEADERS.items()}},
            "payload": {"$ref": f"events/{name}.schema.json"},
        }
        for name in event_schemas()
    }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "servicetrail events", "version": "1",
                 "description": "Every ticket event, keyed by ticket id; ordered per ticket. Policy "
                                "versions (policy.adopted), keyed by policy id, on every partition."},
        "channels": {
            "events": {"address": events_topic, "messages": messages,
                       "description": "key = ticket id (UTF-8), or policy id for policy.adopted (sent to every "
                                      "partition); consumers must dedupe by event_id."},
            "inbound": {"address": inbound_topic,
                        "messages": {"inbound": {"payload": {"$ref": "inbound.schema.json"}}}},
            "inbound_dlq": {"address": dlq_topic, "description":
                            "original bytes of rejected inbound messages; headers reason, "
                            "source_topic, source_partition, source_offset"},
        },
        "operations": {
            "receiveEvents": {"action": "receive", "channel": {"$ref": "#/channels/events"}},
            "sendInbound": {"action": "send", "channel": {"$ref": "#/channels/inbound"}},
        },
    }


def export(directory: Path, events_topic: str, inbound_topic: str, dlq_topic: str) -> list[Path]:
    written = []
    (directory / "events").mkdir(parents=True, exist_ok=True)
    for name, schema in event_schemas().items():
        path = directory / "events" / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(path)
    inbound = directory / "inbound.schema.json"
    inbound.write_text(json.dumps(InboundAdapter.json_schema(), indent=2, sort_keys=True) + "\n")
    document = directory / "asyncapi.json"
    document.write_text(json.dumps(asyncapi(events_topic, inbound_topic, dlq_topic), indent=2) + "\n")
    return [*written, inbound, document]

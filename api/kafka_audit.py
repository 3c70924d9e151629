"""``audit verify --from-kafka``: re-check every event on the events topic (hashes, per-ticket
links and versions; duplicates from relay restarts must be byte-identical to the first copy)."""

from __future__ import annotations

import json
from typing import Any

from consumers.kafka import topic_records

from domain.hashing import GENESIS_HASH, chain_hash
from projections.audit import Broken


def verify_topic(services, timeout_ms: int = 1000) -> dict[str, Any]:
    seen: dict[str, str] = {}
    last: dict[str, tuple[int, str]] = {}
    count = 0
    for record in topic_records(services.settings.kafka_bootstrap, services.settings.events_topic, timeout_ms):
        broken = _check(record, seen, last)
        if broken:
            return {"intact": False, "events": count, "tickets": len(last), "source": "kafka",
                    "first_broken": broken.as_dict()}
        count += 1
    return {"intact": True, "events": count, "unique_events": len(seen), "tickets": len(last), "source": "kafka",
            "first_broken": None}


def _check(record, seen: dict[str, str], last: dict[str, tuple[int, str]]) -> Broken | None:
    where = f"{record.topic}:{record.partition}@{record.offset}"
    try:
        event = json.loads(record.value)
    except ValueError as error:
        return Broken(f"undecodable record at {where}", found=str(error))
    if event.get("event_id") in seen:
        return None if seen[event["event_id"]] == event.get("hash") else Broken(
            f"a duplicate differs from the first copy at {where}", None, event.get("ticket_id"), event.get("version"))
    expected = chain_hash(event)
    if expected != event.get("hash"):
        return Broken(f"hash does not match the content at {where}", None, event.get("ticket_id"),
                      event.get("version"), expected=expected, found=event.get("hash"))
    stream = event.get("ticket_id") or event.get("policy_id")
    version, previous = last.get(stream, (0, GENESIS_HASH))
    if event["version"] != version + 1 or event["prev_hash"] != previous:
        return Broken(f"ticket chain broken at {where}", None, stream, event["version"],
                      expected=previous, found=event.get("prev_hash"))
    seen[event["event_id"]] = event["hash"]
    last[stream] = (event["version"], event["hash"])
    return None

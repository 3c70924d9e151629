"""The demo month is deterministic for a seed and has what a service manager expects to see."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

from api.demo import generate
from domain.application import ServiceTrail
from tests.fakes import FakeClock

NOW = datetime(2026, 3, 31, 12, tzinfo=timezone.utc)


def month(seed: int) -> list[dict]:
    app = ServiceTrail({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=FakeClock(NOW))
    generate(app, tickets=400, seed=seed, now=NOW)
    return [n.state for n in app.recorder.select_notifications(start=1, limit=100_000)]


def test_same_seed_same_month():
    assert month(11) == month(11)
    assert month(11) != month(12)


def test_the_month_has_the_variety_of_a_real_service():
    import json

    events = [json.loads(state) for state in month(3)]
    types = Counter(e.get("type") for e in events)
    for kind in ("ticket.opened", "ticket.assigned", "ticket.interaction_recorded", "ticket.resolved",
                 "ticket.surveyed", "ticket.transferred", "ticket.escalated", "ticket.reopened", "ticket.closed"):
        assert types[kind] > 0, kind
    opened = [e for e in events if e.get("type") == "ticket.opened"]
    assert {e["severity"] for e in opened} >= {None, "general", "major"}
    assert len({e["channel"] for e in opened}) >= 6 and len({e["region"] for e in opened}) == 5
    weekdays = Counter(datetime.fromisoformat(e["occurred_at"].replace("Z", "+00:00")).weekday() for e in opened)
    assert weekdays[1] > 2 * weekdays[6], "a weekly pattern: Tuesdays busier than Sundays"

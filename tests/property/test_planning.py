"""Invariants of hotspots and forecasts (hypothesis):
- as_of T equals the same report from a store that only ever held arrivals that occurred by T, so
  arrivals recorded later (a later import, a buffering channel system) never change it;
- known_at T equals the report a store showed when it held only what was recorded by T;
- any chunking of the log gives the same arrivals."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.arrivals import ArrivalsProjection
from projections.read_side import ReadView
from projections.planning import Planning, forecast_report, hotspot_report
from projections.store import StateStore
from projections.ticket_state.fold import instant

START = datetime(2026, 1, 5, tzinfo=timezone.utc)
PLANNING = Planning(ZoneInfo("Europe/Berlin"), lambda first, last: frozenset())
CATEGORIES = ["billing", "delivery", "returns"]


def opened(n: int, rng: random.Random) -> dict:
    occurred = START + timedelta(minutes=rng.randrange(0, 70 * 24 * 60))
    recorded = occurred + timedelta(minutes=rng.choice([0, 0, 5, 60 * 24 * 20]))  # some arrive weeks late
    return {"type": "ticket.opened", "ticket_id": f"t{n}", "version": 1, "category": rng.choice(CATEGORIES),
            "region": rng.choice(["north", "south"]), "channel": "email",
            "severity": "general" if rng.random() < 0.3 else None,
            "occurred_at": occurred.isoformat(), "recorded_at": recorded.isoformat()}


def store(tmp_path, name: str, events: list[dict], chunk: int = 1000) -> StateStore:
    state = StateStore(f"sqlite:///{tmp_path / name}")
    projection = ArrivalsProjection()
    with state.transaction() as tx:
        projection.setup(tx)
    for start in range(0, len(events), chunk):
        with state.transaction() as tx:
            projection.handle(tx, events[start:start + chunk])
    return state


def reports(state: StateStore, as_of: datetime, known_at: datetime | None) -> tuple[dict, dict]:
    with state.transaction() as tx:
        forecast = forecast_report(ReadView(tx), PLANNING, group_by="category", horizon=7, freq="D", as_of=as_of,
                                   known_at=known_at)
        hot = hotspot_report(ReadView(tx), PLANNING, group_by="category,region", window="7d", as_of=as_of, known_at=known_at,
                             measure="contacts")
    forecast.pop("known_at"), hot.pop("known_at")  # the echo of the question, not part of the answer
    return forecast, hot


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), cut_day=st.integers(30, 69), chunk=st.integers(1, 500))
def test_as_of_equals_a_store_of_only_what_occurred_by_then(tmp_path_factory, seed, cut_day, chunk):
    rng = random.Random(seed)
    events = sorted((opened(n, rng) for n in range(600)), key=lambda e: e["recorded_at"])
    as_of = START + timedelta(days=cut_day, hours=rng.randrange(24))
    folder = tmp_path_factory.mktemp("asof")
    everything = store(folder, "all.db", events, chunk)
    earlier = store(folder, "earlier.db", [e for e in events if instant(e["occurred_at"]) <= instant(as_of.isoformat())])
    assert reports(everything, as_of, None) == reports(earlier, as_of, None)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), known_day=st.integers(30, 89))
def test_known_at_equals_what_the_store_held_then(tmp_path_factory, seed, known_day):
    rng = random.Random(seed)
    events = sorted((opened(n, rng) for n in range(600)), key=lambda e: e["recorded_at"])
    known_at = START + timedelta(days=known_day)
    as_of = START + timedelta(days=70)
    folder = tmp_path_factory.mktemp("known")
    everything = store(folder, "all.db", events)
    then = store(folder, "then.db", [e for e in events if instant(e["recorded_at"]) <= instant(known_at.isoformat())])
    assert reports(everything, as_of, known_at) == reports(then, as_of, None)


def test_the_total_forecast_counts_every_arrival_of_every_slice_from_the_same_read(tmp_path):
    """``total=True`` adds the forecast of all arrivals together: its history is every slice's
    counts summed (not the top slices only), day by day in the planning zone."""
    rng = random.Random(5)
    events = [opened(n, rng) for n in range(600)]
    state = store(tmp_path, "total.db", events)
    as_of = START + timedelta(days=60)
    with state.transaction() as tx:
        report = forecast_report(ReadView(tx), PLANNING, group_by="category", horizon=7, freq="D", as_of=as_of,
                                 top=1, total=True)
    (total,) = report["total"]
    today = as_of.astimezone(PLANNING.zone).replace(hour=0, minute=0, second=0, microsecond=0)
    before = [e for e in events if datetime.fromisoformat(e["occurred_at"]) < today]
    assert total["slice"] == [] and len(report["slices"]) == 1
    assert total["history_total"] == len(before) > report["slices"][0]["history_total"]
    assert len(total["periods"]) == 7

"""Hotspots, forecasts and staffing over HTTP, on a store whose truth is known: eight weeks of steady
traffic per category, then a burst in one slice."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from uuid import UUID

import pytest

from api.bootstrap import projection_handlers
from domain.access import Role
from domain.ticket import Ticket
from domain.values import Author, Channel, Direction, Stamp

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)  # the FakeClock's start (a Monday)
CATEGORIES = ["billing", "delivery", "returns", "account"]


@pytest.fixture
def traffic(services):
    rng = random.Random(5)
    tickets = []
    start = NOW - timedelta(days=56)
    for day in range(56):
        weekday = (start + timedelta(days=day)).weekday()
        for category in CATEGORIES:
            count = rng.randint(6, 10) if weekday < 5 else rng.randint(0, 2)
            if category == "returns" and day >= 53:
                count *= 4  # the hotspot: the last three days
            for _ in range(count):
                opened = start + timedelta(days=day, hours=rng.uniform(8, 18))
                at = Stamp(opened, opened, "test")
                ticket = Ticket.open(UUID(int=rng.getrandbits(128)), at, customer_id="c", channel=Channel.EMAIL,
                                     category=category, subject="s", region=rng.choice(["north", "south"]),
                                     severity="general" if rng.random() < 0.5 else None)
                ticket.record_interaction(at, channel=Channel.EMAIL, direction=Direction.OUTBOUND,
                                          author=Author.AGENT, agent_id="ana", duration_seconds=300)
                ticket.resolve(at, code="ok", summary="ok", remedy="process_fix" if ticket.severity else None,
                               root_cause="x" if ticket.severity else None)
                tickets.append(ticket)
    services.app.save(*tickets)
    for handler in projection_handlers():
        services.projector(handler, source="embedded").run_until_caught_up()
    return tickets


def test_the_burst_is_the_top_abnormal_hotspot_and_steady_slices_are_not(client, traffic):
    body = client.get("/v1/hotspots", params={"group_by": "category", "window": "3d", "measure": "contacts"}).json()
    top = body["slices"][0]
    assert top["slice"] == {"category": "returns"} and top["abnormal"] and top["q_value"] < 0.05
    assert top["observed"] > 2 * top["expected"]
    assert [s["slice"]["category"] for s in body["slices"] if s["abnormal"]] == ["returns"]
    pairs = client.get("/v1/hotspots", params={"group_by": "category,region", "window": "3d"}).json()
    assert pairs["measure"] == "complaints" and pairs["slices"][0]["slice"]["category"] == "returns"


def test_arrival_counts_per_slice_and_day_are_the_tickets_opened(client, traffic):
    body = client.get("/v1/arrivals", params={"measure": "contacts", "periods": 7}).json()
    assert len(body["periods"]) == 7 and body["periods"][-1].startswith("2026-03-02")  # today, so far
    by_category = {s["slice"]["category"]: s["counts"] for s in body["slices"]}
    opened = {}
    for ticket in traffic:
        day = ticket.opened_at.date().isoformat()
        opened[(ticket.category, day)] = opened.get((ticket.category, day), 0) + 1
    for category, counts in by_category.items():
        assert counts == [opened.get((category, p[:10]), 0) for p in body["periods"]]
    complaints = client.get("/v1/arrivals", params={"periods": 7}).json()
    assert sum(map(sum, (s["counts"] for s in complaints["slices"]))) == sum(
        1 for t in traffic if t.severity and t.opened_at.date().isoformat() >= body["periods"][0][:10])


def test_forecasts_give_intervals_and_accuracy_per_slice(client, traffic):
    body = client.get("/v1/forecasts", params={"group_by": "category", "horizon": 14, "freq": "D"}).json()
    assert {s["slice"]["category"] for s in body["slices"]} == set(CATEGORIES)
    billing = next(s for s in body["slices"] if s["slice"]["category"] == "billing")
    assert len(billing["periods"]) == 14 and billing["periods"][0]["start"].startswith("2026-03-02")
    weekday, sunday = billing["periods"][1], billing["periods"][6]  # Tuesday, Sunday
    assert weekday["lower"] <= weekday["point"] <= weekday["upper"] and 5 <= weekday["mean"] <= 11
    assert sunday["mean"] < 3
    assert billing["accuracy"]["origins"] == 4 and billing["accuracy"]["relative_mae"] is not None
    one = client.get("/v1/forecasts", params={"slice": "billing", "horizon": 14}).json()["slices"]
    assert [s["slice"] for s in one] == [{"category": "billing"}] and one[0]["periods"] == billing["periods"]
    past = client.get("/v1/forecasts", params={"as_of": "2026-02-01T00:00:00Z", "horizon": 7}).json()
    assert past["slices"][0]["periods"][0]["start"].startswith("2026-02-01")


def test_staffing_uses_the_forecast_and_the_measured_handle_time(client, traffic):
    body = client.get("/v1/staffing", params={"date": "2026-03-03", "interval": "1h"}).json()
    assert body["aht_seconds"] == 300 and body["aht_source"].startswith("log")
    assert len(body["intervals"]) == 24 and body["model"] == "erlang-c"
    busy = max(body["intervals"], key=lambda i: i["contacts_forecast"])
    assert busy["agents"] >= 1 and busy["service_level"] >= 0.8
    assert 8 <= datetime.fromisoformat(busy["start"]).hour <= 18
    patient = client.get("/v1/staffing", params={"date": "2026-03-03", "interval": "1h",
                                                  "patience_seconds": 60}).json()
    assert patient["model"] == "erlang-a" and patient["agent_hours"] <= body["agent_hours"]


def test_staffing_as_of_a_moment_ignores_what_arrived_after_it(client, services, traffic):
    """The dashboard's as-of page plans tomorrow as of its moment: a burst opened later changes
    the plan made now, not the plan as of the moment."""
    moment = {"date": "2026-02-20", "interval": "1h", "as_of": "2026-02-19T00:00:00Z"}
    before = client.get("/v1/staffing", params=moment).json()
    assert before["as_of"].startswith("2026-02-19T00:00:00")
    now_before = client.get("/v1/staffing", params={"date": "2026-03-03", "interval": "1h"}).json()
    burst = []
    for n in range(300):
        opened = datetime(2026, 2, 25, 9, tzinfo=timezone.utc) + timedelta(minutes=n)
        at = Stamp(opened, opened, "test")
        ticket = Ticket.open(UUID(int=10**6 + n), at, customer_id="c", channel=Channel.EMAIL, category="billing",
                             subject="s")
        ticket.record_interaction(at, channel=Channel.EMAIL, direction=Direction.OUTBOUND, author=Author.AGENT,
                                  agent_id="ana", duration_seconds=900)
        ticket.resolve(at, code="ok", summary="ok")
        burst.append(ticket)
    services.app.save(*burst)
    for handler in projection_handlers():
        services.projector(handler, source="embedded").run_until_caught_up()
    assert client.get("/v1/staffing", params=moment).json() == before
    assert client.get("/v1/staffing", params={"date": "2026-03-03", "interval": "1h"}).json() != now_before


@pytest.mark.parametrize("path, params, field", [
    ("/v1/forecasts", {"group_by": "colour"}, "group_by"),
    ("/v1/forecasts", {"freq": "W"}, "freq"),
    ("/v1/forecasts", {"freq": "D", "horizon": 200}, "horizon"),
    ("/v1/forecasts", {"slice": "billing,north"}, "slice"),
    ("/v1/forecasts", {"slice": "nothing-here"}, "slice"),
    ("/v1/arrivals", {"freq": "D", "periods": 400}, "periods"),
    ("/v1/hotspots", {"window": "3 days"}, "window"),
    ("/v1/hotspots", {"measure": "calls"}, "measure"),
    ("/v1/staffing", {"date": "2026-03-03", "interval": "7m"}, "interval"),
    ("/v1/staffing", {"date": "2026-03-03"}, "aht_seconds"),  # an empty log has no handle time
])
def test_bad_parameters_are_problems_naming_the_field(client, path, params, field):
    response = client.get(path, params=params)
    assert response.status_code == 422 and response.headers["content-type"].startswith("application/problem+json")
    assert field in {e["field"] for e in response.json()["errors"]}


def test_planning_is_for_managers_and_auditors_not_agents(services, client):
    agent, _ = services.keys.create(Role.AGENT, "ana")
    auditor, _ = services.keys.create(Role.AUDITOR, "audrey")
    for path in ("/v1/hotspots", "/v1/forecasts"):
        assert client.get(path, headers={"Authorization": f"Bearer {agent}"}).status_code == 403
        assert client.get(path, headers={"Authorization": f"Bearer {auditor}"}).status_code == 200
        assert client.get(path, headers={"Authorization": ""}).status_code == 401


def test_a_planning_report_known_at_a_moment_describes_that_moment(client):
    """One resolver of a query's moment (projections.moment): without as_of, a known_at query
    describes the world at known_at, as every other query does, not the world now."""
    response = client.get("/v1/hotspots", params={"known_at": "2026-03-10T00:00:00Z"})
    assert response.status_code == 200
    assert response.json()["as_of"].startswith("2026-03-10T00:00:00")

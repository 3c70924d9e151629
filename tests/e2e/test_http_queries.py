"""The read side over HTTP: queries with as_of / known_at, the event feed and its SSE stream."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from api.bootstrap import projection_handlers
from tests.scenarios import T0, scenario


@pytest.fixture
def loaded(services, client):
    services.app.save(*scenario())
    for handler in projection_handlers():
        services.projector(handler, source="embedded").run_until_caught_up()
    return client


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_kpis_over_http(loaded):
    body = loaded.get("/v1/kpis", params={"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"}).json()
    k = body["groups"]["all"]
    assert (k["volume"], k["resolved"], k["fcr_rate"]) == (7, 5, 0.4)
    grouped = loaded.get("/v1/kpis", params={"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z",
                                             "group_by": "channel"}).json()["groups"]
    assert set(grouped) == {"bot", "email"}


def test_kpis_as_of_a_past_moment(loaded):
    body = loaded.get("/v1/kpis", params={"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z",
                                          "as_of": iso(T0 + timedelta(minutes=45))}).json()
    assert body["groups"]["all"]["backlog"] == 6


@pytest.mark.parametrize(("params", "field"), [
    ({"group_by": "colour"}, "group_by"),
    ({"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "to"),
    ({"as_of": "2026-03-02T10:00:00"}, "as_of"),
])
def test_bad_query_parameters_are_422_naming_them(loaded, params, field):
    response = loaded.get("/v1/kpis", params=params)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


def test_leaderboard_and_agent_performance(loaded):
    board = loaded.get("/v1/agents/leaderboard", params={"period": "2026-03"}).json()
    assert [a["agent_id"] for a in board["agents"]][0] in {"ana", "bo", "cy"}
    ana = loaded.get("/v1/agents/ana/performance", params={"period": "2026-03"}).json()
    assert ana["tickets_handled"] == 4 and ana["escalations_caused"] == 1
    assert loaded.get("/v1/agents/ana/performance", params={"period": "March"}).status_code == 422


def test_customer_history(loaded):
    history = loaded.get("/v1/customers/c/history").json()
    assert len(history["tickets"]) == 7 and len(history["surveys"]) == 3 and len(history["complaints"]) == 2
    assert history["contacts_by_channel"]["bot"] == 2
    assert loaded.get("/v1/customers/nobody/history").status_code == 404


def test_ticket_list_with_cursor(loaded):
    first = loaded.get("/v1/tickets", params={"limit": 4}).json()
    second = loaded.get("/v1/tickets", params={"limit": 4, "cursor": first["next_cursor"]}).json()
    assert len(first["tickets"]) == 4 and len(second["tickets"]) == 3 and second["next_cursor"] is None
    assert loaded.get("/v1/tickets", params={"cursor": "garbage"}).status_code == 422
    assert len(loaded.get("/v1/tickets", params={"status": "open"}).json()["tickets"]) == 2


def test_ticket_as_of_and_known_at(client, clock):
    created = client.post("/v1/tickets", json={"customer_id": "c", "channel": "chat", "category": "x",
                                               "subject": "s", "occurred_at": iso(clock() - timedelta(hours=3))})
    ticket = f"/v1/tickets/{created.json()['ticket_id']}"
    recorded_open = clock()
    clock.advance(timedelta(minutes=10))
    client.post(f"{ticket}/assignment", json={"agent_id": "ana", "occurred_at": iso(clock() - timedelta(hours=2))})
    now = client.get(ticket).json()
    assert now["status"] == "assigned"
    assert client.get(ticket, params={"known_at": iso(recorded_open)}).json()["status"] == "opened"
    assert client.get(ticket, params={"as_of": iso(clock() - timedelta(hours=2, minutes=30))}).json()["status"] == "opened"
    gone = client.get(ticket, params={"as_of": iso(clock() - timedelta(hours=4))})
    assert gone.status_code == 404


def test_event_feed_pages_in_global_order(services, client):
    for n in range(3):
        client.post("/v1/tickets", json={"customer_id": f"c{n}", "channel": "web", "category": "x", "subject": "s"})
    first = client.get("/v1/events", params={"limit": 2}).json()
    rest = client.get("/v1/events", params={"after": first["next"]}).json()
    positions = [e["position"] for e in first["events"] + rest["events"]]
    assert positions == sorted(positions) and len(positions) == 3
    assert all("hash" in e and "event_id" in e for e in first["events"])


def test_server_sent_events_stream_new_events(services, client):
    client.post("/v1/tickets", json={"customer_id": "c", "channel": "web", "category": "x", "subject": "s"})
    received = []
    with client.stream("GET", "/v1/events/stream", params={"after": 0}) as stream:
        started = time.monotonic()
        for line in stream.iter_lines():
            if line.startswith("data: "):
                received.append(json.loads(line.removeprefix("data: ")))
                break
            assert time.monotonic() - started < 10
    assert received[0]["type"] == "ticket.opened" and received[0]["position"] == services.app.event_count()


def test_inputs_found_by_fuzzing_are_client_errors(client):
    assert client.get("/v1/kpis", params={"as_of": "0001-01-01T00:00:00Z"}).status_code == 422
    assert client.get("/v1/events", params={"after": 2**63}).status_code == 422
    missing = client.get("/v1/audit/export", params={"ticket": "e3e70682-c209-1cac-a29f-6fbed82c07cd"})
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


def test_an_unknown_status_or_priority_filter_is_422_not_an_empty_list(client):
    for params, field in (({"status": "bogus"}, "status"), ({"priority": "P9"}, "priority")):
        response = client.get("/v1/tickets", params=params)
        assert response.status_code == 422, params
        assert [e["field"] for e in response.json()["errors"]] == [field]
    for status in ("open", "opened", "in_progress", "resolved", "closed"):
        assert client.get("/v1/tickets", params={"status": status}).status_code == 200, status


def test_a_period_that_ends_before_it_starts_is_422(client):
    period = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"}
    for path in ("/v1/audit/export", "/v1/kpis"):  # (the KPIs refused it already)
        response = client.get(path, params=period)
        assert response.status_code == 422, path
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == ["to"]


def test_a_not_found_problem_does_not_echo_a_huge_id(client):
    huge = "k" * 5000
    for path in (f"/v1/keys/{huge}", f"/v1/customers/{huge}/history"):
        response = client.request("DELETE" if "keys" in path else "GET", path)
        assert response.status_code == 404, path
        assert len(response.text) < 600 and "k" * 65 not in response.text


def test_what_if_with_the_policy_in_force_equals_the_reported_compliance(client, services):
    """The what-if's "in force" side is the KPIs' SLA compliance, and the policy in force proposed
    again gives the same figures; a stricter P-less target lowers compliance; nothing is written."""
    from tests.scenarios import scenario

    services.app.save(*scenario())
    for handler in services.handlers():
        services.projector(handler, source="embedded").run_until_caught_up()
    window = {"from": "2026-03-01", "to": "2026-04-01"}
    kpis = client.get("/v1/kpis", params=window).json()["groups"]["all"]
    in_force_toml = POLICY_IN_FORCE
    before = services.app.event_count()
    same = client.get("/v1/sla/what-if", params={**window, "policy": in_force_toml}).json()
    assert same["in_force"]["sla_compliance"] == kpis["sla_compliance"]
    assert same["proposed"] == same["in_force"]
    assert same["in_force"]["tickets"] == kpis["resolved"]
    strict = client.get("/v1/sla/what-if", params={**window, "policy": STRICT}).json()
    assert strict["proposed"]["sla_compliance"] < strict["in_force"]["sla_compliance"]
    assert strict["proposed"]["breaches_per_kind"].get("first_response", 0) >= 1
    assert services.app.event_count() == before


def test_what_if_without_a_window_is_422_naming_the_bound(client):
    response = client.get("/v1/sla/what-if", params={"from": "", "to": "", "policy": ""})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "from"


def test_what_if_refuses_a_broken_policy_naming_the_key(client):
    response = client.get("/v1/sla/what-if", params={"from": "2026-03-01", "to": "2026-04-01",
                                                    "policy": "[[sla]]\nresolution_minutes = -5\n"})
    assert response.status_code == 422
    assert "resolution_minutes" in response.json()["detail"]


# The default policy written as TOML (what ServicePolicy() holds), and a much stricter one.
POLICY_IN_FORCE = """
[calendars.24x7]
always_open = true
[calendars.business]

[[sla]]
tier = "vip"
calendar = "24x7"
first_response_minutes = 30
next_response_minutes = 120
resolution_minutes = 480
[[sla]]
priority = "P1"
calendar = "24x7"
first_response_minutes = 60
next_response_minutes = 240
resolution_minutes = 480
[[sla]]
priority = "P2"
calendar = "business"
first_response_minutes = 240
next_response_minutes = 480
resolution_minutes = 1440
[[sla]]
priority = "P3"
calendar = "business"
first_response_minutes = 480
resolution_minutes = 2880
[[sla]]
calendar = "business"
first_response_minutes = 960
resolution_minutes = 5760
"""
STRICT = """
[calendars.24x7]
always_open = true
[[sla]]
calendar = "24x7"
first_response_minutes = 5
resolution_minutes = 30
"""

"""The HTTP contract of ticket commands: every command, every error path, nothing written on error."""

from __future__ import annotations

from uuid import uuid4

import pytest

OPEN = {"customer_id": "cust-42", "channel": "email", "category": "billing", "subject": "Charged twice"}


@pytest.fixture
def ticket(client) -> str:
    response = client.post("/v1/tickets", json=OPEN)
    assert response.status_code == 201
    return response.json()["ticket_id"]


def event_count(services) -> int:
    return services.app.event_count()


def test_a_ticket_goes_through_its_whole_lifecycle_over_http(client, services):
    before = event_count(services)
    created = client.post("/v1/tickets", json={**OPEN, "severity": "general", "priority": "P3"})
    assert created.status_code == 201
    assert created.headers["location"] == f"/v1/tickets/{created.json()['ticket_id']}"
    t = f"/v1/tickets/{created.json()['ticket_id']}"
    steps = [
        ("triage", {"priority": "P1"}),
        ("assignment", {"agent_id": "ana", "team": "billing"}),
        ("interactions", {"channel": "email", "direction": "outbound", "author": "agent", "agent_id": "ana", "body": "On it"}),
        ("wait", {"reason": "invoice number"}),
        ("interactions", {"channel": "email", "direction": "inbound", "author": "customer", "summary": "INV-1"}),
        ("transfer", {"department": "finance"}),
        ("assignment", {"agent_id": "bo"}),
        ("wait", {}),
        ("resume", {"reason": "customer called"}),
        ("escalations", {"reason": "threatens to cancel", "level": 2}),
        ("resolution", {"code": "refunded", "summary": "Refunded", "remedy": "compensation", "root_cause": "retry bug"}),
        ("reopen", {"reason": "no refund yet"}),
        ("resolution", {"code": "refunded", "summary": "Re-sent", "remedy": "compensation", "root_cause": "retry bug"}),
        ("close", {}),
        ("survey", {"csat": 4, "nps": 9, "comment": "ok"}),
    ]
    for version, (path, body) in enumerate(steps, start=2):
        response = client.post(f"{t}/{path}", json=body)
        assert response.status_code == 200, (path, response.json())
        assert response.json()["version"] == version
        assert response.headers["etag"] == f'"{version}"'

    state = client.get(t).json()
    assert state["status"] == "closed" and state["escalation_level"] == 2
    assert state["reopen_count"] == 1 and state["surveyed_at"] and state["department"] == "finance"
    history = client.get(f"{t}/events").json()["events"]
    assert [e["type"] for e in history] == ["ticket.opened"] + [
        "ticket." + {"triage": "triaged", "assignment": "assigned", "interactions": "interaction_recorded",
                     "wait": "waiting_on_customer", "transfer": "transferred", "resume": "resumed",
                     "escalations": "escalated", "resolution": "resolved", "reopen": "reopened",
                     "close": "closed", "survey": "surveyed"}[path]
        for path, _ in steps
    ]
    assert all(e["prev_hash"] == p["hash"] for p, e in zip(history, history[1:]))
    assert event_count(services) == before + 1 + len(steps)


def test_unknown_ticket_is_404_problem_json(client, services):
    before = event_count(services)
    response = client.post(f"/v1/tickets/{uuid4()}/assignment", json={"agent_id": "ana"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert {"type", "title", "status", "detail"} <= response.json().keys()
    assert client.get(f"/v1/tickets/{uuid4()}").status_code == 404
    assert client.get(f"/v1/tickets/{uuid4()}/events").status_code == 404
    assert event_count(services) == before


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("survey", {"csat": 7}, "csat"),
        ("survey", {"csat": 4, "nps": 11}, "nps"),
        ("assignment", {"agent_id": ""}, "agent_id"),
        ("assignment", {"agent_id": "ana", "colour": "red"}, "colour"),
        ("interactions", {"channel": "fax", "direction": "inbound", "author": "customer"}, "channel"),
        ("interactions", {"channel": "chat", "direction": "inbound", "author": "customer", "duration_seconds": -3}, "duration_seconds"),
        ("escalations", {"reason": "x", "level": 5}, "level"),
        ("resolution", {"code": "x"}, "summary"),
        ("close", {"occurred_at": "2026-01-01T10:00:00"}, "occurred_at"),
    ],
)
def test_an_invalid_field_is_422_naming_the_field_and_writes_nothing(client, services, ticket, path, body, field):
    before = event_count(services)
    response = client.post(f"/v1/tickets/{ticket}/{path}", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]
    assert event_count(services) == before


def test_invalid_opening_is_422_naming_every_bad_field(client, services):
    before = event_count(services)
    response = client.post("/v1/tickets", json={"customer_id": "c", "channel": "pigeon", "category": "x"})
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"channel", "subject"}
    assert event_count(services) == before


def test_malformed_json_is_422_problem(client, services):
    before = event_count(services)
    response = client.post("/v1/tickets", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert event_count(services) == before


@pytest.mark.parametrize(
    ("path", "body", "rule"),
    [
        ("survey", {"csat": 5}, "lifecycle_transition"),
        ("close", {}, "lifecycle_transition"),
        ("reopen", {}, "lifecycle_transition"),
        ("resume", {}, "lifecycle_transition"),
        ("wait", {}, "lifecycle_transition"),
    ],
)
def test_a_forbidden_transition_is_409_with_the_rule_and_writes_nothing(client, services, ticket, path, body, rule):
    before = event_count(services)
    response = client.post(f"/v1/tickets/{ticket}/{path}", json=body)
    assert response.status_code == 409
    assert response.json()["rule"] == rule
    assert event_count(services) == before


def test_a_domain_rule_on_content_is_422_naming_the_field(client, services, ticket):
    before = event_count(services)
    response = client.post(f"/v1/tickets/{ticket}/interactions",
                           json={"channel": "chat", "direction": "outbound", "author": "agent"})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "agent_id", "reason": "an interaction authored by an agent needs agent_id"}]
    assert event_count(services) == before


def test_complaint_resolution_without_remedy_is_refused(client, services):
    t = client.post("/v1/tickets", json={**OPEN, "severity": "major"}).json()["ticket_id"]
    before = event_count(services)
    response = client.post(f"/v1/tickets/{t}/resolution", json={"code": "x", "summary": "y"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "remedy"
    assert event_count(services) == before


def test_stale_if_match_is_409_and_writes_nothing(client, services, ticket):
    assert client.post(f"/v1/tickets/{ticket}/assignment", json={"agent_id": "ana"}, headers={"If-Match": '"1"'}).status_code == 200
    before = event_count(services)
    response = client.post(f"/v1/tickets/{ticket}/assignment", json={"agent_id": "bo"}, headers={"If-Match": '"1"'})
    assert response.status_code == 409
    assert response.json()["current_version"] == 2
    assert event_count(services) == before


def test_unparseable_if_match_is_422(client, services, ticket):
    before = event_count(services)
    response = client.post(f"/v1/tickets/{ticket}/assignment", json={"agent_id": "bo"}, headers={"If-Match": "yesterday"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "If-Match"
    assert event_count(services) == before


def test_idempotency_key_replays_the_first_result(client, services):
    headers = {"Idempotency-Key": "open-1"}
    first = client.post("/v1/tickets", json=OPEN, headers=headers)
    before = event_count(services)
    again = client.post("/v1/tickets", json=OPEN, headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert event_count(services) == before
    other = client.post("/v1/tickets", json={**OPEN, "subject": "different"}, headers=headers)
    assert other.status_code == 422 and other.json()["rule"] == "idempotency_key_reused"
    assert event_count(services) == before


def test_future_occurred_at_is_refused(client, services, ticket, clock):
    before = event_count(services)
    future = (clock().replace(year=2030)).isoformat()
    response = client.post(f"/v1/tickets/{ticket}/assignment", json={"agent_id": "ana", "occurred_at": future})
    assert response.status_code == 422
    assert response.json()["rule"] == "occurred_at_in_future"
    assert event_count(services) == before


def test_command_requests_are_measured_by_route_template_and_near_misses_answer_as_the_router_does(
        client, services, ticket):
    """Commands skip FastAPI's router (``api.command_route.CommandShortcut``): what the router
    would do for paths and methods around them must not change."""
    assert client.post(f"/v1/tickets/{ticket}/triage", json={"priority": "P2"}).status_code == 200
    metrics = client.get("/metrics").text
    assert ('servicetrail_http_request_duration_seconds_count{method="POST",'
            'route="/v1/tickets/{ticket_id}/triage",status="200"} 1.0') in metrics
    assert ticket not in metrics
    before = event_count(services)
    for method, path, status in (("POST", f"/v1/tickets/{ticket}/no-such-command", 404),
                                 ("POST", f"/v1/tickets/{ticket}/triage/more", 404),
                                 ("POST", f"/v1/tickets/{ticket}", 405),
                                 ("GET", f"/v1/tickets/{ticket}/triage", 405)):
        response = client.request(method, path, json={"priority": "P1"})
        assert response.status_code == status, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    malformed = client.post("/v1/tickets/not-a-uuid/triage", json={"priority": "P1"})
    assert malformed.status_code == 422 and malformed.headers["content-type"] == "application/problem+json"
    assert "ticket_id" in malformed.text
    assert event_count(services) == before


def test_unknown_route_is_problem_json(client):
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_health_and_ready(client):
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["store"] == "ok"


def test_openapi_lists_every_ticket_command():
    from domain.commands import COMMANDS

    spec = create_app_spec()
    operations = {op["operationId"].split("_v1")[0] for path in spec["paths"].values() for op in path.values()}
    for command in COMMANDS:
        assert command.handler_name() in operations, command.__name__


def create_app_spec() -> dict:
    from fastapi import FastAPI

    from api.routes import tickets

    app = FastAPI()
    app.include_router(tickets.router)
    return app.openapi()


@pytest.mark.parametrize("number", ["1e999", "1e309", "-1e999", "Infinity", "-Infinity", "NaN"])
def test_a_non_finite_number_is_422_naming_the_field_and_the_audit_stays_intact(client, services, ticket, number):
    before = event_count(services)
    body = '{"channel": "phone", "direction": "inbound", "author": "customer", "duration_seconds": %s}' % number
    response = client.post(f"/v1/tickets/{ticket}/interactions", content=body,
                           headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert error["field"] == "duration_seconds"
    assert "finite" in error["reason"], "NaN is refused for what it is, not as 'less than 0'"
    assert event_count(services) == before
    assert services.verify_log()["intact"]


def test_a_duplicate_json_key_is_422_naming_the_key_and_writes_nothing(client, services):
    before = event_count(services)
    body = '{"customer_id": "a", "channel": "email", "category": "x", "subject": "s", "customer_id": "b"}'
    response = client.post("/v1/tickets", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["customer_id"]
    assert "more than once" in response.json()["detail"]
    assert event_count(services) == before


@pytest.mark.parametrize("field", ["subject", "description", "customer_id"])
def test_a_nul_character_in_text_is_422_naming_the_field_and_writes_nothing(client, services, field):
    before = event_count(services)
    response = client.post("/v1/tickets", json={**OPEN, field: "before\u0000after"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert "NUL" in response.json()["detail"]
    assert event_count(services) == before


@pytest.mark.parametrize("customer_id", ["acme/ops", "..", "."])
def test_a_customer_id_that_cannot_be_a_path_segment_is_refused_at_creation(client, services, customer_id):
    before = event_count(services)
    response = client.post("/v1/tickets", json={**OPEN, "customer_id": customer_id})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["customer_id"]
    assert event_count(services) == before


def test_every_route_reads_its_body_strictly(services):
    from fastapi.routing import APIRoute

    from api.body import StrictJsonRoute
    from api.http import create_app

    found: list[APIRoute] = []

    def walk(routes) -> None:  # however routers are nested
        for route in routes:
            if isinstance(route, APIRoute):
                found.append(route)
            else:
                walk(getattr(getattr(route, "original_router", None), "routes", None) or getattr(route, "routes", []))

    walk(create_app(services, run_consumers=False).routes)
    assert found and [route.path for route in found if not isinstance(route, StrictJsonRoute)] == []


def test_a_non_finite_query_number_is_422_not_a_misleading_range_error(client):
    response = client.get("/v1/staffing", params={"date": "2026-03-02", "service_level": "nan"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["service_level"]
    assert "finite" in response.json()["detail"]

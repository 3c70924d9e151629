"""Every route × every role: 401 without a key, 403 without the permission, through otherwise.
The routes are enumerated from the app itself, so a new route without an access rule fails here."""

from __future__ import annotations

import logging
import re
from uuid import UUID

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.auth import PUBLIC, ROUTE_POLICY
from api.bootstrap import projection_handlers
from api.http import create_app
from domain import commands as c
from domain.access import Permission, Role, allows

BODIES = {
    "/v1/tickets": {"customer_id": "c", "channel": "web", "category": "x", "subject": "s"},
    "/v1/tickets/{ticket_id}/interactions": {"channel": "chat", "direction": "inbound", "author": "customer"},
    "/v1/tickets/{ticket_id}/triage": {"priority": "P2"},
    "/v1/tickets/{ticket_id}/assignment": {"agent_id": "ana", "team": "t2"},
    "/v1/tickets/{ticket_id}/transfer": {"department": "billing"},
    "/v1/tickets/{ticket_id}/escalations": {"reason": "test"},
    "/v1/tickets/{ticket_id}/wait": {},
    "/v1/tickets/{ticket_id}/resume": {},
    "/v1/tickets/{ticket_id}/resolution": {"code": "ok", "summary": "s"},
    "/v1/tickets/{ticket_id}/reopen": {},
    "/v1/tickets/{ticket_id}/close": {},
    "/v1/tickets/{ticket_id}/survey": {"csat": 5},
    "/v1/keys": {"role": "auditor", "principal": "someone"},
    "/v1/agents": {"agent_id": "zed", "name": "Zed", "skills": ["x"]},
    "/v1/agents/{agent_id}/availability": {"available": True},
    "/v1/sla/policies": {"policy": "[[sla]]\nresolution_minutes = 60\n"},
}
QUERY = {"/v1/sla/what-if": {"from": "2026-03-01", "to": "2026-04-01", "policy": ""},
         "/v1/agents/leaderboard": {"period": "2026-03"}, "/v1/reports/monthly": {"period": "2026-03"},
         "/v1/agents/{agent_id}/performance": {"period": "2026-03"},
         "/v1/events/stream": {"after": 0}}


@pytest.fixture
def app(services):
    return create_app(services, run_consumers=False)


def api_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every API route, however routers are nested."""
    found = []

    def walk(routes) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                found.extend((method, route.path) for method in route.methods)
            elif hasattr(route, "original_router"):
                walk(route.original_router.routes)
            elif hasattr(route, "routes"):
                walk(route.routes)

    walk(app.routes)
    assert found, "no routes found: the app's structure changed"
    return sorted(found)


def test_every_route_has_an_access_rule(app):
    missing = [route for route in api_routes(app) if route not in ROUTE_POLICY]
    assert missing == []
    stale = [rule for rule in ROUTE_POLICY if rule not in api_routes(app)]
    assert stale == [], "rules for routes that no longer exist"


def call(client: TestClient, method: str, path: str, services, headers: dict) -> int:
    ticket = services.app.open_ticket(c.OpenTicket(customer_id="c", channel="chat", category="x", subject="s"))
    services.app.assign_ticket(c.AssignTicket(ticket_id=ticket.ticket_id, agent_id="ana"))
    services.app.register_agent(c.RegisterAgent(agent_id="ana", name="Ana", skills=("x",)))
    key_id = services.keys.create(Role.AUDITOR, "victim")[1].key_id
    url = path.format(ticket_id=ticket.ticket_id, agent_id="ana", customer_id="c", key_id=key_id, name="dashboard.js")
    params = QUERY.get(path, {})
    if path == "/v1/events/stream":
        with client.stream(method, url, params=params, headers=headers) as response:
            return response.status_code
    return client.request(method, url, params=params, json=BODIES.get(path), headers=headers).status_code


@pytest.mark.parametrize("role", [None, *Role])
def test_every_route_for_every_role(app, services, role):
    with TestClient(app, raise_server_exceptions=False) as client:
        headers = {}
        if role is not None:
            text, _ = services.keys.create(role, "ana")
            headers = {"Authorization": f"Bearer {text}"}
        for method, path in api_routes(app):
            rule = ROUTE_POLICY[(method, path)]
            status = call(client, method, path, services, headers)
            if rule == PUBLIC:
                assert status < 400, (method, path, status)
            elif role is None:
                assert status == 401, (method, path, status)
            elif not allows(role, Permission(rule)):
                assert status == 403, (role, method, path, status)
            else:
                assert status not in (401, 403), (role, method, path, status)


def test_an_agent_only_reaches_its_own_queue(services, app):
    mine = services.app.open_ticket(c.OpenTicket(customer_id="c", channel="chat", category="x", subject="s")).ticket_id
    other = services.app.open_ticket(c.OpenTicket(customer_id="c", channel="chat", category="x", subject="s")).ticket_id
    services.app.assign_ticket(c.AssignTicket(ticket_id=mine, agent_id="ana"))
    services.app.assign_ticket(c.AssignTicket(ticket_id=other, agent_id="bo"))
    text, _ = services.keys.create(Role.AGENT, "ana")
    with TestClient(app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {text}"}) as client:
        assert client.get(f"/v1/tickets/{mine}").status_code == 200
        assert client.get(f"/v1/tickets/{other}").status_code == 403
        assert client.post(f"/v1/tickets/{other}/escalations", json={"reason": "x"}).status_code == 403
        assert client.get("/v1/agents/bo/performance", params={"period": "2026-03"}).status_code == 403
        assert client.get("/v1/tickets", params={"agent_id": "bo"}).status_code == 403
        assert client.get("/v1/kpis").status_code == 403


def test_an_agent_listing_tickets_sees_only_its_own_queue_whatever_the_parameters(services, app):
    mine = services.app.open_ticket(c.OpenTicket(customer_id="c1", channel="chat", category="x", subject="s")).ticket_id
    other = services.app.open_ticket(c.OpenTicket(customer_id="c2", channel="chat", category="x", subject="s",
                                                  contact={"email": "other.customer@example.org"})).ticket_id
    services.app.assign_ticket(c.AssignTicket(ticket_id=mine, agent_id="ana"))
    services.app.assign_ticket(c.AssignTicket(ticket_id=other, agent_id="bo"))
    for handler in projection_handlers():
        services.projector(handler, source="embedded").run_until_caught_up()
    text, _ = services.keys.create(Role.AGENT, "ana")
    with TestClient(app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {text}"}) as client:
        for params in ({}, {"status": "open"}, {"status": "assigned"}, {"as_of": "2999-01-01T00:00:00Z"},
                       {"known_at": "2999-01-01T00:00:00Z"}, {"agent_id": "ana"}, {"limit": 500}):
            response = client.get("/v1/tickets", params=params)
            assert response.status_code == 200, params
            listed = {t["ticket_id"] for t in response.json()["tickets"]}
            assert listed == {str(mine)}, params
            assert "other.customer@example.org" not in response.text


def test_commands_record_the_acting_principal(services, app):
    text, _ = services.keys.create(Role.INTEGRATION, "chat-gateway")
    with TestClient(app, headers={"X-API-Key": text}) as client:
        ticket = client.post("/v1/tickets", json=BODIES["/v1/tickets"]).json()["ticket_id"]
    assert services.app.ticket_events(UUID(ticket))[0].actor == "integration:chat-gateway"


def test_an_auditor_reads_everything_and_writes_nothing(services, app):
    text, _ = services.keys.create(Role.AUDITOR, "kim")
    before = services.app.event_count()
    with TestClient(app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {text}"}) as client:
        assert client.get("/v1/kpis").status_code == 200
        assert client.get("/v1/events").status_code == 200
        assert client.post("/v1/tickets", json=BODIES["/v1/tickets"]).status_code == 403
        assert client.post("/v1/keys", json=BODIES["/v1/keys"]).status_code == 403
    assert services.app.event_count() == before


def test_revoked_and_forged_keys_are_refused(services, app):
    text, key = services.keys.create(Role.MANAGER, "mo")
    with TestClient(app, raise_server_exceptions=False) as client:
        ok = {"Authorization": f"Bearer {text}"}
        assert client.get("/v1/kpis", headers=ok).status_code == 200
        forged = text[:-4] + ("AAAA" if not text.endswith("AAAA") else "BBBB")
        assert client.get("/v1/kpis", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
        services.keys.revoke(key.key_id, actor="admin:test")
        assert client.get("/v1/kpis", headers=ok).status_code == 401
        problem = client.get("/v1/kpis").json()
        assert problem["status"] == 401 and "API key" in problem["detail"]


def test_keys_are_stored_hashed_and_event_sourced(services):
    text, key = services.keys.create(Role.AGENT, "ana", label="laptop")
    secret_part = text.split("_", 2)[2]
    stored = b"".join(n.state for n in services.app.recorder.select_notifications(start=1, limit=1000))
    assert secret_part.encode() not in stored and text.encode() not in stored
    services.keys.revoke(key.key_id, actor="admin:test")
    history = list(services.app.repository.event_store.get(key.id))
    assert [type(e).__name__ for e in history] == ["Created", "Revoked"]
    assert history[1].actor == "admin:test"


def test_body_size_and_rate_limits_are_problem_responses(services, admin_key):
    services.settings = services.settings.model_copy(update={"max_body_bytes": 2048, "rate_limit_per_minute": 5})
    app = create_app(services, run_consumers=False)
    with TestClient(app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {admin_key}"}) as client:
        big = client.post("/v1/tickets", json={**BODIES["/v1/tickets"], "description": "x" * 5000})
        assert big.status_code == 413 and big.headers["content-type"] == "application/problem+json"
        statuses = [client.get("/v1/kpis").status_code for _ in range(8)]
        assert statuses.count(429) >= 2
        assert client.get("/v1/kpis").headers.get("retry-after") == "1"


def test_no_key_or_customer_contact_detail_appears_in_logs(services, caplog):
    caplog.set_level(logging.DEBUG)
    text, _ = services.keys.create(Role.ADMIN, "root")
    app = create_app(services)
    secret = "customer.email@example.org"
    with TestClient(app, headers={"Authorization": f"Bearer {text}"}) as client:
        ticket = client.post("/v1/tickets", json={**BODIES["/v1/tickets"], "subject": secret,
                                                  "contact": {"email": secret, "phone": "+1 555 0100"}}).json()["ticket_id"]
        client.get(f"/v1/tickets/{ticket}")
        client.post(f"/v1/tickets/{ticket}/interactions",
                    json={"channel": "email", "direction": "inbound", "author": "customer", "body": secret})
        with client.stream("GET", "/v1/events/stream", params={"after": 0, "access_token": text}) as stream:
            assert stream.status_code == 200
        client.get("/v1/nowhere")
        client.post("/v1/tickets", content=b"{broken")
    server_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]  # not the test client
    logged = "\n".join(record.getMessage() for record in server_side)
    assert "/v1/tickets" in logged, "requests are logged"
    assert not re.search(r"st_[0-9a-f]{12}_", logged)
    assert secret not in logged and "555 0100" not in logged


def _server_log(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if not record.name.startswith(("httpx", "httpcore"))]


def test_a_request_path_cannot_forge_or_break_a_log_line(client, caplog):
    caplog.set_level(logging.INFO)
    client.get("/v1/x%0AINFO%20servicetrail.access:%20DELETE%20/v1/keys/K%20200")
    client.get("/v1/x%00y%0D%1b[31m")
    client.get("/v1/agents/ana%0Abo/performance", params={"period": "2026-03"})
    logged = _server_log(caplog)
    assert len(logged) >= 3
    assert not any(ch in line for line in logged for ch in "\n\r\x00\x1b"), logged
    assert not any(line.startswith("DELETE") for line in logged)
    assert any("/v1/x%0AINFO" in line for line in logged), "the path is logged as sent, still encoded"
    assert any("/v1/agents/ana%0Abo/performance" in line for line in logged)


def test_customer_ids_in_paths_never_reach_the_access_log(client, caplog):
    caplog.set_level(logging.INFO)
    client.get("/v1/customers/jane.doe@example.org/history")
    client.delete("/v1/customers/jane.doe@example.org/personal-data")
    client.get("/v1/customers/jane.doe@example.org/no-such-route")
    logged = "\n".join(_server_log(caplog))
    assert "jane" not in logged and "example.org" not in logged
    assert "GET /v1/customers/{customer_id}/history" in logged
    assert "DELETE /v1/customers/{customer_id}/personal-data" in logged


def _limited_app(services, per_minute: int):
    services.settings = services.settings.model_copy(update={"rate_limit_per_minute": per_minute})
    return create_app(services, run_consumers=False)


def test_the_rate_limit_holds_however_the_key_is_presented(services):
    text, _ = services.keys.create(Role.MANAGER, "mo")
    spellings = [{"Authorization": f"Bearer {text}"}, {"Authorization": f"bearer {text}"},
                 {"Authorization": f"Bearer    {text}  "}, {"Authorization": f"BEARER\t{text}"}, {"X-API-Key": text}]
    with TestClient(_limited_app(services, 5), raise_server_exceptions=False) as client:
        statuses = [client.get("/v1/kpis", headers=spellings[i % len(spellings)]).status_code for i in range(12)]
    assert statuses[:5] == [200] * 5, "every spelling is accepted"
    assert statuses[5:] == [429] * 7, "…and all of them spend the one bucket of the key"


def test_requests_without_a_valid_key_are_rate_limited_per_address_before_any_store_read(services):
    reads = []
    original = services.keys.get
    services.keys.get = lambda key_id: reads.append(key_id) or original(key_id)
    with TestClient(_limited_app(services, 5), raise_server_exceptions=False) as client:
        anonymous = [client.get("/v1/kpis").status_code for _ in range(7)]
        made_up = [client.get("/v1/kpis", headers={"Authorization": f"Bearer st_{i:012x}_secret"}).status_code
                   for i in range(20)]
        assert client.get("/health").status_code == 200, "public routes are not limited"
    assert anonymous == [401] * 5 + [429] * 2
    assert made_up == [429] * 20
    assert reads == [], "an address that spent its budget on failures costs no store read"


def test_an_unknown_key_id_is_remembered_briefly_and_a_revocation_still_takes_effect(services):
    reads = []
    original = services.keys.get
    services.keys.get = lambda key_id: reads.append(key_id) or original(key_id)
    for _ in range(5):
        assert services.keys.authenticate("st_0123456789ab_secret") is None
    assert reads == ["0123456789ab"], "one store read for a repeated unknown key id"
    text, key = services.keys.create(Role.AGENT, "ana")
    assert services.keys.authenticate(text) is not None
    services.keys.revoke(key.key_id, actor="admin:test")
    assert services.keys.authenticate(text) is None


@pytest.mark.parametrize(("path", "body", "field"), [
    ("interactions", {"channel": "chat", "direction": "outbound", "author": "agent", "agent_id": "bo", "body": "hi"},
     "agent_id"),
    ("survey", {"csat": 5, "evaluated_agent_id": "bo"}, "evaluated_agent_id"),
])
def test_an_agent_cannot_credit_work_to_another_agent(services, app, path, body, field):
    ticket = services.app.open_ticket(c.OpenTicket(customer_id="c", channel="chat", category="x", subject="s"))
    services.app.assign_ticket(c.AssignTicket(ticket_id=ticket.ticket_id, agent_id="ana"))
    if path == "survey":
        services.app.resolve_ticket(c.ResolveTicket(ticket_id=ticket.ticket_id, code="ok", summary="done"))
    text, _ = services.keys.create(Role.AGENT, "ana")
    before = services.app.event_count()
    with TestClient(app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {text}"}) as client:
        refused = client.post(f"/v1/tickets/{ticket.ticket_id}/{path}", json=body)
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["errors"][0]["field"] == field and refused.json()["rule"] == "acting_as_another_agent"
        assert services.app.event_count() == before
        assert client.post(f"/v1/tickets/{ticket.ticket_id}/{path}", json={**body, field: "ana"}).status_code == 200
    manager, _ = services.keys.create(Role.MANAGER, "mo")
    other = services.app.open_ticket(c.OpenTicket(customer_id="c", channel="chat", category="x", subject="s"))
    if path == "survey":
        services.app.resolve_ticket(c.ResolveTicket(ticket_id=other.ticket_id, code="ok", summary="done"))
    with TestClient(app, headers={"Authorization": f"Bearer {manager}"}) as client:
        assert client.post(f"/v1/tickets/{other.ticket_id}/{path}", json=body).status_code == 200, "managers may"

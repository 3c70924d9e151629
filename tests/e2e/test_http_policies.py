"""SLA policy versions over HTTP and the CLI: adopted by a manager, in the log and the event feed,
shown as they stood at a moment; what-if against the version in force per ticket."""

from __future__ import annotations

import json
from datetime import timedelta
from uuid import UUID

from fastapi.testclient import TestClient

from api.http import create_app
from domain import commands as c
from domain.access import Role
from tests.e2e.test_cli import run_cli
from tests.e2e.test_http_queries import POLICY_IN_FORCE, STRICT


def manager(services) -> TestClient:
    text, _ = services.keys.create(Role.MANAGER, "mo")
    return TestClient(create_app(services, run_consumers=False), raise_server_exceptions=False,
                      headers={"Authorization": f"Bearer {text}"})


def test_a_manager_adopts_a_policy_recorded_in_the_log_and_the_feed(services, clock):
    before = clock()
    with manager(services) as client:
        response = client.post("/v1/sla/policies", json={"policy": STRICT, "reason": "tighter"})
        assert response.status_code == 201, response.text
        adopted = response.json()
        assert (adopted["version"], adopted["adopted_by"], adopted["reason"]) == (1, "manager:mo", "tighter")
        feed = client.get("/v1/events").json()["events"]
        assert [e["type"] for e in feed] == ["policy.adopted"] and feed[0]["policy_id"]
        assert feed[0]["policy"]["sla"][0]["resolution_minutes"] == 30
        now = client.get("/v1/sla/policy").json()
        then = client.get("/v1/sla/policy", params={"as_of": before.isoformat()}).json()
        assert (now["version"], then["version"]) == (1, 0)
        history = client.get("/v1/sla/policies").json()["versions"]
        assert [v["version"] for v in history] == [0, 1]
        assert client.get("/v1/audit/verify").status_code == 403  # a manager is no auditor
    assert services.verify_log()["intact"]


def test_a_broken_policy_is_problem_json_naming_the_field_and_nothing_is_written(services):
    with manager(services) as client:
        before = services.app.event_count()
        response = client.post("/v1/sla/policies", json={"policy": '[[sla]]\nresolution_minutes = -5\n'})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "policy.sla[0].resolution_minutes"
    assert services.app.event_count() == before


def test_an_agent_may_not_adopt_a_policy(services):
    text, _ = services.keys.create(Role.AGENT, "ana")
    with TestClient(create_app(services, run_consumers=False), raise_server_exceptions=False,
                    headers={"Authorization": f"Bearer {text}"}) as client:
        assert client.post("/v1/sla/policies", json={"policy": STRICT}).status_code == 403
    assert services.app.sla_policy_versions() == []


def test_what_if_with_the_policy_in_force_per_ticket_equals_the_reported_compliance(client, services, clock):
    """Tickets before and after a change: the "in force" side judges each by its own version and
    equals the KPIs exactly; proposing the old policy for every ticket differs from it."""
    from tests.scenarios import scenario

    services.app.save(*scenario())  # opened at 09:00, judged by the settings file's policy
    assert client.post("/v1/sla/policies", json={"policy": STRICT}).status_code == 201
    for _ in range(4):  # opened after the change: 30 minutes to resolve, resolved after 45
        clock.advance(timedelta(minutes=10))
        ticket = services.app.handle(c.OpenTicket(customer_id="c9", channel="email", category="x", subject="s"))
        clock.advance(timedelta(minutes=45))
        services.app.handle(c.ResolveTicket(ticket_id=UUID(str(ticket.ticket_id)), code="ok", summary="done"))
    for handler in services.handlers():
        services.projector(handler, source="embedded").run_until_caught_up()
    window = {"from": "2026-03-01", "to": "2026-04-01"}
    kpis = client.get("/v1/kpis", params=window).json()["groups"]["all"]
    report = client.get("/v1/sla/what-if", params={**window, "policy": POLICY_IN_FORCE}).json()
    assert report["in_force"]["sla_compliance"] == kpis["sla_compliance"]
    assert report["in_force"]["tickets"] == kpis["resolved"]
    # under the old policy, the four late tickets would have been within their 5,760 business minutes
    assert report["proposed"]["sla_compliance"] > report["in_force"]["sla_compliance"]


def test_cli_loads_and_shows_policy_versions(tmp_path):
    url = f"sqlite:///{tmp_path / 'events.db'}"
    policy = tmp_path / "strict.toml"
    policy.write_text(STRICT)
    loaded = run_cli("sla", "policy", "load", str(policy), "--reason", "tighter", "--store-url", url)
    assert loaded.returncode == 0, loaded.stderr
    assert json.loads(loaded.stdout)["version"] == 1
    shown = json.loads(run_cli("sla", "policy", "show", "--store-url", url).stdout)
    assert shown["version"] == 1 and shown["policy"]["sla"][0]["first_response_minutes"] == 5
    old = json.loads(run_cli("sla", "policy", "show", "--as-of", "2020-01-01T00:00:00Z", "--store-url", url).stdout)
    assert old["version"] == 0
    policy.write_text('[[sla]]\nresolution_minutes = "soon"\n')
    refused = run_cli("sla", "policy", "load", str(policy), "--store-url", url)
    assert refused.returncode == 2 and "sla[0].resolution_minutes" in refused.stderr

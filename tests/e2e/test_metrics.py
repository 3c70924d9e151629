"""``GET /metrics``: Prometheus text for operators' dashboards, behind the ``metrics:read`` permission."""

from __future__ import annotations

from types import SimpleNamespace

from fastapi.testclient import TestClient

from api.bootstrap import projection_handlers
from api.http import create_app
from domain import commands as c
from domain.access import Role


def scrape(client: TestClient) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return response.text


def test_metrics_time_requests_by_route_template_never_by_raw_path(services, client):
    ticket = services.app.open_ticket(c.OpenTicket(customer_id="c", channel="web", category="x", subject="s"))
    assert client.get(f"/v1/tickets/{ticket.ticket_id}").status_code == 200
    client.get("/v1/customers/ana.pereira@example.org/history")
    client.get("/v1/no/such/route")
    text = scrape(client)
    assert ('servicetrail_http_request_duration_seconds_count{method="GET",route="/v1/tickets/{ticket_id}",'
            'status="200"} 1.0') in text
    assert 'route="/v1/customers/{customer_id}/history",status="404"' in text
    assert 'route="unmatched",status="404"' in text
    assert str(ticket.ticket_id) not in text and "example.org" not in text, "no raw path, no personal data"


def test_metrics_report_each_consumers_lag_last_error_relay_acks_dead_letters_and_store_errors(services, client):
    services.app.open_ticket(c.OpenTicket(customer_id="c", channel="web", category="x", subject="s"))
    projector = services.projector(projection_handlers()[0], source="embedded")
    failing = SimpleNamespace(name="relay", last_error="WaitingForBrokers: 3 of 3 records not acknowledged",
                              lag=lambda: 7, records_acknowledged=42)
    ingestor = SimpleNamespace(name="ingestor", last_error=None, dead_lettered=3)
    services.running = [projector, failing, ingestor]
    with services.state.transaction() as tx:
        tx.dead_letter("ticket_state", "log", 99, "unknown event type", "{}")
    client.app.state.metrics.store_error("unavailable")

    text = scrape(client)
    assert f'servicetrail_consumer_lag{{consumer="ticket_state"}} {float(services.app.event_count())}' in text
    assert 'servicetrail_consumer_lag{consumer="relay"} 7.0' in text
    assert 'servicetrail_consumer_failing{consumer="relay"} 1.0' in text
    assert 'servicetrail_consumer_failing{consumer="ticket_state"} 0.0' in text
    assert 'servicetrail_consumer_last_error_info{consumer="relay",error="WaitingForBrokers"} 1.0' in text
    assert "servicetrail_relay_acknowledged_records_total 42.0" in text
    assert "servicetrail_inbound_dead_lettered_total 3.0" in text
    assert 'servicetrail_dead_letters{consumer="ticket_state"} 1.0' in text
    assert 'servicetrail_store_errors_total{kind="unavailable"} 1.0' in text


def test_metrics_need_the_metrics_permission(services):
    app = create_app(services, run_consumers=False)
    with TestClient(app, raise_server_exceptions=False) as anonymous:
        assert anonymous.get("/metrics").status_code == 401
        for role, status in [(Role.AGENT, 403), (Role.MANAGER, 403), (Role.INTEGRATION, 403),
                             (Role.AUDITOR, 200), (Role.ADMIN, 200)]:
            text, _ = services.keys.create(role, "prometheus")
            assert anonymous.get("/metrics", headers={"Authorization": f"Bearer {text}"}).status_code == status, role

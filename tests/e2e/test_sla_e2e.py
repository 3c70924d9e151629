"""The running server escalates on its own: a live P1 ticket whose one-hour first response target
falls due seconds after it was recorded (it was opened 59 min 57 s earlier) is escalated within
seconds of the due time plus the action grace (set to 1 s here); the escalation is in the ticket's
history, in the KPIs and on the Kafka topic. (A deadline already past when the opening is recorded
is a fact, never an action: see test_sla_watcher.py and README "Facts versus actions".)"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.request
from datetime import datetime, timedelta, timezone

from tests.e2e.test_cli import ROOT, SERVICETRAIL
from tests.support.postgres import free_port
from tests.support.topics import read_topic


def call(port: int, key: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method="POST" if body is not None else "GET",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"content-type": "application/json", "authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def admin_key_once_serving(process: subprocess.Popen, port: int, log) -> str:
    """The first-start admin key ``serve`` printed, once the server answers an authorised query."""
    deadline = time.monotonic() + 60
    while not (keys := re.findall(r"st_[0-9a-f]{12}_[A-Za-z0-9_-]+", log.read_text())):
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
    while True:
        try:
            call(port, keys[0], "/v1/kpis")
            return keys[0]
        except OSError:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)


def test_a_running_server_escalates_an_overdue_p1_within_seconds(kafka_settings, tmp_path):
    port, log = free_port(), tmp_path / "serve.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SERVICETRAIL_POLL_INTERVAL_MS": "50",
           "SERVICETRAIL_SLA_ACTION_GRACE_SECONDS": "1",
           **{f"SERVICETRAIL_{k.upper()}": str(v) for k, v in kafka_settings.items()}}
    process = subprocess.Popen([*SERVICETRAIL, "serve", "--port", str(port)], cwd=tmp_path, env=env,
                               stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        key = admin_key_once_serving(process, port, log)
        almost_an_hour_ago = (datetime.now(timezone.utc) - timedelta(minutes=59, seconds=57)).isoformat()
        opened = time.monotonic()
        ticket = call(port, key, "/v1/tickets", {"customer_id": "c1", "channel": "phone", "category": "outage",
                                                 "subject": "site down", "priority": "P1",
                                                 "occurred_at": almost_an_hour_ago})["ticket_id"]
        while True:
            history = call(port, key, f"/v1/tickets/{ticket}/events")["events"]
            if any(e["type"] == "ticket.escalated" for e in history):
                break
            assert time.monotonic() - opened < 10, f"not escalated: {[e['type'] for e in history]}"
            time.sleep(0.1)
        escalated_after = time.monotonic() - opened
        escalation = next(e for e in history if e["type"] == "ticket.escalated")
        assert escalation["automatic"] and escalation["deadline"] == "first_response#0"
        assert any(e["type"] == "ticket.sla_breached" for e in history)

        while True:  # the projector (through Kafka) catches up
            kpis = call(port, key, "/v1/kpis")["groups"]["all"]
            if kpis["escalation_rate"]:
                break
            assert time.monotonic() - opened < 30
            time.sleep(0.2)
        assert kpis["sla_breaches"] == {"first_response": 1}
        on_topic = [json.loads(r.value)["type"] for r in read_topic(kafka_settings["kafka_bootstrap"],
                                                                   kafka_settings["events_topic"])]
        assert "ticket.escalated" in on_topic and "ticket.sla_breached" in on_topic
        print(f"escalated {escalated_after:.2f}s after opening")
    finally:
        process.terminate()
        process.wait(timeout=20)

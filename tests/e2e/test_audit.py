"""The auditor's tools end to end: verify (CLI and HTTP), export, and offline verification."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from api.bootstrap import bootstrap
from api.http import create_app
from api.settings import Settings
from domain.access import Role
from tests.e2e.test_cli import ROOT, run_cli
from projections.ticket_state.fold import instant

VERIFY_EXPORT = [sys.executable, str(ROOT / "tools" / "verify_export.py")]


@pytest.fixture
def store(scenario_store):
    return scenario_store


def test_verify_passes_on_an_intact_store_and_locates_a_flipped_byte(store):
    url, database, tickets = store
    intact = run_cli("audit", "verify", "--store-url", url)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert json.loads(intact.stdout)["intact"] is True
    with sqlite3.connect(database) as db:
        rowid, state = db.execute("SELECT rowid, state FROM stored_events WHERE topic LIKE 'domain.ticket:%' "
                                  "ORDER BY rowid LIMIT 1 OFFSET 9").fetchone()
        db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?",
                   (state.replace(b'"actor":"test"', b'"actor":"tesT"'), rowid))
    broken = run_cli("audit", "verify", "--store-url", url)
    assert broken.returncode == 1
    report = json.loads(broken.stdout)
    assert report["intact"] is False
    assert report["first_broken"]["position"] == rowid
    assert report["first_broken"]["problem"] == "hash does not match the event's content"


def test_verify_over_http(store):
    url, database, _ = store
    services = bootstrap(Settings(store_url=url))
    key, _ = services.keys.create(Role.AUDITOR, "kim")
    with TestClient(create_app(services, run_consumers=False), headers={"Authorization": f"Bearer {key}"}) as client:
        assert client.get("/v1/audit/verify").json()["intact"] is True
        with sqlite3.connect(database) as db:
            db.execute("DELETE FROM stored_events WHERE rowid = (SELECT MAX(rowid) FROM stored_events "
                       "WHERE topic LIKE 'domain.ticket:%')")
        response = client.get("/v1/audit/verify")
        assert response.status_code == 409 and response.json()["first_broken"]["ticket_id"]
    services.close()


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_of_a_ticket_verifies_offline_and_an_edit_is_caught(store, tmp_path, fmt):
    url, _, tickets = store
    out = tmp_path / f"export.{fmt}"
    result = run_cli("audit", "export", "--ticket", str(tickets[3].id), "--format", fmt, "--output", str(out),
                     "--store-url", url)
    assert result.returncode == 0, result.stderr
    checked = subprocess.run([*VERIFY_EXPORT, str(out)], capture_output=True, text=True)
    assert checked.returncode == 0 and "INTACT" in checked.stdout
    out.write_text(out.read_text().replace("really", "REALLY"))  # T4's second resolution summary
    checked = subprocess.run([*VERIFY_EXPORT, str(out)], capture_output=True, text=True)
    assert checked.returncode == 1 and "hash does not match" in checked.stdout


def test_export_of_a_period(store, tmp_path):
    url, _, _ = store
    out = tmp_path / "period.jsonl"
    assert run_cli("audit", "export", "--from", "2026-03-02T09:00:00Z", "--to", "2026-03-02T10:00:00Z",
                   "--output", str(out), "--store-url", url).returncode == 0
    events = [json.loads(line) for line in out.read_text().splitlines()]
    occurred = [instant(e["occurred_at"]) for e in events]
    assert occurred and all("2026-03-02T09:00:00.000000Z" <= at < "2026-03-02T10:00:00.000000Z" for at in occurred)
    assert subprocess.run([*VERIFY_EXPORT, str(out)], capture_output=True, text=True).returncode == 0
    assert run_cli("audit", "export", "--store-url", url).returncode == 2, "a ticket or a period is required"

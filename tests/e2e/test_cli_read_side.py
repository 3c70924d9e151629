"""``servicetrail replay`` and ``servicetrail rebuild`` as a user runs them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.e2e.test_cli import run_cli
from tests.scenarios import T0


@pytest.fixture
def store(scenario_store):
    url, _, tickets = scenario_store
    return url, tickets


def test_replay_prints_the_kpis_as_they_stood(store):
    url, _ = store
    moment = (T0 + timedelta(minutes=45)).isoformat()
    result = run_cli("replay", "--as-of", moment, "--from", "2026-03-01T00:00:00Z", "--store-url", url)
    assert result.returncode == 0, result.stderr
    kpis = json.loads(result.stdout)["groups"]["all"]
    assert (kpis["backlog"], kpis["resolved"]) == (6, 1)


def test_replay_of_one_ticket_and_of_a_projection(store):
    url, tickets = store
    t4 = str(tickets[3].id)
    before_reopen = (T0 + timedelta(minutes=90)).isoformat()
    row = json.loads(run_cli("replay", "--as-of", before_reopen, "--ticket", t4, "--store-url", url).stdout)
    assert (row["status"], row["reopen_count"]) == ("resolved", 0)
    rows = json.loads(run_cli("replay", "--as-of", before_reopen, "--projection", "ticket_state",
                              "--store-url", url).stdout)
    assert len(rows) == 7 and rows[t4]["status"] == "resolved"


def test_replay_refuses_a_naive_instant_with_one_line(store):
    url, _ = store
    result = run_cli("replay", "--as-of", "2026-03-02 10:00", "--store-url", url)
    assert result.returncode == 2
    assert "--as-of must be an ISO 8601 instant with a UTC offset" in result.stderr


def test_rebuild_reports_events_per_second_and_keeps_the_state(store):
    url, _ = store
    result = run_cli("rebuild", "--store-url", url)
    assert result.returncode == 0, result.stderr
    assert "rebuilt ticket_state, arrivals from" in result.stdout and "events/s" in result.stdout
    after = json.loads(run_cli("replay", "--known-at", "2100-01-01T00:00:00Z", "--projection", "ticket_state",
                               "--store-url", url).stdout)
    assert len(after) == 7
    unknown = run_cli("rebuild", "nonsense", "--store-url", url)
    assert unknown.returncode == 2 and "unknown projection" in unknown.stderr


def test_sla_what_if_compares_a_proposed_policy_and_writes_nothing(store, tmp_path):
    url, _ = store
    proposed = tmp_path / "proposed.toml"
    proposed.write_text('[calendars.24x7]\nalways_open = true\n[[sla]]\ncalendar = "24x7"\n'
                        "first_response_minutes = 5\nresolution_minutes = 30\n")
    result = run_cli("sla", "what-if", "--policy", str(proposed), "--from", "2026-03-01", "--to", "2026-04-01",
                     "--store-url", url)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["in_force"]["tickets"] == report["proposed"]["tickets"] == 5
    assert report["proposed"]["sla_compliance"] < report["in_force"]["sla_compliance"]
    broken = tmp_path / "broken.toml"
    broken.write_text("[[sla]]\nresolution_minutes = -5\n")
    refused = run_cli("sla", "what-if", "--policy", str(broken), "--from", "2026-03-01", "--to", "2026-04-01",
                      "--store-url", url)
    assert refused.returncode == 2 and "resolution_minutes" in refused.stderr

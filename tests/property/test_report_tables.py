"""The monthly report's tables over the month's tickets, counted from the fields the database
extracts from the stored rows at a moment (``report.rows_of_month``: ``ReadView.rows(fields=…)``),
and the SLA compliance per tier the database counts now (``report.sla_by_tier``),
equal the definitions applied to whole rows folded by a replay of the log at that moment, on
generated logs (late events, reopens, transfers, escalations, policy versions), on SQLite and
PostgreSQL, live and at past moments on both time axes."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from uuid import UUID

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.application import ServiceTrail
from projections import measures
from projections import report as r
from projections.moment import Moment
from projections.read_side import ReadView, RowFilter
from projections.ticket_state.facts import SlaFacts
from projections.ticket_state.store import read_policy_book
from tests.fakes import FakeClock
from tests.property.logs import T0, build_events, logs, logs_with_policies
from tests.property.test_read_side import POLICY, moments, oracle_rows, project


def tables(rows, lo: str, hi: str) -> dict:
    """Every table the report counts over the month's rows, each by its definition."""
    rows = list(rows)
    categories = sorted({row.category for row in rows})
    return {
        "sla_by_tier": r.sla_by(rows, lo, hi, "customer_tier"),
        "sla_by_priority": r.sla_by(rows, lo, hi, "priority"),
        "sla_by_deadline_kind": r.sla_by_deadline_kind(rows, lo, hi),
        "escalations": r.escalations_by_level(rows, lo, hi),
        "escalation_reasons": r.escalations_by_reason(rows, lo, hi),
        "complaints": r.complaints_by(rows, lo, hi),
        "root_causes": {category: r.root_causes(rows, lo, hi, category) for category in categories},
    }


def check_tables_at_random_moments(url: str, log, seed: int) -> None:
    events = build_events(*log)
    app = ServiceTrail({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=FakeClock())
    app.save(*events)
    store = project(app, url)
    rng = random.Random(seed)
    try:
        for moment in [*moments(events, rng), Moment()]:  # past moments on both axes, and now
            start = T0 + timedelta(minutes=rng.randrange(-600, 2000))
            lo, hi = r.iso(start), r.iso(start + timedelta(minutes=rng.choice([600, 3000, 20000])))
            folded = [row for row in oracle_rows(events, moment.as_of, moment.known_at)
                      if measures.touches(row, lo, hi)]
            with store.read() as tx:
                view = ReadView(tx, moment, lambda ticket: app.ticket_events(UUID(ticket)),
                                SlaFacts(read_policy_book(tx, POLICY)))
                narrow = r.rows_of_month(view, lo, hi)
                whole = view.rows(RowFilter(opened_before=hi, active_since=lo))
                by_tier = r.sla_by_tier(view, narrow, lo, hi)  # now: counted by the database
            assert by_tier == r.sla_by(folded, lo, hi, "customer_tier")
            assert sorted((row.resolved_at or "", row.complaint_at or "") for row in narrow) == sorted(
                (row.resolved_at or "", row.complaint_at or "") for row in folded)
            assert tables(narrow, lo, hi) == tables(folded, lo, hi) == tables(whole, lo, hi)
            assert sorted(repr([getattr(row, name) for name in r.ROW_FIELDS]) for row in narrow) == sorted(
                repr([getattr(row, name) for name in r.ROW_FIELDS]) for row in whole)
    finally:
        store.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log=st.one_of(logs, logs_with_policies), seed=st.integers(0, 10_000))
def test_the_report_tables_from_extracted_fields_equal_the_definitions_over_replayed_rows_on_sqlite(log, seed):
    check_tables_at_random_moments("sqlite:///:memory:", log, seed)


@pytest.mark.postgres
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(log=st.one_of(logs, logs_with_policies), seed=st.integers(0, 10_000))
def test_the_report_tables_from_extracted_fields_equal_the_definitions_over_replayed_rows_on_postgresql(
        postgres_server, log, seed):
    schema = f"t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        check_tables_at_random_moments(f"{postgres_server}?schema={schema}", log, seed)
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

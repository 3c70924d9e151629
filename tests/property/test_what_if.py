"""The vectorised what-if (``projections.sla_vector`` over ``ticket_sla_inputs``) gives exactly the
definition's answer (``SlaFacts.deadline_facts_of`` per row), ticket by ticket and deadline kind by
kind, for generated logs (pauses, reopens, transfers, next responses, late events, policy versions)
and generated proposals (24×7 and business calendars in other time zones, holidays, make-up days,
OLAs, next-response targets)."""

from __future__ import annotations

import random
from datetime import date, time, timedelta
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consumers.runtime import ConsumerRuntime
from consumers.sources import EmbeddedLogSource
from domain.application import ServiceTrail
from domain.calendar import Calendar
from domain.service_levels import OlaTarget, ServicePolicy, SlaTarget
from projections.moment import Moment
from projections.read_side import ReadView
from projections.sla_vector import KINDS, missed_kinds, select
from projections.store import StateStore
from projections.ticket_state.facts import SlaFacts, deadline_kind, met_late
from projections.ticket_state.fold import TicketRow
from projections.ticket_state.store import TicketStateProjection, read_all, read_policy_book
from projections.what_if import _from_inputs, _from_rows
from tests.fakes import FakeClock
from domain.values import Channel
from tests.property.logs import T0, build_events, step

# Tickets that end resolved, after waits, resumes, transfers, reopens, triage and messages (the
# read side's generated logs, ended by a resolution), sometimes with policy versions in between.
resolved_plan = st.tuples(
    st.sampled_from([Channel.EMAIL, Channel.CHAT, Channel.BOT]),
    st.lists(st.tuples(st.sampled_from(["wait", "resume", "inbound", "reply", "inbound", "reply", "transfer", "triage",
                                        "reopen", "resolve", "assign", "wait"]) | step,
                       st.integers(1, 900), st.integers(0, 600), st.booleans()), min_size=3, max_size=14)
    .map(lambda steps: [*steps, ("resolve", 60, 0, False)]),
)
resolved_logs = st.tuples(st.lists(resolved_plan, min_size=3, max_size=10), st.integers(0, 2**32 - 1),
                          st.integers(0, 2))


def proposal(rng: random.Random) -> ServicePolicy:
    calendars = {
        "24x7": Calendar(always_open=True),
        "office": Calendar(timezone=rng.choice(["UTC", "Asia/Shanghai", "America/New_York", "Europe/Lisbon"]),
                           days=tuple(rng.sample(["mon", "tue", "wed", "thu", "fri", "sat"], rng.randint(3, 6))),
                           hours=(time(rng.randint(6, 10), rng.choice([0, 30])), time(rng.randint(15, 20), 0)),
                           holidays=frozenset({date(2026, 3, rng.randint(2, 8))}),
                           working_days=frozenset({date(2026, 3, 7)})),
    }
    minutes = lambda: rng.choice([None, 0.5, 7, 30, 61.25, 240, 1440])  # noqa: E731
    targets = [SlaTarget(priority=p, calendar=rng.choice(list(calendars)), first_response_minutes=minutes(),
                         next_response_minutes=minutes(), resolution_minutes=minutes())
               for p in rng.sample(["P1", "P2", "P3", None], rng.randint(1, 4))]
    ola = {d: OlaTarget(calendar=rng.choice(list(calendars)), minutes=rng.choice([5, 90, 600]))
           for d in rng.sample(["x", "y"], rng.randint(0, 2))}
    return ServicePolicy(calendars=calendars, sla=tuple(targets), ola=ola)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log=resolved_logs, seed=st.integers(0, 10_000))
def test_the_vectorised_what_if_equals_the_definition_ticket_by_ticket(log, seed):
    rng = random.Random(seed)
    events = build_events(*log)
    app = ServiceTrail({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=FakeClock())
    app.save(*events)
    store = StateStore("sqlite:///:memory:")
    ConsumerRuntime(TicketStateProjection(), EmbeddedLogSource(app.recorder, app.mapper), store).run_until_caught_up()
    proposed = proposal(rng)
    try:
        with store.read() as tx:
            rows = {tid: TicketRow.from_dict(doc) for tid, doc in read_all(tx).items()}
            columns, params = select(proposed)
            inputs = tx.fetchall(f"SELECT ticket_id, {columns} FROM ticket_sla_inputs", params)
            missed_any, per_kind = missed_kinds([r[1:] for r in inputs], proposed)
            judge = SlaFacts(proposed)
            for index, (ticket_id, *_) in enumerate(inputs):
                expected = [key for key, _ in met_late(judge.deadline_facts_of(rows[ticket_id]))]
                assert bool(missed_any[index]) == bool(expected), ticket_id
                for kind in KINDS:
                    assert per_kind[kind][index] == sum(1 for k in expected if deadline_kind(k) == kind)
            assert {r[0] for r in inputs} == {t for t, r in rows.items() if r.resolved_at is not None}
            view = ReadView(tx, Moment(), lambda t: app.ticket_events(UUID(t)), SlaFacts(read_policy_book(tx, ServicePolicy())))
            start = T0 + timedelta(minutes=rng.randrange(-600, 4000))
            lo, hi = start.isoformat().replace("+00:00", ".000000Z"), (start + timedelta(days=rng.choice([1, 5, 30]))
                                                                      ).isoformat().replace("+00:00", ".000000Z")
            assert _from_inputs(view, lo, hi, proposed) == _from_rows(view, lo, hi, proposed)
    finally:
        store.close()

"""Generated logs for the read side's property tests: several tickets' events in recording order,
with business and recording times, some steps back-dated (late events: they occurred before
events recorded earlier), openings recorded late (or before the instant they name), reopens, transfers and escalations; with
``logs_with_policies``, SLA policy versions adopted in between (some effective later than recorded)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from uuid import UUID

from hypothesis import strategies as st

from domain.errors import DomainError
from domain.service_levels import ServicePolicy, SlaTarget
from domain.sla_policies import PolicyAdoption
from domain.ticket import Ticket
from domain.values import Author, Channel, Direction, Remedy, Severity, Stamp

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)

step = st.sampled_from(["assign", "reply", "inbound", "wait", "resume", "transfer", "escalate",
                        "resolve", "reopen", "close", "survey", "triage"])
ticket_plan = st.tuples(
    st.sampled_from([Channel.EMAIL, Channel.CHAT, Channel.BOT]),
    st.lists(st.tuples(step, st.integers(1, 900), st.integers(0, 3 * 24 * 60), st.booleans()), max_size=10),
)
logs = st.tuples(st.lists(ticket_plan, min_size=1, max_size=8), st.integers(0, 2**32 - 1))
logs_with_policies = st.tuples(st.lists(ticket_plan, min_size=1, max_size=8), st.integers(0, 2**32 - 1),
                               st.integers(1, 3))


def policy_versions(rng: random.Random, count: int) -> list:
    """``count`` adoptions at random instants of the log's span, each with other targets and
    calendars, some taking effect later than they were recorded."""
    found = []
    for number, recorded in enumerate(sorted(T0 + timedelta(minutes=rng.randrange(0, 3000)) for _ in range(count)), 1):
        policy = ServicePolicy(sla=(
            SlaTarget(priority="P1", calendar=rng.choice(["24x7", "business"]),
                      first_response_minutes=rng.choice([15, 30, 120]), next_response_minutes=rng.choice([None, 60]),
                      resolution_minutes=rng.choice([60, 240, 2000])),
            SlaTarget(calendar=rng.choice(["24x7", "business"]), first_response_minutes=rng.choice([30, 240, 960]),
                      resolution_minutes=rng.choice([120, 1440, 5760])),
        ))
        effective = recorded + timedelta(minutes=rng.choice([0, 0, 90]))
        adoption = PolicyAdoption.adopt(number, policy, Stamp(recorded, recorded, "p"), effective_from=effective)
        found.extend(adoption.collect_events())
    return found


def build_events(plans, seed, adoptions: int = 0) -> list:
    """Several tickets' events in recording order; some steps are back-dated (late events); and
    ``adoptions`` policy versions."""
    rng = random.Random(seed)
    everything = []
    for index, (channel, steps) in enumerate(plans):
        opened = T0 + timedelta(minutes=rng.randrange(0, 3000))
        # openings recorded late, too, and some before the instant they name (a skewed clock or a
        # future-dated opening: the read side finds those apart, see ``ReadView.rows``)
        recorded = opened + timedelta(minutes=rng.randrange(-120, 600))
        ticket = Ticket.open(UUID(int=rng.getrandbits(128)), Stamp(opened, recorded, "p"), customer_id=f"c{index % 3}",
                             channel=channel, category=rng.choice(["a", "b"]), subject="s",
                             severity=rng.choice([None, None, Severity.GENERAL]))
        occurred, agents = opened, ["ana", "bo", "cy"]
        for name, minutes, lag, back_dated in steps:
            occurred += timedelta(minutes=minutes)
            recorded = max(recorded + timedelta(seconds=1), occurred + timedelta(minutes=lag))
            # A back-dated step occurred between the opening and the latest step: a late event.
            at = opened + (occurred - opened) * rng.random() if back_dated else occurred
            stamp = Stamp(at, recorded, "p")
            action = {
                "assign": lambda: ticket.assign(stamp, agent_id=rng.choice(agents)),
                "reply": lambda: ticket.record_interaction(stamp, channel=Channel.EMAIL, direction=Direction.OUTBOUND,
                                                           author=Author.AGENT, agent_id=rng.choice(agents),
                                                           duration_seconds=rng.choice([None, 30.0, 400.0])),
                "inbound": lambda: ticket.record_interaction(stamp, channel=Channel.CHAT, direction=Direction.INBOUND,
                                                             author=Author.CUSTOMER),
                "wait": lambda: ticket.wait_on_customer(stamp),
                "resume": lambda: ticket.resume(stamp),
                "transfer": lambda: ticket.transfer(stamp, department=rng.choice(["x", "y"])),
                "escalate": lambda: ticket.escalate(stamp, reason="r"),
                "resolve": lambda: ticket.resolve(stamp, code="ok", summary="s", remedy=Remedy.PROCESS_FIX,
                                                  root_cause="rc"),
                "reopen": lambda: ticket.reopen(stamp),
                "close": lambda: ticket.close(stamp),
                "survey": lambda: ticket.survey(stamp, csat=rng.randint(1, 5), nps=rng.randint(0, 10),
                                                evaluated_agent_id=rng.choice(agents)),
                "triage": lambda: ticket.triage(stamp, priority=rng.choice(["P1", "P2", "P3"])),
            }[name]
            try:
                action()
            except DomainError:
                pass
        everything.extend(ticket.collect_events())
    everything.extend(policy_versions(rng, adoptions))
    everything.sort(key=lambda e: (e.recorded_at, str(e.ticket_id), e.version))
    return everything

"""Realistic synthetic traffic written straight through the domain, many tickets per save (the
fast path the library offers), for benchmarks that need a large log quickly."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from uuid import UUID

from domain.application import ServiceTrail
from domain.ticket import Ticket
from domain.values import Author, Channel, Direction, Remedy, Stamp

CATEGORIES = ["billing", "delivery", "account", "technical", "returns", "warranty"]
REGIONS = ["north", "south", "east", "west", "central"]
AGENTS = [f"agent-{n:02d}" for n in range(40)]


def ticket_history(rng: random.Random, ticket_id: UUID, start: datetime, events: int) -> Ticket:
    """One ticket with about ``events`` events: open, assign, interactions, resolve, survey, close."""
    moment = start
    step = lambda minutes: Stamp(moment, moment, "bench")  # noqa: E731
    ticket = Ticket.open(ticket_id, step(0), customer_id=f"cust-{rng.randrange(20_000)}",
                         channel=rng.choice(list(Channel)), category=rng.choice(CATEGORIES),
                         subject="help", region=rng.choice(REGIONS),
                         severity=rng.choice([None, None, None, "general", "major"]))
    agent = rng.choice(AGENTS)
    moment += timedelta(minutes=rng.randrange(1, 120))
    ticket.assign(step(0), agent_id=agent, team="t1")
    for _ in range(max(0, events - 5)):
        moment += timedelta(minutes=rng.randrange(1, 240))
        if rng.random() < 0.5:
            ticket.record_interaction(step(0), channel=Channel.EMAIL, direction=Direction.OUTBOUND,
                                      author=Author.AGENT, agent_id=agent, body="reply")
        else:
            ticket.record_interaction(step(0), channel=Channel.EMAIL, direction=Direction.INBOUND,
                                      author=Author.CUSTOMER, body="question")
    moment += timedelta(hours=rng.randrange(1, 48))
    ticket.resolve(step(0), code="fixed", summary="done", remedy=Remedy.PROCESS_FIX, root_cause="bug")
    moment += timedelta(hours=1)
    ticket.survey(step(0), csat=rng.randint(1, 5), nps=rng.randint(0, 10))
    moment += timedelta(days=7)
    ticket.close(step(0))
    return ticket


def fill(app: ServiceTrail, events: int, *, seed: int = 7, per_ticket: int = 10, chunk: int = 500,
         start: datetime = datetime(2026, 1, 1, tzinfo=timezone.utc), span: timedelta | None = None) -> int:
    """Appends about ``events`` ticket events; returns how many were written. Tickets open one
    every 10/7 minutes, or evenly over ``span`` when given (e.g. every ticket within one month)."""
    rng = random.Random(seed)
    step = timedelta(minutes=1 / 7) if span is None else span / events
    written, pending = 0, []
    while written < events:
        opened = start + (timedelta(minutes=written // 7) if span is None else step * written)
        ticket = ticket_history(rng, UUID(int=rng.getrandbits(128)), opened, per_ticket)
        written += ticket.version
        pending.append(ticket)
        if len(pending) >= chunk:
            app.save(*pending)
            pending.clear()
    if pending:
        app.save(*pending)
    return written

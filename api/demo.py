"""A realistic month of service traffic for the demo: channels, categories, regions, a roster of
agents with different skills and speeds, surveys, complaints of both severities, transfers,
escalations, a weekly pattern and a few hotspots. Deterministic for a seed.

Tickets are written through the service layer's use cases (the same path as every other writer:
idempotency, the future-skew check, the vault), 500 tickets per ``batch()`` (the fast path of the
event store); the month is history written at once: its missed deadlines are facts, and the SLA watcher takes no
action on them (README, "Facts versus actions"); it acts only on deadlines that fall due later.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from consumers.importers.bulk_read import stored_events_of
from domain import commands
from domain.application import ServiceTrail
from domain.errors import DomainError
from domain.idempotency import idempotency_record_id
from domain.values import Author, Channel, Direction, Remedy

CATEGORIES = ["billing", "delivery", "account", "technical", "returns", "warranty"]
REGIONS = ["north", "south", "east", "west", "central"]
CHANNELS = [(Channel.EMAIL, 30), (Channel.PHONE, 25), (Channel.CHAT, 20), (Channel.WEB, 10),
            (Channel.MESSAGING, 6), (Channel.SOCIAL, 3), (Channel.BOT, 6)]
WEEKDAY_WEIGHT = [1.0, 1.1, 1.0, 0.95, 0.9, 0.35, 0.25]  # Monday … Sunday
DEMO = commands.CommandContext(actor="system:demo")


@dataclass(frozen=True)
class DemoAgent:
    agent_id: str
    team: str
    skills: tuple[str, ...]
    speed: float  # < 1 is faster than average


def roster(rng: random.Random) -> list[DemoAgent]:
    names = ["ana", "bo", "chen", "dee", "eli", "fay", "gus", "hana", "ivo", "jun", "kai", "lea"]
    agents = []
    for index, name in enumerate(names):
        skills = tuple(sorted(rng.sample(CATEGORIES, 3)))
        agents.append(DemoAgent(name, f"team-{index % 3 + 1}", skills, rng.uniform(0.6, 1.6)))
    return agents


def generate(app: ServiceTrail, *, tickets: int, seed: int, now: datetime,
             progress: Callable[[int], None] | None = None) -> int:
    """Writes about ``tickets`` tickets of the 30 days before ``now``; returns the events written."""
    rng = random.Random(seed)
    agents = roster(rng)
    for agent in agents:
        app.register_agent(commands.RegisterAgent(agent_id=agent.agent_id, name=agent.agent_id.title(), team=agent.team,
                                           skills=agent.skills, languages=("en",)),
                           commands.CommandContext(actor="system:demo"))
    start = (now - timedelta(days=30)).replace(hour=0, minute=0, second=0, microsecond=0)  # days start at midnight
    hotspot_days = {rng.randrange(5, 28) for _ in range(3)}
    hotspot = (rng.choice(CATEGORIES), rng.choice(REGIONS))
    days = [start + timedelta(days=d) for d in range(30)]
    weights = [WEEKDAY_WEIGHT[d.weekday()] * (3.0 if i in hotspot_days else 1.0) for i, d in enumerate(days)]
    written = 0
    for first in range(0, tickets, 500):
        numbers = range(first, min(first + 500, tickets))
        with app.batch():  # 500 tickets per transaction: the fast path of the event store
            app.prefetch([idempotency_record_id(_key(seed, n)) for n in numbers],  # one query: none yet written
                         lambda ids: stored_events_of(app.recorder, ids))
            for n in numbers:
                day_index = rng.choices(range(30), weights)[0]
                opened = days[day_index] + timedelta(hours=rng.triangular(7, 20, 11), minutes=rng.randrange(60))
                if opened >= now - timedelta(hours=1):
                    continue
                in_hotspot = day_index in hotspot_days and rng.random() < 0.5
                written += _ticket(app, rng, _key(seed, n), opened, now, agents, hotspot if in_hotspot else None)
        if progress and first + 500 < tickets:
            progress(first + 500)
    if progress:
        progress(tickets)
    return written


def _key(seed: int, n: int) -> str:
    """The idempotency key of the demo's ``n``-th ticket (its id follows: same seed, same ids)."""
    return f"demo:{seed}:{n}"


def _ticket(app: ServiceTrail, rng: random.Random, key: str, opened: datetime, now: datetime, agents: list[DemoAgent],
            hotspot: tuple[str, str] | None) -> int:
    """Writes one ticket's life through the use cases; returns its events (its version)."""
    channel = rng.choices([ch for ch, _ in CHANNELS], [w for _, w in CHANNELS])[0]
    category, region = hotspot or (rng.choice(CATEGORIES), rng.choice(REGIONS))
    complaint = rng.random() < (0.35 if hotspot else 0.08)
    severity = ("major" if rng.random() < 0.25 else "general") if complaint else None
    tier = rng.choices(["standard", "premium", "vip"], [80, 17, 3])[0]
    moment = opened
    outcome = app.open_ticket(
        commands.OpenTicket(occurred_at=moment, customer_id=f"cust-{rng.randrange(2500):04d}", channel=channel,
                     category=category, subject=f"{category} issue", region=region,
                     priority=rng.choices(["P1", "P2", "P3", "P4"], [5, 25, 50, 20])[0], severity=severity,
                     customer_tier=tier, language="en"),
        commands.CommandContext(actor="system:demo", idempotency_key=key))
    ticket_id, version = outcome.ticket_id, outcome.version

    def do(command: type[commands.TicketCommand], **fields: Any) -> None:
        nonlocal version
        version = app.handle(command(ticket_id=ticket_id, occurred_at=moment, **fields), DEMO).version

    if channel == Channel.BOT and not severity and rng.random() < 0.45:  # deflected by the bot
        moment += timedelta(minutes=rng.randrange(1, 10))
        do(commands.RecordInteraction, channel=Channel.BOT, direction=Direction.OUTBOUND, author=Author.BOT)
        do(commands.ResolveTicket, code="self_service", summary="answered by the assistant")
        return version
    skilled = [a for a in agents if category in a.skills] or agents
    agent = rng.choice(skilled)

    def advance(minutes: float) -> bool:
        nonlocal moment
        moment += timedelta(minutes=minutes * agent.speed)
        return moment < now

    try:
        if not advance(rng.expovariate(1 / 20)):
            return version
        do(commands.AssignTicket, agent_id=agent.agent_id, team=agent.team)
        if not advance(rng.expovariate(1 / 90)):
            return version
        do(commands.RecordInteraction, channel=channel, direction=Direction.OUTBOUND, author=Author.AGENT,
           agent_id=agent.agent_id, duration_seconds=rng.randrange(60, 900))
        for _ in range(rng.choices([0, 1, 2, 3], [55, 25, 13, 7])[0]):
            if not advance(rng.expovariate(1 / 240)):
                return version
            do(commands.RecordInteraction, channel=channel, direction=Direction.INBOUND, author=Author.CUSTOMER)
            if not advance(rng.expovariate(1 / 60)):
                return version
            do(commands.RecordInteraction, channel=channel, direction=Direction.OUTBOUND, author=Author.AGENT,
               agent_id=agent.agent_id, duration_seconds=rng.randrange(60, 600))
        if rng.random() < 0.12:
            if not advance(30):
                return version
            do(commands.TransferTicket, department=rng.choice(["billing", "logistics", "technical-support"]))
            agent = rng.choice(agents)
            if not advance(rng.expovariate(1 / 120)):
                return version
            do(commands.AssignTicket, agent_id=agent.agent_id, team=agent.team)
        if rng.random() < 0.06:
            if not advance(60):
                return version
            do(commands.EscalateTicket, reason="customer asked for a manager")
        if rng.random() < 0.15 or not advance(rng.expovariate(1 / 900)):
            return version  # still open: the backlog
        remedy = {"remedy": rng.choice(list(Remedy)), "root_cause": rng.choice(["defect", "process", "carrier"])} \
            if severity else {}
        do(commands.ResolveTicket, code="solved", summary="resolved", **remedy)
        if rng.random() < 0.07 and advance(rng.expovariate(1 / 1440)):
            do(commands.ReopenTicket, reason="not fixed")
            if not advance(rng.expovariate(1 / 600)):
                return version
            do(commands.ResolveTicket, code="solved", summary="resolved again", **remedy)
        if rng.random() < 0.45 and advance(rng.expovariate(1 / 600)):
            score = min(5, max(1, round(rng.gauss(5.3 - 0.9 * agent.speed, 0.9))))
            do(commands.RecordSurvey, csat=score, nps=min(10, max(0, round(rng.gauss(score * 2 - 0.5, 1.5)))))
        if advance(7 * 24 * 60):
            do(commands.CloseTicket)
    except DomainError:
        pass  # a generated step the lifecycle refuses is simply not taken
    return version

"""A small service day whose every KPI is worked out by hand (see tests/unit/test_measures.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import uuid4

from domain.ticket import Ticket
from domain.values import Author, Channel, Direction, Remedy, Severity, Stamp

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
MONTH = (datetime(2026, 3, 1, tzinfo=timezone.utc), datetime(2026, 4, 1, tzinfo=timezone.utc))


def at(minutes: float) -> Stamp:
    moment = T0 + timedelta(minutes=minutes)
    return Stamp(moment, moment, "test")


def new(channel: Channel = Channel.EMAIL, **details) -> Ticket:
    return Ticket.open(uuid4(), at(0), customer_id="c", channel=channel, category="billing", subject="s", **details)


def reply(ticket: Ticket, minutes: float, agent: str, seconds: float | None = None) -> None:
    ticket.record_interaction(at(minutes), channel=Channel.EMAIL, direction=Direction.OUTBOUND,
                              author=Author.AGENT, agent_id=agent, duration_seconds=seconds)


def scenario() -> list[Ticket]:
    t1 = new()
    t1.assign(at(5), agent_id="ana")
    reply(t1, 30, "ana", 600)
    t1.resolve(at(60), code="ok", summary="done")
    t1.survey(at(70), csat=5, nps=10)

    t2 = new()
    t2.assign(at(10), agent_id="bo")
    reply(t2, 20, "bo", 300)
    t2.wait_on_customer(at(30))
    t2.record_interaction(at(150), channel=Channel.EMAIL, direction=Direction.INBOUND, author=Author.CUSTOMER)
    t2.resolve(at(180), code="ok", summary="done")
    t2.survey(at(200), csat=3, nps=7)

    t3 = new()
    t3.assign(at(0), agent_id="ana")
    t3.triage(at(10), severity=Severity.GENERAL)
    t3.transfer(at(30), department="billing")
    t3.assign(at(40), agent_id="cy")
    reply(t3, 50, "cy")
    t3.resolve(at(90), code="ok", summary="done", remedy=Remedy.COMPENSATION, root_cause="fee")
    t3.survey(at(100), csat=4, nps=6)

    t4 = new()
    t4.assign(at(1), agent_id="bo")
    reply(t4, 15, "bo")
    t4.resolve(at(60), code="ok", summary="done")
    t4.reopen(at(120), reason="again")
    t4.resolve(at(240), code="ok", summary="really")

    t5 = new(severity=Severity.MAJOR)
    t5.assign(at(1), agent_id="ana")
    t5.escalate(at(2), reason="major complaint", level=3)

    t6 = new(channel=Channel.BOT)
    t6.record_interaction(at(1), channel=Channel.BOT, direction=Direction.OUTBOUND, author=Author.BOT)
    t6.resolve(at(5), code="self_service", summary="FAQ")

    t7 = new(channel=Channel.BOT)
    t7.assign(at(10), agent_id="ana")
    reply(t7, 20, "ana", 120)
    return [t1, t2, t3, t4, t5, t6, t7]




def every_event_type() -> Ticket:
    """One complaint that goes through every event type once or more."""
    t = new(severity=Severity.MAJOR)
    t.triage(at(1), priority="P1")
    t.assign(at(2), agent_id="ana")
    reply(t, 3, "ana", 60)
    t.wait_on_customer(at(4))
    t.resume(at(5))
    t.transfer(at(6), department="tech")
    t.route(at(7), agent_id="bo", team="tech", reason="skilled in billing, least open load (0)")
    t.escalate(at(8), reason="vip")
    t.resolve(at(9), code="ok", summary="done", remedy=Remedy.REPLACEMENT, root_cause="defect")
    t.reopen(at(10))
    t.resolve(at(11), code="ok", summary="again", remedy=Remedy.REPLACEMENT, root_cause="defect")
    t.close(at(12))
    t.survey(at(13), csat=4, nps=8, comment="fine")
    return t

"""Escalations per level and reason in the monthly report (``projections.report.escalations_by_reason``):
the SLA watcher's grouped by the deadline kind it escalated for (or complaint routing), a person's by
the reason as written, the most frequent reasons of people per level listed and the rest together,
only escalations that occurred in the month."""

from __future__ import annotations

from projections import report as r
from projections.ticket_state.fold import TicketRow

LO, HI = "2026-03-01T00:00:00.000000Z", "2026-04-01T00:00:00.000000Z"
IN, BEFORE = "2026-03-10T09:00:00.000000Z", "2026-02-27T09:00:00.000000Z"


def row(n: int, *escalations: tuple) -> TicketRow:
    return TicketRow(ticket_id=f"t{n}", version=9, status="opened", customer_id="c", channel="web",
                     category="billing", opened_at="2026-02-20T00:00:00.000000Z", escalations=escalations)


def test_escalations_are_counted_per_level_and_reason():
    rows = [
        row(1, (1, IN, True, 3, "resolution deadline breached", "resolution#0"),
            (2, IN, False, 5, " customer asked for a manager ", None)),
        row(2, (1, IN, True, 4, "resolution deadline breached", "resolution#1"),
            (2, IN, True, 6, "first_response deadline breached", "first_response#0")),
        row(3, (3, IN, True, 2, "major complaint routed by severity", None),
            (2, IN, False, 3, "customer asked for a manager", None)),
        row(4, (2, BEFORE, False, 2, "before the month", None)),  # not in the month
    ]
    assert r.escalations_by_reason(rows, LO, HI) == [
        {"level": 1, "trigger": "automatic", "deadline_kind": "resolution", "reason": None, "escalations": 2},
        {"level": 2, "trigger": "automatic", "deadline_kind": "first_response", "reason": None, "escalations": 1},
        {"level": 2, "trigger": "manual", "deadline_kind": None, "reason": "customer asked for a manager",
         "escalations": 2},
        {"level": 3, "trigger": "automatic", "deadline_kind": None, "reason": None, "escalations": 1},
    ]


def test_the_reasons_of_people_beyond_the_most_frequent_are_counted_together():
    many = [row(n, *[(1, IN, False, 2 + k, f"reason {n:02d}", None) for k in range(1 + (n < 3))])
            for n in range(r.REASONS_PER_LEVEL + 4)]
    table = r.escalations_by_reason(many, LO, HI)
    assert [e["reason"] for e in table[:2]] == ["reason 00", "reason 01"]  # two each, the most frequent first
    assert len(table) == r.REASONS_PER_LEVEL + 1 and table[-1]["reason"] == r.OTHER_REASONS
    assert table[-1]["escalations"] == 4  # the four reasons not listed, one escalation each
    assert sum(e["escalations"] for e in table) == sum(len(x.escalations) for x in many)


def test_each_level_and_reason_table_adds_up_to_the_level_and_trigger_table():
    rows = [row(n, (1 + n % 3, IN, n % 2 == 0, 2, f"why {n % 4}", "resolution#0" if n % 2 == 0 else None))
            for n in range(40)]
    by_reason = r.escalations_by_reason(rows, LO, HI)
    for level in r.escalations_by_level(rows, LO, HI):
        mine = [e for e in by_reason if e["level"] == level["level"]]
        assert sum(e["escalations"] for e in mine if e["trigger"] == "automatic") == level["automatic"]
        assert sum(e["escalations"] for e in mine if e["trigger"] == "manual") == level["manual"]

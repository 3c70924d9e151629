"""Read-side queries. Each takes a ``ReadView``: the read side at one moment (now, or as of T as
known at K), so one code path answers "now" and "as it stood then", from indexed state."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone, tzinfo
from typing import Any

from projections import agent_performance, customer_history, measures, rollup_reader
from projections.moment import InvalidQuery, period_bounds
from projections.read_side import ReadView, RowFilter, iso_after
from projections.ticket_state.fold import STATUSES, TicketRow, iso

MAX_PAGE = 500
LISTABLE_STATUSES = ("open", *sorted(STATUSES))

__all__ = ["InvalidQuery", "MAX_PAGE", "LISTABLE_STATUSES", "list_tickets", "open_rows", "kpi_report",
           "agent_report", "leaderboard", "customer_report"]


def encode_cursor(row: TicketRow) -> str:
    return base64.urlsafe_b64encode(json.dumps([row.opened_at, row.ticket_id]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        opened_at, ticket_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return str(opened_at), str(ticket_id)
    except (ValueError, TypeError):
        raise InvalidQuery("cursor", "cursor is not one this API returned") from None


def list_tickets(view: ReadView, *, status: str | None = None, agent_id: str | None = None,
                 priority: str | None = None, breached: bool | None = None, limit: int = 50,
                 cursor: str | None = None) -> dict[str, Any]:
    """Tickets newest first, filtered, with an opaque cursor to the next page."""
    if status is not None and status not in LISTABLE_STATUSES:
        raise InvalidQuery("status", f"status must be one of {', '.join(LISTABLE_STATUSES)}")
    where = RowFilter(status=status, agent_id=agent_id, priority=priority, breached=breached,
                      after_cursor=decode_cursor(cursor) if cursor else None)
    rows = view.rows(where, newest_first=True, limit=limit + 1)
    page = rows[:limit]
    return {
        "tickets": [row.as_dict() for row in page],
        "next_cursor": encode_cursor(page[-1]) if len(rows) > limit else None,
    }


def open_rows(view: ReadView) -> list[TicketRow]:
    return view.rows(RowFilter(status="open"))


def rows_touching(view: ReadView, start: datetime, end: datetime) -> list[TicketRow]:
    """Every ticket opened before ``end`` with an event that occurred at or after ``start``
    (business time: the latest occurrence, whatever order the events were recorded in)."""
    return view.rows(RowFilter(opened_before=iso(end), active_since=iso(start)))


def backlog_counts(view: ReadView, end: datetime, group_by: str | None) -> dict[str, int]:
    """Tickets open at the end of a window (``end``, or the view's ``as_of`` when earlier), as
    known at the view's ``known_at``, per group: the backlog, counted from the ``open`` facts
    (their roll-up by day, ``rollup_reader.backlog``; the tickets with late events folded)."""
    at = end if view.moment.as_of is None or end < view.moment.as_of else view.moment.as_of
    moment = view.at(view.moment.at(at))
    found: dict[str, int] = {}
    for value, number in rollup_reader.backlog(moment, iso(at), view.moment.known_at_text, group_by).items():
        if number:
            key = measures.group_key(value, group_by)
            found[key] = found.get(key, 0) + number
    position = measures.GROUPED.get(group_by or "")
    for _ticket, fact in moment.folded_facts(("open",), None, None):
        key = measures.group_key(None if position is None else fact[position], group_by)
        found[key] = found.get(key, 0) + 1
    return {key: number for key, number in found.items() if number}


def kpi_report(view: ReadView, start: datetime, end: datetime, group_by: str | None,
               now: datetime | None = None, *, backlog: bool = True) -> dict[str, Any]:
    """KPIs over ``[start, end)`` at the view's moment (``now``: the instant a live view describes;
    ``backlog=False`` leaves the backlog out, ``None``: a count at one instant that a trend of
    months does not show, and the costliest part of a month's KPIs at a moment).

    The local days and months wholly inside the window come from the roll-ups, those changed
    after the moment with the changes undone; the rest is counted from fact rows
    (``rollup_reader``); the tickets with late events are folded at the moment instead of either."""
    if end <= start:
        raise InvalidQuery("to", "to must be after from")
    if group_by and group_by not in measures.DIMENSIONS:
        raise InvalidQuery("group_by", f"group_by must be one of {', '.join(sorted(measures.DIMENSIONS))}")
    lo, hi = iso(start), iso(end)
    described_at = min(end, view.moment.instant(now or end))
    described = iso(described_at)
    coverage = rollup_reader.cover(view, start, end, described_at)
    tallies: dict[str, measures.KpiTally] = {}
    if coverage.cells:
        scope = group_by or "all"
        measures.count_cells(tallies, rollup_reader.cell_totals(view, coverage, scope, measures.KPI_FACTS),
                             rollup_reader.cell_sketches(view, coverage, scope), group_by)
        measures.count_facts(tallies, (fact for _ticket, fact in rollup_reader.late_facts_in_cells(
            view, coverage, measures.KPI_FACTS)), group_by, described, sign=-1)
    bound = view.counts_until()
    if bound is not None:
        # Nothing after the moment's bound counts, and a running deadline only once due by the
        # instant described: the fact-by-fact ranges end at the later of the two.
        limit = iso_after(max(bound, described))
        coverage = coverage._replace(ranges=[(a, min(b, limit)) for a, b in coverage.ranges if a < limit])
    if coverage.ranges or coverage.undone:
        scope = group_by or "all"
        measures.count_cells(tallies, *rollup_reader.range_cells(view, coverage.ranges, scope, measures.KPI_FACTS,
                                                                 described, coverage.undone), group_by)
    measures.count_facts(tallies, (fact for _ticket, fact in view.folded_facts(measures.KPI_FACTS, lo, hi)),
                         group_by, described)
    open_count = backlog_counts(view, end, group_by) if backlog else {}
    groups = measures.finish(tallies, open_count, keep=None if group_by else "all")
    if not backlog:
        for figures in groups.values():
            figures["backlog"] = None
    return {"from": iso(start), "to": iso(end), "group_by": group_by, "groups": groups}


def agent_report(view: ReadView, agent_id: str, period: str, weights: dict[str, float],
                 zone: tzinfo = timezone.utc) -> dict[str, Any]:
    start, end = period_bounds(period, zone)
    collected = evaluation_facts(view, start, end)
    report = agent_performance.evaluate(agent_id, collected.get(agent_id, agent_performance.AgentTally()), weights)
    return {"period": period, "from": iso(start), "to": iso(end), **report}


def leaderboard(view: ReadView, period: str, weights: dict[str, float], limit: int = 100,
                zone: tzinfo = timezone.utc) -> dict[str, Any]:
    start, end = period_bounds(period, zone)
    board = agent_performance.ranked(evaluation_facts(view, start, end), weights)
    return {"period": period, "from": iso(start), "to": iso(end), "agents": board[:limit]}


AGENT_COUNTED = ("escalation", "reopen", "complaint")
AGENT_VALUED = ("resolved", "first_response", "survey")


def evaluation_facts(view: ReadView, start: datetime, end: datetime) -> dict[str, agent_performance.AgentTally]:
    """What each agent did in ``[start, end)`` at the view's moment: from the roll-ups where a
    local day or month of the window is unchanged since the moment, fact by fact elsewhere, and
    folded for the tickets with late events (``rollup_reader``).

    "Tickets handled" is a distinct count: for a window that is one local month it counts the
    ``handled`` facts (one per ticket, agent and month); for any other window, the distinct
    tickets of the assignments in it."""
    lo, hi = iso(start), iso(end)
    calendar = view.calendar
    month = calendar.periods(lo)[1]
    whole_month = calendar.bounds("month", month) == (start, end)
    counted_kinds = (*AGENT_COUNTED, "handled") if whole_month else AGENT_COUNTED
    kinds = (*counted_kinds, *AGENT_VALUED)
    tallies: dict[str, agent_performance.AgentTally] = {}

    def of(agent: str) -> agent_performance.AgentTally:
        found = tallies.get(agent)
        if found is None:
            found = tallies[agent] = agent_performance.AgentTally()
        return found

    coverage = rollup_reader.cover(view, start, end)
    if coverage.cells:
        for agent, kind, _detail, *totals in rollup_reader.cell_totals(view, coverage, "agent", kinds):
            of(agent).add_totals(kind, totals)
        measures.add_sketches(rollup_reader.cell_sketches(view, coverage, "agent"), of)
        for ticket, fact in rollup_reader.late_facts_in_cells(view, coverage, kinds):
            if fact.agent:
                of(fact.agent).add(ticket, fact, -1)
    if coverage.ranges or coverage.undone:
        totals, sketches = rollup_reader.range_cells(view, coverage.ranges, "agent", kinds, undone=coverage.undone)
        for agent, kind, _detail, *sums in totals:
            if agent:
                of(agent).add_totals(kind, sums)
        measures.add_sketches((row for row in sketches if row[0]), of)
    for ticket, fact in view.folded_facts(kinds, lo, hi):
        if fact.agent:
            of(fact.agent).add(ticket, fact)
    if not whole_month:
        handled = view.select_facts("agent, count(DISTINCT ticket_id)", ("assigned",), lo, hi, group_by="agent")
        for agent, number in handled.rows:
            if agent:
                of(agent).handled += number
        for ticket, fact in handled.folded:
            if fact.agent:
                of(fact.agent).add(ticket, fact)
    return tallies


def customer_report(view: ReadView, customer_id: str) -> dict[str, Any] | None:
    return customer_history.history(customer_id, view.rows(RowFilter(customer_id=customer_id)))

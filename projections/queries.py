"""Read-side queries. Each takes a ``ReadView``: the read side at one moment (now, or as of T as
known at K), so one code path answers "now" and "as it stood then", from indexed state."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone, tzinfo
from typing import Any

from projections import agent_performance, customer_history, measures
from projections.moment import InvalidQuery, period_bounds
from projections.read_side import ReadView, RowFilter
from projections.ticket_state.fact_rows import Fact
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


def open_facts(view: ReadView, end: datetime) -> list[Fact]:
    """The ``open`` fact of each ticket open at the end of a window (``end``, or the view's
    ``as_of`` when earlier), as known at the view's ``known_at``: the backlog."""
    at = end if view.moment.as_of is None or end < view.moment.as_of else view.moment.as_of
    return [fact for _ticket, fact in view.at(view.moment.at(at)).facts(("open",))]


def backlog_rows(view: ReadView, end: datetime) -> list[TicketRow]:
    """Tickets open at the end of a window (``end``, or the view's ``as_of`` when earlier), as
    known at the view's ``known_at``."""
    at = end if view.moment.as_of is None or end < view.moment.as_of else view.moment.as_of
    return view.at(view.moment.at(at)).rows(RowFilter(status="open"))


def kpi_report(view: ReadView, start: datetime, end: datetime, group_by: str | None,
               now: datetime | None = None) -> dict[str, Any]:
    """KPIs over ``[start, end)`` at the view's moment (``now``: the instant a live view describes)."""
    if end <= start:
        raise InvalidQuery("to", "to must be after from")
    if group_by and group_by not in measures.DIMENSIONS:
        raise InvalidQuery("group_by", f"group_by must be one of {', '.join(sorted(measures.DIMENSIONS))}")
    lo, hi = iso(start), iso(end)
    described = iso(min(end, view.moment.instant(now or end)))
    facts = (fact for _ticket, fact in view.facts(measures.KPI_FACTS, lo, hi))
    groups = measures.kpis_of_facts(facts, group_by, open_facts(view, end), described)
    return {"from": iso(start), "to": iso(end), "group_by": group_by, "groups": groups}


def agent_report(view: ReadView, agent_id: str, period: str, weights: dict[str, float],
                 zone: tzinfo = timezone.utc) -> dict[str, Any]:
    start, end = period_bounds(period, zone)
    collected = agent_performance.collect_facts(view.facts(agent_performance.EVALUATION_FACTS, iso(start), iso(end)))
    report = agent_performance.evaluate(agent_id, collected.get(agent_id, agent_performance.no_facts()), weights)
    return {"period": period, "from": iso(start), "to": iso(end), **report}


def leaderboard(view: ReadView, period: str, weights: dict[str, float], limit: int = 100,
                zone: tzinfo = timezone.utc) -> dict[str, Any]:
    start, end = period_bounds(period, zone)
    board = agent_performance.ranked(
        agent_performance.collect_facts(view.facts(agent_performance.EVALUATION_FACTS, iso(start), iso(end))), weights)
    return {"period": period, "from": iso(start), "to": iso(end), "agents": board[:limit]}


def customer_report(view: ReadView, customer_id: str) -> dict[str, Any] | None:
    return customer_history.history(customer_id, view.rows(RowFilter(customer_id=customer_id)))

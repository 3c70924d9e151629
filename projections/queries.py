"""Read-side queries. Each takes a transaction on a state store, live or replayed as of a moment
(see ``time_travel``), so one code path answers "now" and "as it stood at T"."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from projections import agent_performance, customer_history, measures
from projections.store import Transaction
from projections.ticket_state.fold import OPEN_STATUSES, TicketRow, iso
from projections.ticket_state.store import TABLE, read_rows

MAX_PAGE = 500


class InvalidQuery(ValueError):
    """A query parameter is out of its domain; ``field`` names it."""

    def __init__(self, field: str, detail: str):
        super().__init__(detail)
        self.field = field


def encode_cursor(row: TicketRow) -> str:
    return base64.urlsafe_b64encode(json.dumps([row.opened_at, row.ticket_id]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        opened_at, ticket_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return str(opened_at), str(ticket_id)
    except (ValueError, TypeError):
        raise InvalidQuery("cursor", "cursor is not one this API returned") from None


def list_tickets(tx: Transaction, *, status: str | None = None, agent_id: str | None = None,
                 priority: str | None = None, breached: bool | None = None, limit: int = 50,
                 cursor: str | None = None) -> dict[str, Any]:
    """Tickets newest first, filtered, with an opaque cursor to the next page."""
    where, params = [], []
    if breached is not None:
        where.append("breached = ?")
        params.append(int(breached))
    if status == "open":
        where.append(f"status IN ({','.join('?' * len(OPEN_STATUSES))})")
        params.extend(sorted(OPEN_STATUSES))
    elif status:
        where.append("status = ?")
        params.append(status)
    if agent_id:
        where.append("assignee_id = ?")
        params.append(agent_id)
    if priority:
        where.append("priority = ?")
        params.append(priority)
    if cursor:
        opened_at, ticket_id = decode_cursor(cursor)
        where.append("(opened_at < ? OR (opened_at = ? AND ticket_id < ?))")
        params.extend([opened_at, opened_at, ticket_id])
    sql_where = " AND ".join(where) or "1 = 1"
    rows = read_rows(tx, f"{sql_where} ORDER BY opened_at DESC, ticket_id DESC LIMIT ?", (*params, limit + 1))
    page = rows[:limit]
    return {
        "tickets": [row.as_dict() for row in page],
        "next_cursor": encode_cursor(page[-1]) if len(rows) > limit else None,
    }


def open_rows(tx: Transaction) -> list[TicketRow]:
    return read_rows(tx, f"status IN ({','.join('?' * len(OPEN_STATUSES))})", tuple(sorted(OPEN_STATUSES)))


def rows_touching(tx: Transaction, start: datetime, end: datetime) -> list[TicketRow]:
    """Every row with something in ``[start, end)``, plus the open ones (for the backlog)."""
    open_marks = ",".join("?" * len(OPEN_STATUSES))
    return read_rows(
        tx, f"opened_at < ? AND (last_occurred_at >= ? OR status IN ({open_marks}))",
        (iso(end), iso(start), *sorted(OPEN_STATUSES)),
    )


def kpi_report(tx: Transaction, start: datetime, end: datetime, group_by: str | None) -> dict[str, Any]:
    if end <= start:
        raise InvalidQuery("to", "to must be after from")
    try:
        groups = measures.grouped_kpis(rows_touching(tx, start, end), start, end, group_by)
    except ValueError as bad:
        raise InvalidQuery("group_by", str(bad)) from None
    return {"from": iso(start), "to": iso(end), "group_by": group_by, "groups": groups}


def _period(period: str) -> tuple[datetime, datetime]:
    try:
        return measures.period_bounds(period)
    except ValueError as bad:
        raise InvalidQuery("period", str(bad)) from None


def agent_report(tx: Transaction, agent_id: str, period: str, weights: dict[str, float]) -> dict[str, Any]:
    start, end = _period(period)
    report = agent_performance.performance(rows_touching(tx, start, end), agent_id, start, end, weights)
    return {"period": period, **report}


def leaderboard(tx: Transaction, period: str, weights: dict[str, float], limit: int = 100) -> dict[str, Any]:
    start, end = _period(period)
    board = agent_performance.leaderboard(rows_touching(tx, start, end), start, end, weights)
    return {"period": period, "agents": board[:limit]}


def customer_report(tx: Transaction, customer_id: str) -> dict[str, Any] | None:
    return customer_history.history(customer_id, read_rows(tx, "customer_id = ?", (customer_id,)))


def ticket_row(tx: Transaction, ticket_id: str) -> TicketRow | None:
    rows = read_rows(tx, "ticket_id = ?", (ticket_id,), table=TABLE)
    return rows[0] if rows else None

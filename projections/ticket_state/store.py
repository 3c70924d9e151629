"""Rows of the ticket-state projection: indexed columns for filters, the whole row as JSON."""

from __future__ import annotations

import json
from typing import Any

from domain.events import TicketEvent
from projections.store import Transaction
from projections.ticket_state.fold import TicketRow, fold

TABLE = "ticket_state"


class TicketStateProjection:
    """The projector's handler for ticket state (a ``consumers.runtime.Handler``)."""

    name = "ticket_state"

    def setup(self, tx: Transaction) -> None:
        tx.execute(
            f"""CREATE TABLE IF NOT EXISTS {TABLE} (
                ticket_id TEXT PRIMARY KEY, version INTEGER NOT NULL, status TEXT NOT NULL,
                assignee_id TEXT, priority TEXT, opened_at TEXT NOT NULL, doc TEXT NOT NULL)"""
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_status ON {TABLE} (status, opened_at)")
        tx.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_assignee ON {TABLE} (assignee_id, opened_at)")

    def handle(self, tx: Transaction, events: list[TicketEvent]) -> None:
        ids = sorted({str(e.ticket_id) for e in events})
        rows: dict[str, TicketRow | None] = {
            ticket_id: TicketRow.from_dict(json.loads(doc))
            for ticket_id, doc in tx.fetch_in(f"SELECT ticket_id, doc FROM {TABLE} WHERE ticket_id IN ({{}})", ids)
        }
        for event in events:
            key = str(event.ticket_id)
            rows[key] = fold(rows.get(key), event)
        tx.executemany(
            f"INSERT INTO {TABLE} (ticket_id, version, status, assignee_id, priority, opened_at, doc) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ticket_id) DO UPDATE SET version = excluded.version, "
            "status = excluded.status, assignee_id = excluded.assignee_id, priority = excluded.priority, "
            "opened_at = excluded.opened_at, doc = excluded.doc",
            [
                (r.ticket_id, r.version, r.status, r.assignee_id, r.priority, r.opened_at,
                 json.dumps(r.as_dict()))
                for r in rows.values() if r is not None
            ],
        )

    def reset(self, tx: Transaction) -> None:
        tx.execute(f"DELETE FROM {TABLE}")


def read_ticket(tx: Transaction, ticket_id: str) -> dict[str, Any] | None:
    rows = tx.fetchall(f"SELECT doc FROM {TABLE} WHERE ticket_id = ?", (ticket_id,))
    return json.loads(rows[0][0]) if rows else None


def read_all(tx: Transaction) -> dict[str, dict[str, Any]]:
    return {tid: json.loads(doc) for tid, doc in tx.fetchall(f"SELECT ticket_id, doc FROM {TABLE}")}

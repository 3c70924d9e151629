"""Rows of the ticket-state projection: indexed columns for filters and periods, the row as JSON.

The table name is a parameter so that a rebuild can be built aside (``ticket_state__rebuild``)
and swapped in when complete, while queries keep reading the previous table.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from projections.store import Transaction
from projections.ticket_state.fold import TicketRow, fold_batch

TABLE = "ticket_state"
INDEXED = ("status", "assignee_id", "customer_id", "resolved_at", "surveyed_at", "last_occurred_at", "breached",
           "opened")
COLUMNS = ("ticket_id", "version", "status", "assignee_id", "priority", "customer_id", "opened_at",
           "resolved_at", "surveyed_at", "last_occurred_at", "breached", "doc")


class TicketStateProjection:
    """The projector's handler for ticket state (a ``consumers.runtime.Handler``)."""

    def __init__(self, table: str = TABLE, *, indexed: bool = True):
        self.table = self.name = table
        self.indexed = indexed  # a table built aside gets its indexes once, when swapped in

    def setup(self, tx: Transaction) -> None:
        t = self.table
        tx.execute(
            f"""CREATE TABLE IF NOT EXISTS {t} (
                ticket_id TEXT PRIMARY KEY, version INTEGER NOT NULL, status TEXT NOT NULL,
                assignee_id TEXT, priority TEXT, customer_id TEXT NOT NULL, opened_at TEXT NOT NULL,
                resolved_at TEXT, surveyed_at TEXT, last_occurred_at TEXT, breached INTEGER NOT NULL DEFAULT 0,
                doc TEXT NOT NULL)"""
        )
        if not self.indexed:
            return
        for column in INDEXED[:-1]:
            tx.execute(f"CREATE INDEX IF NOT EXISTS {t}_{column} ON {t} ({column}, opened_at)")
        tx.execute(f"CREATE INDEX IF NOT EXISTS {t}_opened ON {t} (opened_at, ticket_id)")

    def handle(self, tx: Transaction, events: list[dict[str, Any]]) -> None:
        by_ticket: dict[str, list[dict[str, Any]]] = {}
        for event in events:
            by_ticket.setdefault(event["ticket_id"], []).append(event)
        rows: dict[str, TicketRow] = {
            ticket_id: TicketRow.from_json(doc)
            for ticket_id, doc in tx.fetch_in(f"SELECT ticket_id, doc FROM {self.table} WHERE ticket_id IN ({{}})",
                                              sorted(by_ticket))
        }
        folded = [fold_batch(rows.get(ticket_id), ticket_events) for ticket_id, ticket_events in by_ticket.items()]
        write_rows(tx, self.table, (row for row in folded if row is not None))

    def reset(self, tx: Transaction) -> None:
        tx.execute(f"DELETE FROM {self.table}")

    def aside(self) -> TicketStateProjection:
        """The same projection into another table, for a rebuild that does not disturb readers."""
        return TicketStateProjection(f"{self.table}__rebuild", indexed=False)

    def adopt(self, tx: Transaction, rebuilt: TicketStateProjection) -> None:
        """Replaces this projection's table by the rebuilt one, atomically with the caller's tx."""
        for column in INDEXED:
            tx.execute(f"DROP INDEX IF EXISTS {rebuilt.table}_{column}")
        tx.execute(f"DROP TABLE IF EXISTS {self.table}")
        tx.execute(f"ALTER TABLE {rebuilt.table} RENAME TO {self.table}")
        self.setup(tx)
        tx.rename_consumer(rebuilt.name, self.name)


def write_rows(tx: Transaction, table: str, rows: Iterable[TicketRow]) -> None:
    tx.executemany(
        f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
        "ON CONFLICT (ticket_id) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:]),
        [
            (r.ticket_id, r.version, r.status, r.assignee_id, r.priority, r.customer_id, r.opened_at,
             r.resolved_at, r.surveyed_at, r.last_occurred_at, int(bool(r.sla_breaches)), r.to_json().decode())
            for r in rows
        ],
    )


def read_ticket(tx: Transaction, ticket_id: str, table: str = TABLE) -> dict[str, Any] | None:
    rows = tx.fetchall(f"SELECT doc FROM {table} WHERE ticket_id = ?", (ticket_id,))
    return orjson.loads(rows[0][0]) if rows else None


def read_all(tx: Transaction, table: str = TABLE) -> dict[str, dict[str, Any]]:
    return {tid: orjson.loads(doc) for tid, doc in tx.fetchall(f"SELECT ticket_id, doc FROM {table}")}


def read_rows(tx: Transaction, where: str = "", params: tuple = (), table: str = TABLE) -> list[TicketRow]:
    sql = f"SELECT doc FROM {table}" + (f" WHERE {where}" if where else "")
    return [TicketRow.from_json(doc) for (doc,) in tx.fetchall(sql, params)]

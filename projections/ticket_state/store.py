"""The ticket-state read model in three tables, written in the projector's transaction:

- ``ticket_state``: each ticket's current row (what "now" reads), indexed for filters and periods;
- ``ticket_versions``: the row after **every** version, with the business time (``occurred_at``)
  and the transaction time (``recorded_at``) of the event that made it, and those of the next
  version. A version is the answer for a moment (as of T, known at K) when it is visible and the
  next one is not: ``occurred_at <= T AND recorded_at <= K AND NOT (next visible)``. That is an
  indexed predicate, as XTDB resolves valid time and system time, so no request folds the log;
- ``ticket_anomalies``: tickets with a late event (one that occurred before an event recorded
  earlier, or, with skewed clocks, was recorded before it). For them the visible events at a
  moment need not be a prefix of the versions, so ``projections.read_side`` folds exactly those
  tickets' own events instead (few in practice: back-dated channel traffic).

Table names are parameters so that a rebuild is built aside (``…__rebuild``) and swapped in.
The rows carry SLA facts judged with the service policy (``projections.ticket_state.facts``);
the policy's fingerprint is part of the schema, so a changed policy rebuilds the projection.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import orjson

from domain.service_levels import ServicePolicy
from projections.store import Transaction
from projections.ticket_state.facts import SlaFacts, missed_deadlines
from projections.ticket_state.fold import TicketRow, versions

TABLE = "ticket_state"
SCHEMA_VERSION = 3  # 3: each escalation keeps its reason and deadline
# Columns that filters and windows use (the whole row is ``doc``).
FILTERED = ("status", "assignee_id", "priority", "customer_id", "opened_at", "resolved_at", "activity_at", "breached")
STATE_COLUMNS = ("ticket_id", "version", *FILTERED, "doc")
VERSION_COLUMNS = ("ticket_id", "version", "occurred_at", "recorded_at", "next_occurred_at", "next_recorded_at",
                   *FILTERED, "doc")
STATE_INDEXES = {"status": "status, opened_at", "assignee": "assignee_id, opened_at",
                 "customer": "customer_id, opened_at", "resolved": "resolved_at", "activity": "activity_at",
                 "breached": "breached, opened_at", "opened": "opened_at, ticket_id"}
VERSION_INDEXES = {"occurred": "occurred_at", "customer": "customer_id", "opened": "opened_at, ticket_id",
                   "recorded": "recorded_at"}


def _row_values(row: TicketRow) -> tuple[Any, ...]:
    return (row.status, row.assignee_id, row.priority, row.customer_id, row.opened_at, row.resolved_at,
            row.activity_at, int(is_breached(row)), row.to_json().decode())


def is_breached(row: TicketRow) -> bool:
    """A breach notice was recorded, or a deadline was met after it was due."""
    return bool(row.sla_breaches) or bool(missed_deadlines(row))


def policy_fingerprint(policy: ServicePolicy) -> str:
    return hashlib.sha256(policy.model_dump_json().encode()).hexdigest()[:16]


class TicketStateProjection:
    """The projector's handler for ticket state (a ``consumers.runtime.Handler``)."""

    def __init__(self, table: str = TABLE, *, policy: ServicePolicy | None = None, indexed: bool = True):
        self.table = self.name = table
        self.versions_table = table.replace(TABLE, "ticket_versions", 1)
        self.anomalies_table = table.replace(TABLE, "ticket_anomalies", 1)
        self.policy = policy or ServicePolicy()
        self.judge = SlaFacts(self.policy)
        self.indexed = indexed  # a table built aside gets its indexes once, when swapped in

    @property
    def tables(self) -> tuple[str, str, str]:
        return self.table, self.versions_table, self.anomalies_table

    @property
    def schema(self) -> str:
        return f"{SCHEMA_VERSION}:{policy_fingerprint(self.policy)}"

    def setup(self, tx: Transaction) -> None:
        tx.execute("CREATE TABLE IF NOT EXISTS projection_schemas (name TEXT PRIMARY KEY, schema TEXT NOT NULL)")
        stored = tx.fetchall("SELECT schema FROM projection_schemas WHERE name = ?", (self.name,))
        if not stored or stored[0][0] != self.schema:  # an older shape or another policy: start over
            for table in self.tables:
                tx.execute(f"DROP TABLE IF EXISTS {table}")
            tx.forget(self.name)
            tx.execute("INSERT INTO projection_schemas (name, schema) VALUES (?, ?) "
                       "ON CONFLICT (name) DO UPDATE SET schema = excluded.schema", (self.name, self.schema))
        filtered = """status TEXT NOT NULL, assignee_id TEXT, priority TEXT, customer_id TEXT NOT NULL,
                      opened_at TEXT NOT NULL, resolved_at TEXT, activity_at TEXT NOT NULL,
                      breached INTEGER NOT NULL, doc TEXT NOT NULL"""
        tx.execute(f"""CREATE TABLE IF NOT EXISTS {self.table} (
                       ticket_id TEXT PRIMARY KEY, version INTEGER NOT NULL, {filtered})""")
        tx.execute(f"""CREATE TABLE IF NOT EXISTS {self.versions_table} (
                       ticket_id TEXT NOT NULL, version INTEGER NOT NULL,
                       occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL,
                       next_occurred_at TEXT, next_recorded_at TEXT, {filtered},
                       PRIMARY KEY (ticket_id, version))""")
        tx.execute(f"""CREATE TABLE IF NOT EXISTS {self.anomalies_table} (
                       ticket_id TEXT NOT NULL, kind TEXT NOT NULL, recorded_at TEXT NOT NULL,
                       PRIMARY KEY (ticket_id, kind))""")
        if self.indexed:
            for name, columns in STATE_INDEXES.items():
                tx.execute(f"CREATE INDEX IF NOT EXISTS {self.table}_{name} ON {self.table} ({columns})")
            for name, columns in VERSION_INDEXES.items():
                tx.execute(f"CREATE INDEX IF NOT EXISTS {self.versions_table}_{name} "
                           f"ON {self.versions_table} ({columns})")

    def handle(self, tx: Transaction, events: list[dict[str, Any]]) -> None:
        by_ticket: dict[str, list[dict[str, Any]]] = {}
        for event in events:
            by_ticket.setdefault(event["ticket_id"], []).append(event)
        current: dict[str, TicketRow] = {
            ticket_id: TicketRow.from_json(doc)
            for ticket_id, doc in tx.fetch_in(f"SELECT ticket_id, doc FROM {self.table} WHERE ticket_id IN ({{}})",
                                              sorted(by_ticket))
        }
        latest: list[TicketRow] = []
        version_rows: list[tuple[Any, ...]] = []
        superseded: list[tuple[Any, ...]] = []
        anomalies: list[tuple[str, str, str]] = []
        for ticket_id, ticket_events in by_ticket.items():
            before = current.get(ticket_id)
            if before is None and ticket_events[0]["version"] != 1:
                continue  # not opened (a consumer that started mid-log): nothing to fold onto
            rows = versions(before, ticket_events, self.judge)
            latest.append(rows[-1])
            if before is not None:
                first = rows[0]
                superseded.append((first.last_occurred_at, first.last_recorded_at, ticket_id, before.version))
                if first.last_occurred_at < before.activity_at:
                    anomalies.append((ticket_id, "occurred", first.last_recorded_at))
                if first.last_recorded_at < before.last_recorded_at:
                    anomalies.append((ticket_id, "recorded", first.last_recorded_at))
            for row, following in zip(rows, [*rows[1:], None]):
                version_rows.append((
                    ticket_id, row.version, row.last_occurred_at, row.last_recorded_at,
                    None if following is None else following.last_occurred_at,
                    None if following is None else following.last_recorded_at, *_row_values(row)))
                if following is not None:
                    if following.last_occurred_at < row.activity_at:
                        anomalies.append((ticket_id, "occurred", following.last_recorded_at))
                    if following.last_recorded_at < row.last_recorded_at:
                        anomalies.append((ticket_id, "recorded", following.last_recorded_at))
        tx.executemany(f"UPDATE {self.versions_table} SET next_occurred_at = ?, next_recorded_at = ? "
                       "WHERE ticket_id = ? AND version = ?", superseded)
        tx.executemany(
            f"INSERT INTO {self.versions_table} ({', '.join(VERSION_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(VERSION_COLUMNS))}) ON CONFLICT (ticket_id, version) DO NOTHING",
            version_rows)
        tx.executemany(f"INSERT INTO {self.anomalies_table} (ticket_id, kind, recorded_at) VALUES (?, ?, ?) "
                       "ON CONFLICT (ticket_id, kind) DO NOTHING", anomalies)
        write_rows(tx, self.table, latest)

    def reset(self, tx: Transaction) -> None:
        for table in self.tables:
            tx.execute(f"DELETE FROM {table}")

    def aside(self) -> TicketStateProjection:
        """The same projection into other tables, for a rebuild that does not disturb readers."""
        return TicketStateProjection(f"{self.table}__rebuild", policy=self.policy, indexed=False)

    def adopt(self, tx: Transaction, rebuilt: TicketStateProjection) -> None:
        """Replaces this projection's tables by the rebuilt ones, atomically with the caller's tx."""
        for table, rebuilt_table in zip(self.tables, rebuilt.tables):
            tx.execute(f"DROP TABLE IF EXISTS {table}")
            tx.execute(f"ALTER TABLE {rebuilt_table} RENAME TO {table}")
        tx.execute("DELETE FROM projection_schemas WHERE name = ?", (rebuilt.name,))
        self.setup(tx)
        tx.rename_consumer(rebuilt.name, self.name)


def write_rows(tx: Transaction, table: str, rows: Iterable[TicketRow]) -> None:
    tx.executemany(
        f"INSERT INTO {table} ({', '.join(STATE_COLUMNS)}) VALUES ({', '.join('?' * len(STATE_COLUMNS))}) "
        "ON CONFLICT (ticket_id) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in STATE_COLUMNS[1:]),
        [(r.ticket_id, r.version, *_row_values(r)) for r in rows],
    )


def read_all(tx: Transaction, table: str = TABLE) -> dict[str, dict[str, Any]]:
    return {tid: orjson.loads(doc) for tid, doc in tx.fetchall(f"SELECT ticket_id, doc FROM {table}")}


def read_history(tx: Transaction, table: str = "ticket_versions") -> dict[tuple[str, int], tuple]:
    """Every stored version with its validity on both axes (for tests comparing two stores)."""
    return {(r[0], r[1]): (*r[2:6], orjson.loads(r[-1]))
            for r in tx.fetchall(f"SELECT {', '.join(VERSION_COLUMNS)} FROM {table}")}

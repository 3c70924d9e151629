"""Arrivals: one row per ticket with where and when it arrived — the read model of hotspots,
forecasts and staffing.

A row keeps the slice of the ticket **at first contact** (category, sub-category, product, channel,
region, district, department), the instant it occurred and the instant it was recorded, and when it
became a complaint (a severity at opening or at a later triage). Counts per slice and hour or day
are a GROUP BY over these rows, so every question can be asked ``as_of`` (occurred by T) and
``known_at`` (recorded by T) exactly, without a replay: a count as of T never changes when later
events arrive, which is what makes a forecast as of T reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from projections.store import Transaction
from projections.ticket_state.fold import instant

TABLE = "arrivals"
DIMENSIONS = ("category", "sub_category", "product", "channel", "region", "district", "department")
COLUMNS = ("ticket_id", "opened_at", "recorded_at", *DIMENSIONS, "complaint_at")


class ArrivalsProjection:
    """The projector's handler for arrivals (a ``consumers.runtime.Handler``)."""

    def __init__(self, table: str = TABLE, *, indexed: bool = True):
        self.table = self.name = table
        self.indexed = indexed

    def setup(self, tx: Transaction) -> None:
        t = self.table
        tx.execute(
            f"""CREATE TABLE IF NOT EXISTS {t} (
                ticket_id TEXT PRIMARY KEY, opened_at TEXT NOT NULL, recorded_at TEXT NOT NULL,
                {', '.join(f'{d} TEXT' for d in DIMENSIONS)}, complaint_at TEXT)"""
        )
        if self.indexed:
            tx.execute(f"CREATE INDEX IF NOT EXISTS {t}_opened ON {t} (opened_at)")

    def handle(self, tx: Transaction, events: list[dict[str, Any]]) -> None:
        opened: list[tuple[Any, ...]] = []
        complaints: dict[str, str] = {}
        for event in events:
            kind = event["type"]
            if kind == "ticket.opened":
                at = instant(event["occurred_at"])
                opened.append((event["ticket_id"], at, instant(event["recorded_at"]),
                               *(event.get(d) for d in DIMENSIONS), at if event.get("severity") else None))
            elif kind == "ticket.triaged" and event.get("severity"):
                complaints.setdefault(event["ticket_id"], instant(event["occurred_at"]))
        tx.executemany(
            f"INSERT INTO {self.table} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
            "ON CONFLICT (ticket_id) DO NOTHING", opened)
        tx.executemany(f"UPDATE {self.table} SET complaint_at = ? WHERE ticket_id = ? AND complaint_at IS NULL",
                       [(at, ticket_id) for ticket_id, at in complaints.items()])

    def reset(self, tx: Transaction) -> None:
        tx.execute(f"DELETE FROM {self.table}")

    def aside(self) -> ArrivalsProjection:
        return ArrivalsProjection(f"{self.table}__rebuild", indexed=False)

    def adopt(self, tx: Transaction, rebuilt: ArrivalsProjection) -> None:
        tx.execute(f"DROP INDEX IF EXISTS {rebuilt.table}_opened")
        tx.execute(f"DROP TABLE IF EXISTS {self.table}")
        tx.execute(f"ALTER TABLE {rebuilt.table} RENAME TO {self.table}")
        self.setup(tx)
        tx.rename_consumer(rebuilt.name, self.name)


def latest_opened_at(tx: Transaction, table: str = TABLE) -> str | None:
    """When the latest arrival occurred (ISO text), or ``None`` when there is none."""
    return tx.fetchall(f"SELECT max(opened_at) FROM {table}")[0][0]


@dataclass(frozen=True)
class ArrivalQuery:
    """Which arrivals to count: the slice dimensions, the measure, and the two time axes."""

    group_by: tuple[str, ...]
    complaints_only: bool = False
    as_of: datetime | None = None
    known_at: datetime | None = None
    since: datetime | None = None


def parse_group_by(text: str | None) -> tuple[str, ...]:
    """``category``, ``category,region`` …: one dimension or a pair of them."""
    names = tuple(part.strip() for part in (text or "category").split(",") if part.strip())
    unknown = [n for n in names if n not in DIMENSIONS]
    if unknown or not 1 <= len(names) <= 2 or len(set(names)) != len(names):
        raise ValueError(f"group_by must be one dimension or a pair of distinct ones, from {', '.join(DIMENSIONS)}")
    return names


def arrivals(tx: Transaction, query: ArrivalQuery, table: str = TABLE) -> list[tuple[tuple[str, ...], str]]:
    """(slice, opened_at) of every arrival the query selects, oldest first (no ``group_by``: one slice)."""
    where, params = [], []
    if query.as_of is not None:
        as_of = instant(query.as_of.isoformat())
        where.append("opened_at <= ?")
        params.append(as_of)
        if query.complaints_only:
            where.append("complaint_at <= ?")
            params.append(as_of)
    elif query.complaints_only:
        where.append("complaint_at IS NOT NULL")
    if query.known_at is not None:
        where.append("recorded_at <= ?")
        params.append(instant(query.known_at.isoformat()))
    if query.since is not None:
        where.append("opened_at >= ?")
        params.append(instant(query.since.isoformat()))
    sql = (f"SELECT {', '.join((*query.group_by, 'opened_at'))} FROM {table}"
           + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY opened_at")
    width = len(query.group_by)
    found = tx.fetchall(sql, params)
    if width == 0:  # one slice: no key to build per arrival (a forecast of all contacts reads every one)
        return [((), opened_at) for (opened_at,) in found]
    if width == 1:
        return [(("(none)" if value is None else str(value),), opened_at) for value, opened_at in found]
    return [(tuple(str(v) if v is not None else "(none)" for v in row[:width]), row[width]) for row in found]

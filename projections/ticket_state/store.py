"""The ticket-state read model in six tables, written in the projector's transaction:

- ``ticket_state``: each ticket's current row (what "now" reads), indexed for filters and periods;
- ``ticket_versions``: the row after **every** version, with the business time (``occurred_at``)
  and the transaction time (``recorded_at``) of the event that made it, and those of the next
  version. A version is the answer for a moment (as of T, known at K) when it is visible and the
  next one is not: ``occurred_at <= T AND recorded_at <= K AND NOT (next visible)``. That is an
  indexed predicate, as XTDB resolves valid time and system time, so no request folds the log;
- ``ticket_facts``: what each measure counts (``projections.ticket_state.fact_rows``), one row
  per fact of a ticket, valid on both axes from the version that gave it (``from_*``) until the
  one that changed or dropped it (``to_*``): KPIs and evaluations select the facts in their
  window with the same predicate, never whole rows;
- ``ticket_anomalies``: tickets with a late event (one that occurred before an event recorded
  earlier, or, with skewed clocks, was recorded before it). For them the visible events at a
  moment need not be a prefix of the versions, so ``projections.read_side`` folds exactly those
  tickets' own events instead (few in practice: back-dated channel traffic);
- ``ticket_sla_inputs``: one row of columns per resolved ticket (``facts.sla_inputs``): what its
  deadlines under any policy depend on, in microseconds, and what it missed under its own; the
  what-if reads these instead of documents (``projections.what_if``, ``projections.sla_vector``);
- ``sla_policies``: every policy version (``policy.adopted`` events) the projector has applied,
  so readers judge open tickets by the version each row names;
- ``ticket_clock_lead``: the largest lead, in microseconds, of an event's business time over its
  record time (clocks ahead of the server's, within ``max_future_skew``). Every fact a measure
  counts lies at or before an occurrence of a recorded event (a deadline missed: before the
  occurrence that met it late), so known at K nothing counts after K plus this lead: a query
  for a past moment reads its facts only up to there (``projections.read_side``).

Table names are parameters so that a rebuild is built aside (``…__rebuild``) and swapped in.
The rows carry SLA facts judged with the policy version in force when each ticket was opened
(``projections.ticket_state.facts``, ``domain.sla_policies``). Policy versions are events of the
log, applied in a batch before its ticket events: the version of a ticket depends only on its
opening's instants and the versions recorded by then, so a rebuild chooses exactly what the
running projector chose. The settings file's policy (version 0) is not in the log: its
fingerprint is part of the schema, so a changed file rebuilds the projection.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import orjson

from domain.service_levels import ServicePolicy
from domain.sla_policies import PolicyBook, PolicyVersion
from projections.local_periods import Calendar
from projections.store import StateStore, Transaction
from projections.ticket_state.fact_rows import COLUMNS as FACT_COLUMNS
from projections.ticket_state.fact_rows import Fact, facts_of
from projections.ticket_state.facts import SLA_INPUT_COLUMNS, SlaFacts, micros, missed_deadlines, sla_inputs
from projections.ticket_state.fold import FIELDS, OPEN_STATUSES, TicketRow, versions
from projections.ticket_state.rollups import RollupChanges, RollupTables

TABLE = "ticket_state"
SCHEMA_VERSION = 9  # 6: fact rows, policy versions; 7: rows stored by position; 8: roll-ups, "handled" facts;
# 9: backlog cells, the clock lead
# Columns that filters and windows use (the whole row is ``doc``).
FILTERED = ("status", "assignee_id", "priority", "customer_id", "opened_at", "resolved_at", "activity_at", "breached")
STATE_COLUMNS = ("ticket_id", "version", *FILTERED, "doc")
VERSION_COLUMNS = ("ticket_id", "version", "occurred_at", "recorded_at", "next_occurred_at", "next_recorded_at",
                   *FILTERED, "doc")
STATE_INDEXES = {"status": "status, opened_at", "assignee": "assignee_id, opened_at",
                 "customer": "customer_id, opened_at", "resolved": "resolved_at", "activity": "activity_at",
                 "breached": "breached, opened_at", "opened": "opened_at, ticket_id"}
# ``early`` holds the versions recorded before their ticket's opening instant (clock skew, future-dated
# openings; rare): a page of tickets newest first known at K reads the tickets opened by K from
# ``opened`` (backwards from K) and only these beyond it (``projections.read_side``).
# ``opened`` also holds each version's record instant: a page known at K walks it newest first and
# skips the versions recorded after K without reading them (a bulk import records a store's whole
# history within minutes, so during it most of the walk is such versions).
VERSION_INDEXES = {"occurred": "(occurred_at)", "customer": "(customer_id)",
                   "opened": "(opened_at, ticket_id, recorded_at)",
                   "recorded": "(recorded_at)", "early": "(recorded_at) WHERE opened_at > recorded_at"}
FACT_ROW_COLUMNS = ("ticket_id", "key", "version", "from_occurred", "from_recorded", "to_occurred", "to_recorded",
                    *FACT_COLUMNS)
# SQLite keeps the facts in the order windows read them (kind, then business time), so a month of
# KPIs is one sequential range of the table; a fact to close is found by that key too (the
# projector has the fact at hand: its kind and instant), so no second index is kept up to date.
# PostgreSQL does not cluster a heap as it grows: there an index per window and one for "now".
FACT_KEYS = {"sqlite": "PRIMARY KEY (kind, at, ticket_id, key, version)) WITHOUT ROWID",
             "postgres": "PRIMARY KEY (ticket_id, key, version))"}
# The ``open`` facts that began or ended on one day, on either axis: what the backlog's cells
# (``rollups``) leave to be read one by one. Each index holds the other axis's instant and the
# slices too, so those rows are counted from the index alone (a bulk import records years of
# history on one day: a moment during it reads a large share of them).
_SLICES = "channel, category, team, priority, region"
OPEN_FACT_EDGES = {f"open_{side}_{axis}": f"({side}_{axis}, {side}_{other}, {_SLICES}) WHERE kind = 'open'"
                   for side in ("from", "to") for axis, other in (("occurred", "recorded"), ("recorded", "occurred"))}
# A deadline counts as missed at a moment only if its row held past its due instant on one axis
# (a running deadline visible once due, or one met late): a few rows in a hundred, since most
# deadlines are met before they fall due and their rows then close (``projections.rollup_reader``).
DEADLINE_HELD = "kind = 'deadline' AND (to_occurred IS NULL OR to_occurred > at OR to_recorded > at)"
FACT_INDEXES = {"sqlite": {"open_now": "(at) WHERE kind = 'open' AND to_recorded IS NULL", **OPEN_FACT_EDGES,
                           "deadline_held": f"(at) WHERE {DEADLINE_HELD}"},
                "postgres": {"window": "(kind, at)", "live": "(kind, at) WHERE to_recorded IS NULL", **OPEN_FACT_EDGES,
                             "deadline_held": f"(at) WHERE {DEADLINE_HELD}"}}


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

    def __init__(self, table: str = TABLE, *, policy: ServicePolicy | None = None, indexed: bool = True,
                 zone: str = "UTC"):
        from zoneinfo import ZoneInfo

        self.table = self.name = table
        self.zone = zone
        self.calendar = Calendar(ZoneInfo(zone))
        self.versions_table = table.replace(TABLE, "ticket_versions", 1)
        self.anomalies_table = table.replace(TABLE, "ticket_anomalies", 1)
        self.facts_table = table.replace(TABLE, "ticket_facts", 1)
        self.policies_table = table.replace(TABLE, "sla_policies", 1)
        self.sla_inputs_table = table.replace(TABLE, "ticket_sla_inputs", 1)
        self.lead_table = table.replace(TABLE, "ticket_clock_lead", 1)
        self.rollups = RollupTables(self.facts_table)
        self.policy = policy or ServicePolicy()
        self.book = PolicyBook(self.policy)
        self.judge = SlaFacts(self.book)
        self.indexed = indexed  # a table built aside gets its indexes once, when swapped in
        # the facts of each ticket's latest version folded (``FactChanges``), by (ticket, version)
        self.known_facts: dict[tuple[str, int], dict[str, Fact]] = {}

    @property
    def tables(self) -> tuple[str, ...]:
        return (self.table, self.versions_table, self.anomalies_table, self.facts_table, self.policies_table,
                self.sla_inputs_table, self.lead_table, *self.rollups.all)

    @property
    def schema(self) -> str:
        fields = hashlib.sha256(",".join(FIELDS).encode()).hexdigest()[:8]  # rows are stored by position
        return f"{SCHEMA_VERSION}:{fields}:{policy_fingerprint(self.policy)}:{self.zone}"

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
        tx.execute(f"""CREATE TABLE IF NOT EXISTS {self.facts_table} (
                       ticket_id TEXT NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL,
                       from_occurred TEXT NOT NULL, from_recorded TEXT NOT NULL,
                       to_occurred TEXT, to_recorded TEXT,
                       kind TEXT NOT NULL, at TEXT NOT NULL, agent TEXT, channel TEXT, category TEXT,
                       team TEXT, priority TEXT, region TEXT, seconds DOUBLE PRECISION,
                       business_seconds DOUBLE PRECISION, handle_seconds DOUBLE PRECISION,
                       flags INTEGER NOT NULL, csat INTEGER, nps INTEGER, detail TEXT, {FACT_KEYS[tx.dialect]}""")
        tx.execute(f"""CREATE TABLE IF NOT EXISTS {self.policies_table} (
                       number INTEGER PRIMARY KEY, effective_from TEXT NOT NULL, recorded_at TEXT NOT NULL,
                       doc TEXT NOT NULL)""")
        tx.execute(f"""CREATE TABLE IF NOT EXISTS {self.sla_inputs_table} (
                       ticket_id TEXT PRIMARY KEY, resolved_at TEXT NOT NULL, priority TEXT, tier TEXT,
                       category TEXT, channel TEXT, policy_version INTEGER NOT NULL, opened_us BIGINT NOT NULL,
                       first_response_us BIGINT, resolution_start_us BIGINT NOT NULL, resolved_us BIGINT NOT NULL,
                       waiting_us BIGINT, missed TEXT NOT NULL, pauses TEXT, waits TEXT, transfers TEXT)""")
        tx.execute(f"CREATE TABLE IF NOT EXISTS {self.lead_table} (lead_us BIGINT NOT NULL)")
        self.rollups.create(tx, self.zone)
        if self.indexed:
            tx.execute(f"CREATE INDEX IF NOT EXISTS {self.sla_inputs_table}_resolved "
                       f"ON {self.sla_inputs_table} (resolved_at)")
        self.book = read_policy_book(tx, self.policy, self.policies_table)
        self.judge = SlaFacts(self.book)
        self.known_facts = {}
        if self.indexed:
            for name, columns in STATE_INDEXES.items():
                tx.execute(f"CREATE INDEX IF NOT EXISTS {self.table}_{name} ON {self.table} ({columns})")
            for name, columns in VERSION_INDEXES.items():
                tx.execute(f"CREATE INDEX IF NOT EXISTS {self.versions_table}_{name} "
                           f"ON {self.versions_table} {columns}")
            for name, columns in FACT_INDEXES[tx.dialect].items():
                tx.execute(f"CREATE INDEX IF NOT EXISTS {self.facts_table}_{name} ON {self.facts_table} {columns}")

    def handle(self, tx: Transaction, events: list[dict[str, Any]]) -> None:
        by_ticket: dict[str, list[dict[str, Any]]] = {}
        adopted = []
        for event in events:
            if "policy_id" in event:
                adopted.append(event)
            else:
                by_ticket.setdefault(event["ticket_id"], []).append(event)
        if adopted:
            self._adopt(tx, adopted)
        current: dict[str, TicketRow] = {
            ticket_id: TicketRow.from_json(doc)
            for ticket_id, doc in tx.fetch_in(f"SELECT ticket_id, doc FROM {self.table} WHERE ticket_id IN ({{}})",
                                              sorted(by_ticket))
        }
        latest: list[TicketRow] = []
        version_rows: list[tuple[Any, ...]] = []
        superseded: list[tuple[Any, ...]] = []
        anomalies: list[tuple[str, str, str]] = []
        lead = 0
        facts = FactChanges(RollupChanges(self.calendar), self.known_facts)
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
            facts.follow(ticket_id, before, rows, self.judge, self.calendar)
            for row, following in zip(rows, [*rows[1:], None]):
                if row.last_occurred_at > row.last_recorded_at:  # canonical UTC text: compared as text
                    lead = max(lead, clock_lead(row.last_occurred_at, row.last_recorded_at))
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
        facts.write(tx, self.facts_table, self.rollups)
        if lead:
            write_lead(tx, self.lead_table, lead)
        write_rows(tx, self.table, latest)
        write_sla_inputs(tx, self.sla_inputs_table, latest)

    def _adopt(self, tx: Transaction, adopted: list[dict[str, Any]]) -> None:
        """Policy versions join the book (and its table) before the batch's tickets are folded:
        an opening takes the versions recorded at or before it, wherever they sit in the batch."""
        for document in adopted:
            self.book.adopt(PolicyVersion.from_event(document))
        tx.executemany(f"INSERT INTO {self.policies_table} (number, effective_from, recorded_at, doc) "
                       "VALUES (?, ?, ?, ?) ON CONFLICT (number) DO NOTHING",
                       [(d["number"], d["effective_from"], d["recorded_at"], orjson.dumps(d).decode())
                        for d in adopted])

    def reset(self, tx: Transaction) -> None:
        for table in self.tables:
            tx.execute(f"DELETE FROM {table}")
        self.rollups.create(tx, self.zone)
        self.book = PolicyBook(self.policy)
        self.judge = SlaFacts(self.book)
        self.known_facts = {}

    def aside(self) -> TicketStateProjection:
        """The same projection into other tables, for a rebuild that does not disturb readers."""
        return TicketStateProjection(f"{self.table}__rebuild", policy=self.policy, indexed=False, zone=self.zone)

    def adopt(self, tx: Transaction, rebuilt: TicketStateProjection) -> None:
        """Replaces this projection's tables by the rebuilt ones, atomically with the caller's tx."""
        for table, rebuilt_table in zip(self.tables, rebuilt.tables):
            tx.execute(f"DROP TABLE IF EXISTS {table}")
            tx.execute(f"ALTER TABLE {rebuilt_table} RENAME TO {table}")
        tx.execute("DELETE FROM projection_schemas WHERE name = ?", (rebuilt.name,))
        self.setup(tx)
        tx.rename_consumer(rebuilt.name, self.name)


class FactChanges:
    """The fact rows one batch opens and closes. A fact that a version changes or drops is closed
    at that version's instants; one opened and closed within the batch is written closed. Each
    opening and closing is also added to (subtracted from) the roll-ups (``rollups``).

    ``opened`` holds the rows to insert (``FACT_ROW_COLUMNS``: the fact is ``row[7:]``);
    ``closed`` holds ``(to_occurred, to_recorded, ticket_id, key, fact)`` of each stored fact
    closed, the fact itself included (a fact is found by its content: see ``FACT_KEYS``).
    ``known`` (optional, kept by the projection across batches) remembers the facts of each
    ticket's latest version, so the next batch does not derive its starting point again."""

    def __init__(self, rollups: RollupChanges, known: dict[tuple[str, int], dict[str, Fact]] | None = None) -> None:
        self.opened: list[list[Any]] = []
        self.closed: list[tuple[str, str, str, str, Fact]] = []
        self.rollups = rollups
        self.known = known

    def follow(self, ticket_id: str, before: TicketRow | None, rows: list[TicketRow], judge: SlaFacts,
               calendar: Calendar) -> None:
        live: dict[str, tuple[Fact, list[Any] | None]] = {}
        if before is not None:
            start = self.known.pop((ticket_id, before.version), None) if self.known is not None else None
            if start is None:
                start = facts_of(before, judge, calendar)
            live = {key: (fact, None) for key, fact in start.items()}
        now: dict[str, Fact] = {}
        for row in rows:
            now = facts_of(row, judge, calendar)
            occurred, recorded = row.last_occurred_at, row.last_recorded_at
            for key, (fact, pending) in list(live.items()):
                if now.get(key) != fact:
                    del live[key]
                    self.rollups.add(fact, -1, occurred, recorded)
                    if pending is None:
                        self.closed.append((occurred, recorded, ticket_id, key, fact))
                    else:
                        pending[5], pending[6] = occurred, recorded
            for key, fact in now.items():
                if key not in live:
                    pending = [ticket_id, key, row.version, occurred, recorded, None, None, *fact]
                    self.opened.append(pending)
                    live[key] = (fact, pending)
                    self.rollups.add(fact, 1, occurred, recorded)
        if self.known is not None and rows:
            if len(self.known) > KNOWN_FACTS:
                self.known.clear()
            self.known[(ticket_id, rows[-1].version)] = now

    def write(self, tx: Transaction, table: str, rollups: RollupTables) -> None:
        self.rollups.write(tx, rollups)
        tx.executemany(f"UPDATE {table} SET to_occurred = ?, to_recorded = ? WHERE kind = ? AND at = ? "
                       "AND ticket_id = ? AND key = ? AND to_recorded IS NULL",
                       [(occurred, recorded, fact.kind, fact.at, ticket_id, key)
                        for occurred, recorded, ticket_id, key, fact in self.closed])
        tx.executemany(f"INSERT INTO {table} ({', '.join(FACT_ROW_COLUMNS)}) "
                       f"VALUES ({', '.join('?' * len(FACT_ROW_COLUMNS))}) ON CONFLICT DO NOTHING", self.opened)


KNOWN_FACTS = 10_000  # tickets whose latest facts a projection remembers between batches


def clock_lead(occurred: str, recorded: str) -> int:
    """How far, in microseconds, an event's business time lies after its record time."""
    return micros(occurred) - micros(recorded)


def write_lead(tx: Transaction, table: str, lead: int) -> None:
    """Raises the stored clock lead to ``lead`` (one row; two projectors raise it in turn)."""
    stored = read_lead(tx, table)
    if stored is None:
        tx.execute(f"INSERT INTO {table} (lead_us) VALUES (?)", (lead,))
    elif stored < lead:
        tx.execute(f"UPDATE {table} SET lead_us = ? WHERE lead_us < ?", (lead, lead))


def read_lead(tx: Transaction, table: str = "ticket_clock_lead") -> int | None:
    """The stored clock lead (``None``: no event was ever ahead of its recording)."""
    return tx.fetchall(f"SELECT max(lead_us) FROM {table}")[0][0]


def open_load(state: StateStore) -> dict[str, int]:
    """Open tickets per assignee, from the ticket-state read model (routing's "least load")."""
    marks = ",".join("?" * len(OPEN_STATUSES))
    with state.transaction() as tx:
        rows = tx.fetchall(f"SELECT assignee_id, COUNT(*) FROM {TABLE} WHERE status IN ({marks}) "
                           "AND assignee_id IS NOT NULL GROUP BY assignee_id", tuple(sorted(OPEN_STATUSES)))
    return {agent: count for agent, count in rows}


def read_policy_book(tx: Transaction, baseline: ServicePolicy, table: str = "sla_policies",
                     known: dict[int, PolicyVersion] | None = None) -> PolicyBook:
    """The policy versions the projector has applied, beside the settings file's (version 0).
    ``known`` caches parsed versions between calls (they never change once recorded)."""
    known = {} if known is None else known
    for number, doc in tx.fetchall(f"SELECT number, doc FROM {table} ORDER BY number"):
        if number not in known:
            known[number] = PolicyVersion.from_event(orjson.loads(doc))
    return PolicyBook(baseline, list(known.values()))


def write_rows(tx: Transaction, table: str, rows: Iterable[TicketRow]) -> None:
    tx.executemany(
        f"INSERT INTO {table} ({', '.join(STATE_COLUMNS)}) VALUES ({', '.join('?' * len(STATE_COLUMNS))}) "
        "ON CONFLICT (ticket_id) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in STATE_COLUMNS[1:]),
        [(r.ticket_id, r.version, *_row_values(r)) for r in rows],
    )


def write_sla_inputs(tx: Transaction, table: str, rows: Iterable[TicketRow]) -> None:
    """Resolved tickets' SLA inputs (``facts.sla_inputs``); a reopened ticket has none until resolved again."""
    resolved, reopened = [], []
    for row in rows:
        if row.resolved_at is not None:
            resolved.append(row)
        elif row.reopens:  # only a reopening makes a resolved ticket unresolved
            reopened.append(row)
    unresolved = reopened
    if unresolved:
        tx.executemany(f"DELETE FROM {table} WHERE ticket_id = ?", [(r.ticket_id,) for r in unresolved])
    tx.executemany(
        f"INSERT INTO {table} ({', '.join(SLA_INPUT_COLUMNS)}) VALUES ({', '.join('?' * len(SLA_INPUT_COLUMNS))}) "
        "ON CONFLICT (ticket_id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in SLA_INPUT_COLUMNS[1:]),
        [sla_inputs(r) for r in resolved])


def read_all(tx: Transaction, table: str = TABLE) -> dict[str, dict[str, Any]]:
    return {tid: TicketRow.from_json(doc).as_dict() for tid, doc in tx.fetchall(f"SELECT ticket_id, doc FROM {table}")}


def read_history(tx: Transaction, table: str = "ticket_versions") -> dict[tuple[str, int], tuple]:
    """Every stored version with its validity on both axes (for tests comparing two stores)."""
    return {(r[0], r[1]): (*r[2:6], TicketRow.from_json(r[-1]).as_dict())
            for r in tx.fetchall(f"SELECT {', '.join(VERSION_COLUMNS)} FROM {table}")}

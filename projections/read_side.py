"""Ticket rows for any moment, from indexed, maintained state: never a replay of the log.

``ReadView(tx, moment, events_of, judge)`` answers "which rows, filtered so, at this moment":
- now: the current rows (``ticket_state``);
- any other moment: per ticket, the version visible at the moment whose successor is not
  (``ticket_versions``; see ``projections.ticket_state.store``), one indexed query;
- tickets with a late event visible at the moment (``ticket_anomalies``): their own events are
  folded, exactly as the definition says (``time_travel.ticket_at``): one small read per ticket.

A filter is applied the same way to both paths: as SQL to stored rows, as a predicate to folded
ones. The definition every answer must equal is ``projections.time_travel`` (the test oracle).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from zoneinfo import ZoneInfo

from projections.local_periods import Calendar
from projections.moment import Moment
from projections.store import Transaction
from projections.ticket_state.fact_rows import COLUMNS as FACT_COLUMNS
from projections.ticket_state.fact_rows import KINDS as FACT_KINDS
from projections.ticket_state.fact_rows import Fact, facts_of
from projections.ticket_state.fold import FIELDS, OPEN_STATUSES, Judge, TicketRow, iso
from projections.ticket_state.store import FILTERED, is_breached, read_lead
from projections.time_travel import ticket_at

FOREVER = "9999-12-31T23:59:59.999999Z"
# In a selection of ``changed`` facts (``ReadView.select_facts``): −1 for a fact held now that was
# not visible at the moment, +1 for one visible then that is no longer held.
CHANGE_SIGN = "CASE WHEN to_recorded IS NULL THEN -1 ELSE 1 END"
EventsOf = Callable[[str], Iterable[Any]]
# The fields both row tables keep as columns beside the document (``projections.ticket_state.store``);
# any other field is read from the document, a JSON array of the values in ``FIELDS`` order.
ROW_COLUMNS = frozenset({"ticket_id", "version", *FILTERED} & set(FIELDS))


def instant(text: str) -> datetime:
    """A stored instant (canonical text, ``…Z``) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso_after(text: str) -> str:
    """The canonical instant one microsecond after ``text``: ``at < iso_after(t)`` is ``at <= t``."""
    return iso(instant(text) + timedelta(microseconds=1))


@dataclass(frozen=True)
class RowFilter:
    """What a query asks of rows; ``sql()`` for stored rows, ``matches()`` for folded ones."""

    status: str | None = None          # a status, or "open" for every open one
    agent_id: str | None = None
    priority: str | None = None
    breached: bool | None = None
    customer_id: str | None = None
    opened_before: str | None = None   # opened_at < this
    active_since: str | None = None    # some event occurred at or after this (business time)
    after_cursor: tuple[str, str] | None = None  # (opened_at, ticket_id) of the last row of a page

    def sql(self) -> tuple[str, list[Any]]:
        where, params = [], []
        if self.status == "open":
            where.append(f"status IN ({','.join('?' * len(OPEN_STATUSES))})")
            params.extend(sorted(OPEN_STATUSES))
        elif self.status:
            where.append("status = ?")
            params.append(self.status)
        for column, value in (("assignee_id", self.agent_id), ("priority", self.priority),
                              ("customer_id", self.customer_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if self.breached is not None:
            where.append("breached = ?")
            params.append(int(self.breached))
        if self.opened_before is not None:
            where.append("opened_at < ?")
            params.append(self.opened_before)
        if self.active_since is not None:
            where.append("activity_at >= ?")
            params.append(self.active_since)
        if self.after_cursor is not None:
            opened_at, ticket_id = self.after_cursor
            where.append("(opened_at < ? OR (opened_at = ? AND ticket_id < ?))")
            params.extend([opened_at, opened_at, ticket_id])
        return " AND ".join(where) or "1 = 1", params

    def matches(self, row: TicketRow) -> bool:
        if self.status == "open" and not row.is_open:
            return False
        if self.status not in (None, "open") and row.status != self.status:
            return False
        if self.agent_id is not None and row.assignee_id != self.agent_id:
            return False
        if self.priority is not None and row.priority != self.priority:
            return False
        if self.customer_id is not None and row.customer_id != self.customer_id:
            return False
        if self.breached is not None and is_breached(row) != self.breached:
            return False
        if self.opened_before is not None and not row.opened_at < self.opened_before:
            return False
        if self.active_since is not None and not (row.activity_at or row.opened_at) >= self.active_since:
            return False
        if self.after_cursor is not None and not (row.opened_at, row.ticket_id) < self.after_cursor:
            return False
        return True


NEWEST_FIRST = "opened_at DESC, ticket_id DESC"


@dataclass(frozen=True)
class FactSelection:
    """An SQL answer over stored facts, and the facts of late tickets folded at the moment
    (``(ticket_id, fact)``), which the SQL left out and the caller counts itself."""

    rows: list[tuple]
    folded: list[tuple[str, Fact]]


class ReadView:
    """The read side at one moment, inside one read transaction."""

    def __init__(self, tx: Transaction, moment: Moment = Moment(), events_of: EventsOf | None = None,
                 judge: Judge | None = None):
        self.tx, self.moment, self.events_of, self.judge = tx, moment, events_of, judge
        self._calendar: Calendar | None = None
        self._late: list[str] | None = None
        self._sees_everything: bool | None = None
        self._counts_until: tuple[str | None] | None = None

    def at(self, moment: Moment) -> ReadView:
        return ReadView(self.tx, moment, self.events_of, self.judge)

    def rows(self, where: RowFilter = RowFilter(), *, newest_first: bool = False,
             limit: int | None = None, fields: tuple[str, ...] | None = None) -> list[TicketRow]:
        """The rows at this moment that match, optionally newest first and at most ``limit``.

        ``fields``: read only these fields of the stored rows (the others keep their defaults),
        extracted from the document by the database (``_narrow``), so that a report over a month
        of tickets does not decode whole documents (about 60 fields and every history) in Python
        for the few it counts. Rows folded from late events are whole."""
        clause, params = where.sql()
        select, decode = ("doc", TicketRow.from_json) if fields is None else self._narrow(fields)
        order = f" ORDER BY {NEWEST_FIRST}" if newest_first else ""
        tail = "" if limit is None else " LIMIT ?"
        tail_params = [] if limit is None else [limit]
        if self.moment.is_live or self._as_of_sees_everything():
            sql = f"SELECT {select} FROM ticket_state WHERE {clause}{order}{tail}"
            return [decode(*found) for found in self.tx.fetchall(sql, (*params, *tail_params))]
        as_of = self.moment.as_of_text or FOREVER
        known_at = self.moment.known_at_text or FOREVER
        late = self.late_tickets()
        sql = (f"SELECT {select} FROM ticket_versions v WHERE occurred_at <= ? AND recorded_at <= ? "
               f"AND (next_recorded_at IS NULL OR next_occurred_at > ? OR next_recorded_at > ?) AND {clause}")
        values: list[Any] = [as_of, known_at, as_of, known_at, *params]
        if self.moment.as_of is not None:
            # No event occurs before its ticket's opening: a bound that lets the newest-first
            # scan of the opened_at index start at the moment instead of at the newest ticket.
            sql += " AND opened_at <= ?"
            values.append(as_of)
        if where.active_since is not None and self.moment.as_of is not None:
            # Tickets with a late occurrence known by then are folded instead (below), so here a
            # version's latest occurrence is its own: the window is a range of the occurred_at index.
            sql += " AND occurred_at >= ?"
            values.append(where.active_since)
        if late:
            sql += (" AND NOT EXISTS (SELECT 1 FROM ticket_anomalies a WHERE a.ticket_id = v.ticket_id"
                    f" AND {self._anomaly_clause()})")
            values.extend(self._anomaly_params(known_at))
        early_sql, early_values = "", []
        if known_at < as_of:
            # Known at K, a version is visible only if recorded by K, and its ticket was opened by
            # then unless the version was recorded before its opening instant (the ``early``
            # index): the scan starts at K, and the few early versions beyond it are read apart.
            early_sql = sql + " AND opened_at > ? AND opened_at > recorded_at"
            if self.tx.dialect == "sqlite":  # its planner, without statistics, would walk ``opened``
                early_sql = early_sql.replace("ticket_versions v", "ticket_versions v INDEXED BY ticket_versions_early", 1)
            early_values = [*values, known_at]
            sql += " AND opened_at <= ?"
            values.append(known_at)
        found = []
        if early_sql:  # all opened after K: they come first, newest first
            found = [decode(*stored) for stored in self.tx.fetchall(early_sql + order + tail, (*early_values, *tail_params))]
        if limit is None or len(found) < limit:
            rest = limit if limit is None else limit - len(found)
            found.extend(decode(*stored) for stored in
                         self.tx.fetchall(sql + order + tail, (*values, *([] if rest is None else [rest]))))
        if late:
            found.extend(row for row in map(self._fold, late) if row is not None and where.matches(row))
            if newest_first:
                found.sort(key=lambda r: (r.opened_at, r.ticket_id), reverse=True)
            if limit is not None:
                found = found[:limit]
        return found

    def _narrow(self, fields: tuple[str, ...]) -> tuple[str, Callable[..., TicketRow]]:
        """The SELECT list that reads ``fields`` of a stored row, and how a row is built from it:
        the fields kept as columns as such, the others as one JSON array the database extracts
        from the document (SQLite: ``json_extract`` of several paths; PostgreSQL:
        ``json_build_array`` of ``->``, which the driver decodes), so each document is parsed once."""
        unknown = set(fields) - set(FIELDS)
        if unknown:
            raise ValueError(f"no such ticket row field: {', '.join(sorted(unknown))}")
        columns = tuple(name for name in fields if name in ROW_COLUMNS)
        extracted = tuple(name for name in fields if name not in ROW_COLUMNS)
        select = list(columns)
        if extracted:
            indexes = [FIELDS.index(name) for name in extracted]
            if self.tx.dialect == "sqlite":  # one path would return the bare value, not an array
                paths = [f"'$[{index}]'" for index in (indexes if len(indexes) > 1 else indexes * 2)]
                select.append(f"json_extract(doc, {', '.join(paths)})")
            else:
                select.append(f"json_build_array({', '.join(f'doc::json -> {index}' for index in indexes)})")
        width = len(columns)

        def decode(*values: Any) -> TicketRow:
            # The fields not read keep their defaults as the dataclass's class attributes (a field
            # without a default that was not asked for is an AttributeError, not a silent None):
            # copying every default into each row was half the cost of building it.
            row = object.__new__(TicketRow)
            fields_of = row.__dict__
            fields_of.update(zip(columns, values))
            if extracted:
                found = values[width]
                fields_of.update(zip(extracted, orjson.loads(found) if isinstance(found, str) else found))
            return row
        return ", ".join(select), decode

    def select_facts(self, select: str, kinds: tuple[str, ...], since: str | None = None, until: str | None = None,
                     *, select_params: tuple[Any, ...] = (), group_by: str = "",
                     ranges: list[tuple[str, str]] | None = None, fold_late: bool = True,
                     only: str = "", index: str = "", changed: bool = False) -> FactSelection:
        """``SELECT {select}`` (its placeholders bound to ``select_params``) over the stored facts of
        these kinds visible at this moment with ``at`` in ``[since, until)`` (or in any of ``ranges``)
        (``GROUP BY group_by``), so that counting happens in the database; the facts of tickets whose
        visible events are not a prefix of their versions are left out of the SQL and returned
        folded (unless ``fold_late`` is false), for the caller to count the same way. ``only`` is a
        further condition (the code's own SQL, never user text) and ``index`` the partial index
        whose condition it is, which SQLite is told to read (its planner has no statistics).

        ``changed`` selects instead the facts whose visibility at this moment differs from now:
        held now but not visible then, or visible then but no longer held (``CHANGE_SIGN`` tells
        which), so that a roll-up cell, which sums the facts held now, can be taken back to the
        moment. The tickets with late events are left out as well."""
        unknown = set(kinds) - set(FACT_KINDS)
        if unknown:
            raise ValueError(f"no such fact kind: {', '.join(sorted(unknown))}")
        # The kinds are the code's own names (checked above), written into the SQL so that the
        # planner can use a partial index of one kind (the open tickets of now).
        clauses = [f"kind IN ({','.join(repr(kind) for kind in kinds)})", *([only] if only else [])]
        values: list[Any] = [*select_params]
        spans = asked = ranges if ranges is not None else [(since, until)]
        if not spans:
            return FactSelection([], [])
        bound = None if "deadline" in kinds or "open" in kinds or changed else self.counts_until()
        if bound is not None:
            # Nothing later can count (``counts_until``): the spans end there, so the index range
            # read is the moment's, not the window's.
            limit = iso_after(bound)
            spans = [(lo, limit if hi is None or hi > limit else hi) for lo, hi in spans if lo is None or lo < limit]
            if not spans:
                return FactSelection([], self._folded_in(kinds, asked) if fold_late else [])
        if spans != [(None, None)]:
            alternatives = []
            for lo, hi in spans:
                parts = [part for part, bound in (("at >= ?", lo), ("at < ?", hi)) if bound is not None]
                alternatives.append(" AND ".join(parts) or "1 = 1")
                values.extend(bound for bound in (lo, hi) if bound is not None)
            clauses.append("(" + " OR ".join(f"({a})" for a in alternatives) + ")")
        late: list[str] = []
        if changed:
            as_of = self.moment.as_of_text or FOREVER
            known_at = self.moment.known_at_text or FOREVER
            clauses.append("((to_recorded IS NULL AND (from_occurred > ? OR from_recorded > ?)) "
                           "OR (to_recorded IS NOT NULL AND from_occurred <= ? AND from_recorded <= ? "
                           "AND (to_occurred > ? OR to_recorded > ?)))")
            values.extend([as_of, known_at, as_of, known_at, as_of, known_at])
        if self.moment.is_live or self._as_of_sees_everything():
            if not changed:
                clauses.append("to_recorded IS NULL")
        else:
            if not changed:
                as_of = self.moment.as_of_text or FOREVER
                known_at = self.moment.known_at_text or FOREVER
                clauses.append("from_occurred <= ? AND from_recorded <= ? "
                               "AND (to_recorded IS NULL OR to_occurred > ? OR to_recorded > ?)")
                values.extend([as_of, known_at, as_of, known_at])
            late = self.late_tickets()
            if len(late) <= 500:
                if late:
                    clauses.append(f"ticket_id NOT IN ({','.join('?' * len(late))})")
                    values.extend(late)
            else:
                clauses.append("NOT EXISTS (SELECT 1 FROM ticket_anomalies a WHERE a.ticket_id = f.ticket_id"
                               f" AND {self._anomaly_clause()})")
                values.extend(self._anomaly_params(known_at))
        indexed = f" INDEXED BY ticket_facts_{index}" if index and self.tx.dialect == "sqlite" else ""
        sql = f"SELECT {select} FROM ticket_facts f{indexed} WHERE {' AND '.join(clauses)}"
        if group_by:
            sql += f" GROUP BY {group_by}"
        rows = self.tx.fetchall(sql, values)
        return FactSelection(rows, self._folded_in(kinds, asked) if fold_late else [])

    def _folded_in(self, kinds: tuple[str, ...], spans: list[tuple[str | None, str | None]]) -> list[tuple[str, Fact]]:
        folded: list[tuple[str, Fact]] = []
        for lo, hi in spans:
            folded.extend(self.folded_facts(kinds, lo, hi))
        return folded

    def folded_facts(self, kinds: tuple[str, ...], since: str | None, until: str | None) -> list[tuple[str, Fact]]:
        """The facts in ``[since, until)`` of the tickets with late events, folded at this moment."""
        folded: list[tuple[str, Fact]] = []
        if self.moment.is_live or self._as_of_sees_everything():
            return folded
        for row in map(self._fold, self.late_tickets()):
            if row is not None:
                folded.extend((row.ticket_id, fact) for fact in facts_of(row, self.judge, self.calendar).values()
                              if fact.kind in kinds and (since is None or fact.at >= since)
                              and (until is None or fact.at < until))
        return folded

    def current_facts_of(self, tickets: list[str], kinds: tuple[str, ...]) -> list[tuple[str, Fact]]:
        """The stored facts holding now of these tickets (what the roll-ups sum for them)."""
        if not tickets:
            return []
        columns = ", ".join(FACT_COLUMNS)
        found = self.tx.fetch_in(f"SELECT ticket_id, {columns} FROM ticket_facts WHERE to_recorded IS NULL "
                                 f"AND kind IN ({','.join('?' * len(kinds))}) AND ticket_id IN ({{}})",
                                 tickets, *kinds)
        return [(row[0], Fact(*row[1:])) for row in found]

    def counts_until(self) -> str | None:
        """The latest business instant of a fact that can count at this moment, other than a
        running deadline or the open state (``None``: now, no bound). Every other fact lies at or
        before an occurrence of a visible event, so as of T it lies by T, and known at K by K
        plus the largest lead of an event's business time over its record time
        (``ticket_state.store``, ``ticket_clock_lead``). A running deadline counts as missed only
        once due by the instant described, which is no later either."""
        if self._counts_until is None:
            bound = None
            if not self.moment.is_live and not self._as_of_sees_everything():
                bound = self.moment.as_of
                if self.moment.known_at is not None:
                    lead = max(0, read_lead(self.tx) or 0)
                    known = self.moment.known_at + timedelta(microseconds=lead)
                    bound = known if bound is None else min(bound, known)
            self._counts_until = (None if bound is None else iso(bound),)
        return self._counts_until[0]

    @property
    def calendar(self) -> Calendar:
        """The local days and months the projector rolled facts up in (its time zone)."""
        if self._calendar is None:
            found = self.tx.fetchall("SELECT zone FROM ticket_rollup_zone")
            self._calendar = Calendar(ZoneInfo(found[0][0] if found else "UTC"))
        return self._calendar

    def _as_of_sees_everything(self) -> bool:
        """As of T, known now, when no event occurred after T: the current rows are the answer."""
        if self.moment.known_at is not None or self.moment.as_of is None:
            return False
        if self._sees_everything is None:
            latest = self.tx.fetchall("SELECT max(activity_at) FROM ticket_state")[0][0]
            self._sees_everything = latest is None or latest <= self.moment.as_of_text
        return self._sees_everything

    # ------------------------------------------------------------------------ late events
    def _anomaly_clause(self) -> str:
        """Which anomalies make a ticket's visible events other than a prefix of its versions:
        a late occurrence matters when business time is bounded and it was recorded by then; a
        recording out of order whenever a moment is asked for."""
        if self.moment.as_of is None:
            return "a.kind = 'recorded'"
        return "(a.kind = 'recorded' OR a.recorded_at <= ?)"

    def _anomaly_params(self, known_at: str) -> list[Any]:
        return [] if self.moment.as_of is None else [known_at]

    def late_tickets(self) -> list[str]:
        """The tickets whose visible events at this moment need not be a prefix of their versions."""
        if self.moment.is_live or self._as_of_sees_everything():
            return []
        if self._late is None:
            known_at = self.moment.known_at_text or FOREVER
            sql = f"SELECT DISTINCT ticket_id FROM ticket_anomalies a WHERE {self._anomaly_clause()}"
            self._late = sorted(ticket for (ticket,) in self.tx.fetchall(sql, self._anomaly_params(known_at)))
        return self._late

    def _fold(self, ticket_id: str) -> TicketRow | None:
        if self.events_of is None:
            raise RuntimeError("this read view cannot fold a ticket's events (no event reader given)")
        return ticket_at(self.events_of(ticket_id), self.moment.as_of, self.moment.known_at, self.judge)

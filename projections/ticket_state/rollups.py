"""Roll-ups: what the KPIs and the agent evaluation count, summed per local day and month × slice.

A month's KPIs over ``ticket_facts`` still read one row per fact (100,000 tickets: hundreds of
thousands of rows). The projector therefore also keeps, in the same transaction as the facts
and the tracking position, one row per **cell**: a period of the organisation's calendar (a
local day, a local month) × a slice (everything, one channel, category, team, priority or
region, or one agent) × a fact kind, holding the facts' count, the sums of their flag bits and
values (durations in integer microseconds) and survey tallies; and per cell and duration a
DDSketch (``projections.distribution``) in ``…_bins``. Facts are added when they start to hold
and subtracted when a version changes or drops them, so a cell always sums the facts holding now.

That is the answer for any moment after every change to the cell: ``…_periods`` keeps, per
period, the latest business and record instant of any fact opened or closed in it. A query for
a moment at or after both reads the cell; otherwise it counts that period's facts one by one
(``projections.rollup_reader``). Which fact counts in which slice is said once, here, from the
queries' definitions (``measures.KpiTally`` and ``agent_performance``).

The backlog (tickets open at an instant T, as known at K) is a count at an instant, not over a
window, so it has cells of its own (``…_backlog``): per slice, UTC day of business time and UTC
day of record time, the number of ``open`` fact rows that began there less those that ended there. The open
facts at (T, K) are those begun by then minus those ended by then (an ``open`` fact ends, on both
axes, no earlier than it began): the cells of the days before T's and K's, plus the facts of T's
and K's own day read one by one (``projections.rollup_reader.backlog``).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import numpy as np
import orjson

from projections.distribution import bin_of
from projections.fact_totals import TOTALS, totals_of
from projections.local_periods import Calendar
from projections.store import Transaction
from projections.ticket_state.fact_rows import Fact

KPI_SLICES = ("channel", "category", "team", "priority", "region")  # a Fact's fields, as in measures.DIMENSIONS
KPI_KINDS = frozenset({"opened", "resolved", "survey", "resolution", "reopen", "deadline"})
AGENT_KINDS = frozenset({"resolved", "first_response", "survey", "escalation", "reopen", "complaint", "handled"})
SKETCHED_KINDS = frozenset({"opened", "resolved", "first_response"})  # seconds and business seconds
GRAINS = ("day", "month")  # in the order of ``Calendar.periods``
COUNTED_KINDS = KPI_KINDS | AGENT_KINDS
EVERYTHING = ("all", "all")

CELL_KEY = ("grain", "period", "scope", "value", "kind", "detail")
SKETCH_KEY = ("grain", "period", "scope", "value", "kind", "measure")
BACKLOG_KEY = ("scope", "value", "occurred_day", "recorded_day")


def slice_value(value: str | None) -> str:
    """A slice's name as the KPIs group it (``measures.group_key``)."""
    return str(value or "(none)")


def slices_of(fact: Fact) -> list[tuple[str, str]]:
    """The (scope, value) cells a fact counts in."""
    found: list[tuple[str, str]] = []
    if fact.kind in KPI_KINDS:
        found.append(EVERYTHING)
        found.extend((scope, slice_value(getattr(fact, scope))) for scope in KPI_SLICES)
    if fact.kind in AGENT_KINDS and fact.agent:
        found.append(("agent", fact.agent))
    return found


class RollupChanges:
    """The changes one batch makes to the roll-ups: per cell, the sum of the facts it opened
    (+1) and closed (−1), and per period the latest instants of those changes.

    A batch opens and closes many facts that cancel (a ticket's ``open`` fact, its first-response
    times, … change at several of its versions), and each fact counts in up to 14 cells. So
    ``add`` only nets each fact's count (and stamps the minute of its instant); ``cells`` and
    ``bins`` are expanded from the facts whose net count is not zero, once per batch, each fact's
    totals and sketch bins computed once for all its day cells, and the month cells summed from
    the day cells (before: per fact and cell, the projector's largest single cost)."""

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar
        self.backlog: dict[tuple[str, str, str, str], int] = {}  # BACKLOG_KEY: began less ended
        self._net: dict[Fact, int] = {}
        # the latest instants of the changes per minute of the facts' ``at``: placed in periods
        # once per minute (``stamps``), not once per change
        self._minutes: dict[str, list[str]] = {}
        self._expanded: tuple[dict, dict] | None = None

    def add(self, fact: Fact, sign: int, occurred: str, recorded: str) -> None:
        kind = fact.kind
        if kind == "open":
            self._open_changed(fact, sign, occurred, recorded)
            return
        if kind not in COUNTED_KINDS:
            return
        self._expanded = None
        self._net[fact] = self._net.get(fact, 0) + sign
        minute = fact.at[:16]  # every zone's periods are whole minutes (``Calendar.periods``)
        stamp = self._minutes.get(minute)
        if stamp is None:
            self._minutes[minute] = [occurred, recorded]
        else:
            if occurred > stamp[0]:
                stamp[0] = occurred
            if recorded > stamp[1]:
                stamp[1] = recorded

    @property
    def stamps(self) -> dict[tuple[str, str], list[str]]:
        """Per period (grain, period), the latest business and record instants of the batch's
        changes to its facts."""
        stamps: dict[tuple[str, str], list[str]] = {}
        for minute, (occurred, recorded) in self._minutes.items():
            for period in zip(GRAINS, self.calendar.periods(minute)):
                stamp = stamps.get(period)
                if stamp is None:
                    stamps[period] = [occurred, recorded]
                else:
                    if occurred > stamp[0]:
                        stamp[0] = occurred
                    if recorded > stamp[1]:
                        stamp[1] = recorded
        return stamps

    @property
    def cells(self) -> dict[tuple[str, ...], list[int]]:
        """Per cell key (``CELL_KEY``), the sums of ``TOTALS`` the batch adds."""
        return self._expand()[0]

    @property
    def bins(self) -> dict[tuple[str, ...], dict[int, int]]:
        """Per sketch key (``SKETCH_KEY``), the counts the batch adds to each bin."""
        return self._expand()[1]

    def _expand(self) -> tuple[dict, dict]:
        """Each fact whose net count is not zero is added to the day cells of its slices; each
        month cell is then the sum of its days' cells (a local day lies in one local month), so a
        fact is expanded into half the cells, and the month sums add far fewer day cells."""
        if self._expanded is not None:
            return self._expanded
        days: dict[tuple[str, ...], list[int]] = {}
        day_bins: dict[tuple[str, ...], dict[int, int]] = {}
        month_of: dict[str, str] = {}
        width = len(TOTALS)
        periods = self.calendar.periods
        for fact, count in self._net.items():
            if not count:
                continue
            kind, detail = fact.kind, fact.detail or ""
            amounts = [(index, count * amount) for index, amount in enumerate(totals_of(fact)) if amount]
            sketched = [(measure, bin_of(seconds))
                        for measure, seconds in (("s", fact.seconds), ("b", fact.business_seconds))
                        if seconds is not None] if kind in SKETCHED_KINDS else []
            day, month = periods(fact.at)
            month_of[day] = month
            for scope, value in slices_of(fact):
                key = (day, scope, value, kind, detail)
                cell = days.get(key)
                if cell is None:
                    cell = days[key] = [0] * width
                for index, amount in amounts:
                    cell[index] += amount
                for measure, bin_ in sketched:
                    sketch_key = (day, scope, value, kind, measure)
                    sketch = day_bins.get(sketch_key)
                    if sketch is None:
                        sketch = day_bins[sketch_key] = {}
                    sketch[bin_] = sketch.get(bin_, 0) + count
        cells: dict[tuple[str, ...], list[int]] = {}
        for (day, *rest), totals in days.items():
            cells[("day", day, *rest)] = totals
            month_cell = cells.get(key := ("month", month_of[day], *rest))
            if month_cell is None:
                cells[key] = list(totals)
            else:
                for index, amount in enumerate(totals):
                    month_cell[index] += amount
        bins: dict[tuple[str, ...], dict[int, int]] = {}
        for (day, *rest), counts in day_bins.items():
            bins[("day", day, *rest)] = counts
            month_sketch = bins.get(key := ("month", month_of[day], *rest))
            if month_sketch is None:
                bins[key] = dict(counts)
            else:
                for bin_, count in counts.items():
                    month_sketch[bin_] = month_sketch.get(bin_, 0) + count
        self._expanded = (cells, bins)
        return self._expanded

    def _open_changed(self, fact: Fact, sign: int, occurred: str, recorded: str) -> None:
        """An ``open`` fact began (+1) or ended (−1) at these instants (UTC days of canonical text)."""
        days = (occurred[:10], recorded[:10])
        for scope, value in (EVERYTHING, *((scope, slice_value(getattr(fact, scope))) for scope in KPI_SLICES)):
            key = (scope, value, *days)
            self.backlog[key] = self.backlog.get(key, 0) + sign

    def write(self, tx: Transaction, tables: RollupTables) -> None:
        """Adds the batch's sums to the stored cells, in key order (two projectors sharing a
        PostgreSQL read side then lock cells in the same order)."""
        cells = [(*key, *totals) for key, totals in sorted(self.cells.items()) if any(totals)]
        stamps = [(grain, period, occurred, recorded)
                  for (grain, period), (occurred, recorded) in sorted(self.stamps.items())]
        added = ", ".join(f"{c} = {tables.cells}.{c} + excluded.{c}" for c in TOTALS)
        tx.executemany(f"INSERT INTO {tables.cells} ({', '.join((*CELL_KEY, *TOTALS))}) "
                       f"VALUES ({', '.join('?' * (len(CELL_KEY) + len(TOTALS)))}) "
                       f"ON CONFLICT ({', '.join(CELL_KEY)}) DO UPDATE SET {added}", cells)
        self._write_sketches(tx, tables)
        tx.executemany(f"INSERT INTO {tables.backlog} ({', '.join(BACKLOG_KEY)}, net) "
                       f"VALUES (?, ?, ?, ?, ?) ON CONFLICT ({', '.join(BACKLOG_KEY)}) DO UPDATE SET "
                       f"net = {tables.backlog}.net + excluded.net",
                       [(*key, net) for key, net in sorted(self.backlog.items()) if net])
        greatest = "max" if tx.dialect == "sqlite" else "GREATEST"
        tx.executemany(f"INSERT INTO {tables.periods} (grain, period, last_occurred, last_recorded) "
                       "VALUES (?, ?, ?, ?) ON CONFLICT (grain, period) DO UPDATE SET "
                       f"last_occurred = {greatest}({tables.periods}.last_occurred, excluded.last_occurred), "
                       f"last_recorded = {greatest}({tables.periods}.last_recorded, excluded.last_recorded)",
                       stamps)

    def _write_sketches(self, tx: Transaction, tables: RollupTables) -> None:
        """Merges the batch's bins into the stored sketches (one row per cell, kind and measure:
        a month of an agent is one row to read, not hundreds). The rows are created first and then
        read locked (``FOR UPDATE`` on PostgreSQL), so concurrent projectors merge in turn."""
        changed = {key: bins for key, bins in sorted(self.bins.items()) if any(bins.values())}
        if not changed:
            return
        columns = ", ".join(SKETCH_KEY)
        tx.executemany(f"INSERT INTO {tables.bins} ({columns}, bins) VALUES ({', '.join('?' * len(SKETCH_KEY))}, '[]') "
                       f"ON CONFLICT ({columns}) DO NOTHING", list(changed))
        lock = " FOR UPDATE" if tx.dialect == "postgres" else ""
        keys = list(changed)
        stored: dict[tuple[str, ...], str] = {}
        for start in range(0, len(keys), 100):
            part = keys[start:start + 100]
            rows = tx.fetchall(f"SELECT {columns}, bins FROM {tables.bins} WHERE ({columns}) IN "
                               f"(VALUES {', '.join(['(' + ', '.join('?' * len(SKETCH_KEY)) + ')'] * len(part))}) "
                               f"ORDER BY {columns}{lock}", [value for key in part for value in key])
            stored.update((tuple(row[:-1]), row[-1]) for row in rows)
        merged = []
        for key, delta in changed.items():
            bins = decode_bins(stored.get(key, "[]"))
            for bin_, count in delta.items():
                bins[bin_] = bins.get(bin_, 0) + count
            merged.append((encode_bins(bins), *key))
        tx.executemany(f"UPDATE {tables.bins} SET bins = ? WHERE {' AND '.join(f'{c} = ?' for c in SKETCH_KEY)}",
                       merged)


def encode_bins(bins: dict[int, int]) -> str:
    """A sketch as stored: ``[bin, count, bin, count, …]`` in bin order, empty bins left out."""
    return orjson.dumps([part for bin_ in sorted(bins) if bins[bin_] for part in (bin_, bins[bin_])]).decode()


def decode_bins(text: str | bytes) -> dict[int, int]:
    flat = orjson.loads(text)
    return dict(zip(flat[0::2], flat[1::2]))


def merge_sketches(stored: Iterable[tuple[Hashable, str]]) -> dict[Hashable, dict[int, int]]:
    """Per key, the sum of its stored sketches (``encode_bins``), bin by bin. A month of the
    leaderboard at a moment merges thousands of day sketches of tens of bins each: the stored
    texts are parsed by numpy in one call and their (key, bin) pairs summed in one pass, instead
    of a dict update per bin (3× faster on the 1M-event store)."""
    keys: dict[Hashable, int] = {}
    owners: list[int] = []
    texts: list[str] = []
    for key, text in stored:
        owner = keys.setdefault(key, len(keys))
        if len(text) > 2:  # "[]": an emptied sketch
            owners.append(owner)
            texts.append(text)
    merged: dict[Hashable, dict[int, int]] = {key: {} for key in keys}
    if not texts:
        return merged
    pairs = np.fromiter(((text.count(",") + 1) // 2 for text in texts), dtype=np.int64, count=len(texts))
    flat = orjson.loads("[" + ",".join(text[1:-1] for text in texts) + "]")
    values = np.fromiter(flat, dtype=np.int64, count=len(flat))
    combined = np.repeat(np.array(owners, dtype=np.int64), pairs) * _BIN_SPAN + (values[0::2] + _BIN_SPAN // 2)
    found, where = np.unique(combined, return_inverse=True)
    counts = np.bincount(where, weights=values[1::2]).astype(np.int64)  # exact below 2⁵³
    owner_of, bins = np.divmod(found, _BIN_SPAN)
    cuts = np.flatnonzero(np.diff(owner_of)) + 1
    by_index = list(keys)
    for owner, part_bins, part_counts in zip(owner_of[np.r_[0, cuts]].tolist(), np.split(bins - _BIN_SPAN // 2, cuts),
                                             np.split(counts, cuts)):
        merged[by_index[owner]] = dict(zip(part_bins.tolist(), part_counts.tolist()))
    return merged


_BIN_SPAN = 1 << 32  # DDSketch keys of durations lie far inside ±2³¹


class RollupTables:
    """The three roll-up tables of one ticket-state projection (names follow its ``ticket_facts``)."""

    def __init__(self, facts_table: str) -> None:
        self.cells = facts_table.replace("ticket_facts", "ticket_rollups", 1)
        self.bins = facts_table.replace("ticket_facts", "ticket_rollup_bins", 1)
        self.periods = facts_table.replace("ticket_facts", "ticket_rollup_periods", 1)
        self.zone = facts_table.replace("ticket_facts", "ticket_rollup_zone", 1)
        self.backlog = facts_table.replace("ticket_facts", "ticket_rollup_backlog", 1)

    @property
    def all(self) -> tuple[str, ...]:
        return (self.cells, self.bins, self.periods, self.zone, self.backlog)

    def create(self, tx: Transaction, zone_name: str) -> None:
        totals = ", ".join(f"{c} BIGINT NOT NULL" for c in TOTALS)
        tx.execute(f"""CREATE TABLE IF NOT EXISTS {self.cells} (
                       grain TEXT NOT NULL, period TEXT NOT NULL, scope TEXT NOT NULL, value TEXT NOT NULL,
                       kind TEXT NOT NULL, detail TEXT NOT NULL, {totals},
                       PRIMARY KEY ({', '.join(CELL_KEY)}))""")
        tx.execute(f"""CREATE TABLE IF NOT EXISTS {self.bins} (
                       grain TEXT NOT NULL, period TEXT NOT NULL, scope TEXT NOT NULL, value TEXT NOT NULL,
                       kind TEXT NOT NULL, measure TEXT NOT NULL, bins TEXT NOT NULL,
                       PRIMARY KEY ({', '.join(SKETCH_KEY)}))""")
        tx.execute(f"""CREATE TABLE IF NOT EXISTS {self.periods} (
                       grain TEXT NOT NULL, period TEXT NOT NULL, last_occurred TEXT NOT NULL,
                       last_recorded TEXT NOT NULL, PRIMARY KEY (grain, period))""")
        tx.execute(f"""CREATE TABLE IF NOT EXISTS {self.backlog} (
                       scope TEXT NOT NULL, value TEXT NOT NULL, occurred_day TEXT NOT NULL,
                       recorded_day TEXT NOT NULL, net BIGINT NOT NULL,
                       PRIMARY KEY ({', '.join(BACKLOG_KEY)}))""")
        tx.execute(f"CREATE TABLE IF NOT EXISTS {self.zone} (zone TEXT NOT NULL)")
        if not tx.fetchall(f"SELECT zone FROM {self.zone}"):
            tx.execute(f"INSERT INTO {self.zone} (zone) VALUES (?)", (zone_name,))

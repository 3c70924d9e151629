"""Which parts of a window the roll-ups answer at a moment, and reading them.

A window ``[start, end)`` is covered by the local months and days that lie wholly inside it
(``ticket_state.rollups``); what is left (the window's ragged ends) is counted fact by fact.
At a moment other than now, a period's cell is the answer only if no fact of that period was
opened or closed after the moment on either time axis (its ``…_periods`` stamps); otherwise its
days are tried. A day changed after the moment that ends by the moment is read as its cell with
those changes undone (``Coverage.undone``): the facts it holds now that were not visible then are
taken out and the facts visible then that it no longer holds are put back, a few rows read by
their change instants instead of every fact of the day. A day the moment falls in, or later, is
counted fact by fact. A KPI window also needs its cells to end by the instant the answer
describes, since a deadline still running counts as missed only once it falls due before that
instant.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from projections.distribution import sql_bin
from projections.fact_totals import TOTALS, sql_totals
from projections.read_side import CHANGE_SIGN, FOREVER, ReadView, instant, iso_after
from projections.ticket_state.fact_rows import COLUMNS
from projections.ticket_state.fold import iso
from projections.ticket_state.store import DEADLINE_HELD
from projections.ticket_state.rollups import KPI_SLICES, merge_sketches, slice_value


class Cell(NamedTuple):
    grain: str
    period: str
    start: str
    end: str


class Coverage(NamedTuple):
    cells: list[Cell]
    ranges: list[tuple[str, str]]  # [lo, hi) counted fact by fact
    undone: list[Cell] | tuple[Cell, ...] = ()  # cells (also in ``cells``) whose changes after the moment are undone fact by fact

    def covers(self, at: str) -> bool:
        """Whether a fact at ``at`` is counted by one of the cells."""
        starts = [cell.start for cell in self.cells]
        index = bisect_right(starts, at) - 1
        return index >= 0 and at < self.cells[index].end


def cover(view: ReadView, start: datetime, end: datetime, described: datetime | None = None) -> Coverage:
    """The cells (sorted by start) and the fact-by-fact ranges that make up ``[start, end)``.

    ``described``: the instant an answer counting running deadlines describes (a cell must end
    by then). Without it (no deadline counted), the day the moment falls in is undone too when
    the moment lies in its later half, where fewer of its facts changed after the moment than
    lie before it."""
    calendar = view.calendar
    limit = end if described is None else min(end, described)
    first = start.astimezone(calendar.zone).date().replace(day=1)
    last = (end - timedelta(microseconds=1)).astimezone(calendar.zone).date()
    candidates: list[Cell] = []
    month = first
    while month <= last:
        label = month.strftime("%Y-%m")
        month_start, month_end = calendar.bounds("month", label)
        if month_start >= start and month_end <= limit:
            candidates.append(Cell("month", label, iso(month_start), iso(month_end)))
        else:
            candidates.extend(_days(calendar, month, start, limit))
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    undone: list[Cell] = []
    cells = (candidates if view.moment.is_live
             else _stable(view, candidates, start, limit, undone, moment_day=described is None))
    cells.sort(key=lambda cell: cell.start)
    ranges: list[tuple[str, str]] = []
    cursor = iso(start)
    for cell in cells:
        if cell.start > cursor:
            ranges.append((cursor, cell.start))
        cursor = cell.end
    if cursor < iso(end):
        ranges.append((cursor, iso(end)))
    return Coverage(cells, ranges, undone)


def _days(calendar: Any, month: date, start: datetime, limit: datetime) -> list[Cell]:
    found = []
    day = month
    while day.month == month.month:
        label = day.isoformat()
        day_start, day_end = calendar.bounds("day", label)
        if day_start >= start and day_end <= limit:
            found.append(Cell("day", label, iso(day_start), iso(day_end)))
        day += timedelta(days=1)
    return found


def _stable(view: ReadView, candidates: list[Cell], start: datetime, limit: datetime, undone: list[Cell],
            moment_day: bool = False) -> list[Cell]:
    """The candidates no fact of which changed after the view's moment (a month that did is
    replaced by its days that did not), and the days that changed but end by the moment, which
    are also put in ``undone``.

    Only a day that ends by the moment on both axes is undone: its facts then all lie by the
    moment, so its deadline rows that changed after it held past their due instant and are in
    the ``deadline_held`` index, and the rows to read are the few that changed, not the day's.
    With ``moment_day`` (no deadline counted), the day the moment falls in is undone as well when
    the moment lies in its later half."""
    if not candidates:
        return []
    as_of = view.moment.as_of_text
    known_at = view.moment.known_at_text
    undo_by = min(moment for moment in (as_of, known_at) if moment is not None)
    stamps = {(grain, period): (occurred, recorded) for grain, period, occurred, recorded in view.tx.fetchall(
        "SELECT grain, period, last_occurred, last_recorded FROM ticket_rollup_periods "
        "WHERE period >= ? AND period <= ?", (candidates[0].period[:7], candidates[-1].period + "~"))}

    def unchanged(cell: Cell) -> bool:
        stamp = stamps.get((cell.grain, cell.period))
        return stamp is None or ((as_of is None or stamp[0] <= as_of) and (known_at is None or stamp[1] <= known_at))

    def kept(cell: Cell) -> bool:
        if unchanged(cell):
            return True
        if cell.grain == "day" and (cell.end <= undo_by or (moment_day and cell.start < undo_by < cell.end
                                                             and undo_by >= _midpoint(cell))):
            undone.append(cell)
            return True
        return False

    found: list[Cell] = []
    for cell in candidates:
        if unchanged(cell):
            found.append(cell)
        elif cell.grain == "month":
            found.extend(day for day in _days(view.calendar, date.fromisoformat(cell.period + "-01"), start, limit)
                         if kept(day))
        elif kept(cell):
            found.append(cell)
    return found


def _midpoint(cell: Cell) -> str:
    start, end = instant(cell.start), instant(cell.end)
    return iso(start + (end - start) / 2)


def _where(coverage: Coverage) -> tuple[str, list[Any]]:
    clauses, values = [], []
    for grain in ("month", "day"):
        periods = [cell.period for cell in coverage.cells if cell.grain == grain]
        if periods:
            clauses.append(f"(grain = ? AND period IN ({','.join('?' * len(periods))}))")
            values.extend([grain, *periods])
    return "(" + " OR ".join(clauses) + ")", values


def cell_totals(view: ReadView, coverage: Coverage, scope: str, kinds: tuple[str, ...]) -> list[tuple]:
    """Per slice value, kind and detail: the summed totals (``rollups.TOTALS``) of the cells."""
    where, values = _where(coverage)
    sums = ", ".join(f"CAST(sum({column}) AS BIGINT)" for column in TOTALS)  # PostgreSQL sums to NUMERIC
    return view.tx.fetchall(
        f"SELECT value, kind, detail, {sums} FROM ticket_rollups WHERE scope = ? "
        f"AND kind IN ({','.join('?' * len(kinds))}) AND {where} GROUP BY value, kind, detail",
        (scope, *kinds, *values))


def cell_sketches(view: ReadView, coverage: Coverage, scope: str) -> list[tuple[str, str, str, dict[int, int]]]:
    """Per slice value, kind and measure (``s`` seconds, ``b`` business seconds): the sketch bins of
    the cells merged (every sketched kind of the scope: ``opened`` and ``resolved`` for the KPI
    slices, ``resolved`` and ``first_response`` for agents)."""
    where, values = _where(coverage)
    merged = merge_sketches(((value, kind, measure), text) for value, kind, measure, text in view.tx.fetchall(
        f"SELECT value, kind, measure, bins FROM ticket_rollup_bins WHERE scope = ? AND {where}", (scope, *values)))
    return [(*key, bins) for key, bins in merged.items()]


def range_cells(view: ReadView, ranges: list[tuple[str, str]], scope: str, kinds: tuple[str, ...],
                described: str | None = None, undone: list[Cell] | tuple[Cell, ...] = ()
                ) -> tuple[list[tuple], list[tuple[str, str, str, dict[int, int]]]]:
    """What cells would hold for the facts in ``ranges`` visible at the view's moment, summed and
    binned by the database in one pass: per slice value, kind and detail the totals
    (``fact_totals.TOTALS``, as ``cell_totals``), and per slice value, kind and measure the
    sketch bins (as ``cell_sketches``). A ``deadline`` counts only if missed or due by
    ``described``. With ``undone`` cells (``Coverage.undone``), also what undoes their changes
    after the moment (negative where a fact is taken out). The tickets with late events are left
    out (the caller counts them folded)."""
    if not ranges and not undone:
        return [], []
    dialect = view.tx.dialect
    column = _scope_column(scope)
    keys = f"{column}, kind, COALESCE(detail, '')"
    bins = f"{sql_bin('seconds', dialect)}, {sql_bin('business_seconds', dialect)}"
    totals: dict[tuple, list[int]] = {}
    sketches: dict[tuple[str, str, str], dict[int, int]] = {}

    def add(rows: list[tuple], signed: bool, binned: bool) -> None:
        for value, kind, detail, *rest in rows:
            seconds_bin, business_bin = rest[:2] if binned else (None, None)
            rest = rest[2:] if binned else rest
            sign, sums = (rest[0], rest[1:]) if signed else (1, rest)
            if sign != 1:
                sums = [sign * number for number in sums]
            found = totals.get((value, kind, detail))
            if found is None:
                totals[(value, kind, detail)] = list(sums)
            else:
                found[:] = [x + y for x, y in zip(found, sums)]
            for measure, bin_ in (("s", seconds_bin), ("b", business_bin)):
                if bin_ is not None:
                    sketch = sketches.setdefault((value, kind, measure), {})
                    sketch[bin_] = sketch.get(bin_, 0) + sums[0]

    def select(spans: list[tuple[str, str]], *args: Any, **options: Any) -> list[tuple]:
        # One query per span: ranges OR-ed in one statement are read as a scan of the whole kind.
        return [row for span in spans for row in view.select_facts(*args, ranges=[span], **options).rows]

    others = tuple(kind for kind in kinds if kind != "deadline")
    changes = _joined(undone)
    if others and ranges:
        add(select(ranges, f"{keys}, {bins}, {sql_totals(dialect)}", others, fold_late=False,
                   group_by=_first_columns(column, 5)), signed=False, binned=True)
    if others and changes:
        add(select(changes, f"{keys}, {bins}, {CHANGE_SIGN}, {sql_totals(dialect)}", others, fold_late=False,
                   changed=True, group_by=_first_columns(column, 6)), signed=True, binned=True)
    if "deadline" in kinds:
        counted = sql_totals(dialect, "CASE WHEN (flags & 1) = 1 OR at <= ? THEN 1 ELSE 0 END")
        held, plain = _deadline_ranges(view, ranges, described)
        for spans, only, index in ((held, DEADLINE_HELD, "deadline_held"), (plain, "", "")):
            if spans:
                add(select(spans, f"{keys}, {counted}", ("deadline",), select_params=(described or FOREVER,),
                           fold_late=False, group_by=_first_columns(column, 3), only=only, index=index),
                    signed=False, binned=False)
        if changes:  # an undone day ends by the moment: its changed deadline rows are all held (``_stable``)
            add(select(changes, f"{keys}, {CHANGE_SIGN}, {counted}", ("deadline",),
                       select_params=(described or FOREVER,), fold_late=False, changed=True,
                       group_by=_first_columns(column, 4), only=DEADLINE_HELD, index="deadline_held"),
                signed=True, binned=False)
    return [(*key, *sums) for key, sums in totals.items()], [(*key, bins_) for key, bins_ in sketches.items()]


def _joined(cells: list[Cell] | tuple[Cell, ...]) -> list[tuple[str, str]]:
    """The spans of these cells, adjacent ones joined: one index range for a run of days (a list
    of ranges OR-ed in SQL is not read as ranges of an index, but as a scan of the whole kind)."""
    spans: list[tuple[str, str]] = []
    for cell in sorted(cells, key=lambda cell: cell.start):
        if spans and spans[-1][1] == cell.start:
            spans[-1] = (spans[-1][0], cell.end)
        else:
            spans.append((cell.start, cell.end))
    return spans


def _deadline_ranges(view: ReadView, ranges: list[tuple[str, str]],
                     described: str | None) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The parts of ``ranges`` whose missed deadlines all sit in the ``deadline_held`` index
    (``store.DEADLINE_HELD``: the rows that held past their due instant on one axis), and the rest.

    A deadline row counts at (T, K) if it is visible then (not closed by T on both axes) and was
    met late (due before the occurrence that met it, itself by T) or is running and due by the
    instant described (no later than T). Either way it held past its due instant: closed after
    T, or recorded closed after K, where K is at or after the due instant when the row lies by K.
    So every part of a window up to K (up to T when K is not given) is answered by the index.
    Beyond K, a row met late can still count if an event's business time lay ahead of its
    record time (the clock lead), and a running one if K is earlier than the instant described:
    those parts read every deadline row."""
    known_at = view.moment.known_at_text
    if known_at is None:
        return ranges, []
    if described is not None and known_at < described:
        return [], ranges
    cut = iso_after(known_at)
    return ([(lo, min(hi, cut)) for lo, hi in ranges if lo < cut],
            [(max(lo, cut), hi) for lo, hi in ranges if hi > cut])


def _first_columns(column: str, count: int) -> str:
    """``GROUP BY`` the first ``count`` output columns by position (expressions are not repeated),
    leaving out the slice column when there is none (PostgreSQL refuses to group by a constant)."""
    return ", ".join(str(position) for position in range(1 if column != "NULL" else 2, count + 1))


def _scope_column(scope: str) -> str:
    """The fact column a scope slices by (a code name: ``rollups.KPI_SLICES`` or ``agent``)."""
    if scope == "all":
        return "NULL"
    if scope != "agent" and scope not in KPI_SLICES:
        raise ValueError(f"no such scope: {scope}")
    return scope


def late_facts_in_cells(view: ReadView, coverage: Coverage, kinds: tuple[str, ...]) -> list[tuple[str, Any]]:
    """The facts holding now of the tickets with late events, that the cells counted: at a moment,
    those tickets count as folded instead, so their current facts are taken out again."""
    if not coverage.cells:
        return []
    return [(ticket, fact) for ticket, fact in view.current_facts_of(view.late_tickets(), kinds)
            if coverage.covers(fact.at)]


def _late_in_its_day(view: ReadView, known_at: str) -> bool:
    """Whether more ``open`` facts began on ``known_at``'s (UTC) day before it than after it, as
    far as the day's first and last beginning tell (the record instants of a day are spread
    evenly enough: a day of live work, or an import's minutes). The record-day edge of the
    backlog is then read backwards: the day's cells less the facts that began or ended on it
    after ``known_at``. Either way the count is exact; only the rows read differ."""
    day = known_at[:10]
    following = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    indexed = " INDEXED BY ticket_facts_open_from_recorded" if view.tx.dialect == "sqlite" else ""
    bounds = []
    for edge in ("min", "max"):
        bounds.append(view.tx.fetchall(
            f"SELECT {edge}(from_recorded) FROM ticket_facts{indexed} WHERE kind = 'open' "
            "AND from_recorded >= ? AND from_recorded < ?", (day, following))[0][0])
    first, last = bounds
    if first is None or known_at <= first:
        return False  # nothing began on the day by then: forwards reads nothing
    if last <= known_at:
        return True  # everything that began on the day did so by then: backwards reads nothing
    return instant(known_at) - instant(first) > instant(last) - instant(known_at)


# The ``open`` fact rows that began or ended on the day of T (business time) or of K (record
# time), by that day's index (``ticket_state.store.OPEN_FACT_EDGES``): +1 for a beginning, −1 for
# an end, each read once (the first two and the last two are disjoint: before T's day or on it).
_EDGES = (
    (1, "from_occurred", "from_occurred >= ? AND from_occurred <= ? AND from_recorded <= ?", "t"),
    (1, "from_recorded", "from_occurred < ? AND from_recorded >= ? AND from_recorded <= ?", "k"),
    (-1, "to_occurred", "to_occurred >= ? AND to_occurred <= ? AND to_recorded <= ?", "t"),
    (-1, "to_recorded", "to_occurred < ? AND to_recorded >= ? AND to_recorded <= ?", "k"),
)


def backlog(view: ReadView, at: str, known_at: str | None, group_by: str | None) -> dict[str, int]:
    """The ``open`` facts visible as of ``at``, known at ``known_at`` (``None``: now), per slice
    value of ``group_by`` (``"all"`` without): those that began by then minus those that ended
    by then, from the backlog cells (``ticket_state.rollups``) of the days before ``at``'s and
    ``known_at``'s, and fact by fact on those two days. The tickets with late events at the
    moment are taken out; the caller counts them folded."""
    known = known_at or FOREVER
    day_t, day_k = at[:10], known[:10]
    scope = group_by or "all"
    found: dict[str, int] = {}
    after_k = known_at is not None and _late_in_its_day(view, known_at)
    for value, number in view.tx.fetchall(
            "SELECT value, CAST(sum(net) AS BIGINT) FROM ticket_rollup_backlog "
            f"WHERE scope = ? AND occurred_day < ? AND recorded_day {'<=' if after_k else '<'} ? GROUP BY value",
            (scope, day_t, day_k)):
        found[value] = found.get(value, 0) + number
    column = group_by or "NULL"  # a name from measures.DIMENSIONS (checked by the caller)
    next_k = (date.fromisoformat(day_k) + timedelta(days=1)).isoformat() if after_k else ""
    for sign, index, where, axis in _EDGES:
        indexed = f" INDEXED BY ticket_facts_open_{index}" if view.tx.dialect == "sqlite" else ""
        bounds = (day_t, at, known) if axis == "t" else (day_t, day_k, known)
        if axis == "k" and after_k:
            # K's day from the cells, less what began or ended on it after K (``_late_in_its_day``)
            sign, bounds = -sign, (day_t, known, next_k)
            where = where.replace(">= ?", "> ?").replace("<= ?", "< ?")
        grouped = f" GROUP BY {column}" if group_by else ""
        for value, number in view.tx.fetchall(
                f"SELECT {column}, count(*) FROM ticket_facts{indexed} WHERE kind = 'open' AND {where}{grouped}",
                bounds):
            key = slice_value(value) if group_by else "all"
            found[key] = found.get(key, 0) + sign * number
    late = view.late_tickets()
    position = COLUMNS.index(group_by) + 4 if group_by else None
    for start in range(0, len(late), 500):
        part = late[start:start + 500]
        marks = ",".join("?" * len(part))
        for row in view.tx.fetchall(
                f"SELECT from_occurred, from_recorded, to_occurred, to_recorded, {', '.join(COLUMNS)} "
                f"FROM ticket_facts WHERE kind = 'open' AND at IN (SELECT opened_at FROM ticket_versions "
                f"WHERE ticket_id IN ({marks})) AND ticket_id IN ({marks})", (*part, *part)):
            began = row[0] <= at and row[1] <= known
            ended = row[2] is not None and row[2] <= at and row[3] <= known
            key = slice_value(row[position]) if position is not None else "all"
            found[key] = found.get(key, 0) - (int(began) - int(ended))
    return found

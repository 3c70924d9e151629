"""Which deadlines many resolved tickets would have missed under one policy, computed at once with
numpy from their SLA inputs (``ticket_sla_inputs``, see ``projections.ticket_state.facts.sla_inputs``).

The definition is ``domain.service_levels.deadlines`` (via ``SlaFacts.deadline_facts_of``); this
module must give exactly its answer (a property test compares them on generated logs), so it
repeats its arithmetic operation for operation: instants in integer microseconds, working time
from the same working windows (``Calendar._working_day``), paused time summed in the same order
in floating point, and the same rounding to microseconds (half to even). It exists because the
definition costs tens of microseconds of Python per deadline, and a what-if asks it for every
deadline of a month's tickets.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import orjson

from domain.calendar import MAX_DAYS, Calendar
from domain.service_levels import ServicePolicy

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
NONE = np.int64(-(2**62))  # "no instant" in the int64 columns
KINDS = ("first_response", "resolution", "next_response", "ola")


class Windows:
    """A calendar's working windows between two instants (plus ``MAX_DAYS``, as far as the
    definition looks ahead), as arrays: working time elapsed and the instant after so much of it."""

    def __init__(self, calendar: Calendar, first: int, last: int):
        self.always_open = calendar.always_open
        if self.always_open:
            return
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(calendar.timezone)
        day = (EPOCH + timedelta(microseconds=int(first))).astimezone(zone).date() - timedelta(days=1)
        end = (EPOCH + timedelta(microseconds=int(last))).astimezone(zone).date() + timedelta(days=MAX_DAYS + 1)
        opens, closes = [], []
        while day <= end:
            window = calendar._working_day(day)
            if window is not None:
                opens.append((window[0] - EPOCH) // timedelta(microseconds=1))
                closes.append((window[1] - EPOCH) // timedelta(microseconds=1))
            day += timedelta(days=1)
        self.opens = np.array(opens, dtype=np.int64)
        self.closes = np.array(closes, dtype=np.int64)
        lengths = self.closes - self.opens
        self.after = np.cumsum(lengths)
        self.before = self.after - lengths

    def elapsed(self, t: np.ndarray) -> np.ndarray:
        """Working time up to each instant (relative to the first window: only differences count)."""
        j = np.searchsorted(self.opens, t, side="left") - 1
        jj = np.maximum(j, 0)
        return np.where(j >= 0, self.before[jj] + np.minimum(t, self.closes[jj]) - self.opens[jj], 0)

    def business_seconds(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """``Calendar.business_seconds`` of each pair (0.0 when end is not after start)."""
        span = (end - start) if self.always_open else (self.elapsed(end) - self.elapsed(start))
        return np.where(end > start, span.astype(np.float64) / 1e6, 0.0)

    def add_business_seconds(self, start: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        """``Calendar.add_business_seconds`` of each pair, in microseconds."""
        amount = np.rint(seconds * 1e6).astype(np.int64)
        if self.always_open:
            return start + amount
        target = self.elapsed(start) + amount
        k = np.maximum(np.searchsorted(self.after, target, side="left"),
                       np.searchsorted(self.closes, start, side="right"))
        return np.maximum(self.opens[k] + target - self.before[k], start)


class Candidates:
    """Deadlines to judge, one entry each: which ticket, kind, start, the instant that met it (or
    NONE), the instant it counts as met (met, else the resolution), target minutes, calendar and
    whether the ticket's pauses push it back (not OLAs). Built in numpy blocks, one per kind."""

    FIELDS = ("ticket", "kind", "start", "met", "met_fact", "minutes", "calendar", "paused")

    def __init__(self) -> None:
        self.blocks: list[tuple[np.ndarray, ...]] = []

    def block(self, ticket, kind: int, start, met, met_fact, minutes, calendar, paused: bool) -> None:
        size = len(ticket)
        if size:
            self.blocks.append((np.asarray(ticket, dtype=np.int64), np.full(size, kind, dtype=np.int64),
                                np.asarray(start, dtype=np.int64), np.asarray(met, dtype=np.int64),
                                np.asarray(met_fact, dtype=np.int64), np.asarray(minutes, dtype=np.float64),
                                np.asarray(calendar, dtype=np.int64), np.full(size, paused, dtype=bool)))

    def arrays(self) -> dict[str, np.ndarray]:
        if not self.blocks:
            return {name: np.zeros(0, dtype=np.int64) for name in self.FIELDS}
        return {name: np.concatenate([b[i] for b in self.blocks]) for i, name in enumerate(self.FIELDS)}


# Columns of ``ticket_sla_inputs`` this module reads, in this order (instants NONE when absent,
# JSON texts only when the policy needs them: see ``select``).
COLUMNS = ("target", "opened_us", "first_response_us", "resolution_start_us", "resolved_us", "waiting_us",
           "pauses", "waits", "transfers")
MATCHED = ("priority", "tier", "category", "channel")


def select(policy: ServicePolicy) -> tuple[str, list[Any]]:
    """The SELECT list of ``COLUMNS`` for this policy, and its parameters: ``target`` is the index
    of the SLA target each ticket matches (first match wins, as ``ServicePolicy.sla_for``; -1 for
    none), computed by the database; absent instants are NONE; next-response waits are read only
    for tickets whose target has a next-response time, transfers only when the policy has OLAs
    (most tickets have waits: their text is the largest column)."""
    cases, target_params = [], []
    for index, target in enumerate(policy.sla):
        conditions = [f"{column} = ?" for column in MATCHED if getattr(target, column) is not None]
        target_params.extend(getattr(target, column) for column in MATCHED if getattr(target, column) is not None)
        cases.append(f"WHEN {' AND '.join(conditions) or '1 = 1'} THEN {index}")
    target_of = f"CASE {' '.join(cases)} ELSE -1 END" if cases else "-1"
    with_waits = [str(i) for i, t in enumerate(policy.sla) if t.next_response_minutes]
    parts, params = [target_of], list(target_params)
    for column in COLUMNS[1:]:
        if column.endswith("_us"):
            parts.append(f"COALESCE({column}, {int(NONE)})")
        elif column == "waits":
            parts.append(f"CASE WHEN ({target_of}) IN ({', '.join(with_waits)}) THEN waits END" if with_waits
                         else "NULL")
            params.extend(target_params if with_waits else [])
        elif column == "transfers" and not policy.ola:
            parts.append("NULL")
        else:
            parts.append(column)
    return ", ".join(parts), params


def missed_kinds(rows: list[tuple[Any, ...]], policy: ServicePolicy) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """For each row (``COLUMNS``, as ``select`` reads them): whether it missed any deadline under
    ``policy``, and per kind how many deadlines each missed (arrays aligned with ``rows``)."""
    n = len(rows)
    if n == 0:
        return np.zeros(0, dtype=bool), {}
    columns = list(zip(*rows))
    # one group per SLA target, and a last one (-1) for tickets matching none
    targets = [*policy.sla, None]
    group = np.array(columns[0], dtype=np.int64)
    names = sorted(policy.calendars)
    code = {name: i for i, name in enumerate(names)}
    opened, first_response, resolution_start, resolved, waiting = (
        np.array(columns[i], dtype=np.int64) for i in range(1, 6))
    pauses_json, waits_json, transfers_json = columns[6:9]
    c = Candidates()
    calendar_of = np.array([code[t.calendar] if t else -1 for t in targets], dtype=np.int64)[group]
    for kind, attribute in ((0, "first_response_minutes"), (1, "resolution_minutes")):
        minutes = np.array([getattr(t, attribute) or 0.0 if t else 0.0 for t in targets], dtype=np.float64)[group]
        chosen = np.flatnonzero(minutes > 0)
        if kind == 0:
            met = first_response[chosen]
            c.block(chosen, 0, opened[chosen], met, np.where(met == NONE, resolved[chosen], met), minutes[chosen],
                    calendar_of[chosen], True)
        else:
            c.block(chosen, 1, resolution_start[chosen], resolved[chosen], resolved[chosen], minutes[chosen],
                    calendar_of[chosen], True)
    waits_of = [] if waits_json.count(None) == n else [
        i for i, text in enumerate(waits_json)
        if text is not None and targets[group[i]] is not None and targets[group[i]].next_response_minutes]
    rows_nr = [(i, start, answered) for i in waits_of for _number, start, answered in orjson.loads(waits_json[i])]
    if rows_nr:
        ticket, start, answered = (list(x) for x in zip(*rows_nr))
        met = [NONE if a is None else a for a in answered]
        c.block(ticket, 2, start, met, [int(resolved[i]) if m == NONE else m for i, m in zip(ticket, met)],
                [targets[group[i]].next_response_minutes for i in ticket], [calendar_of[i] for i in ticket], True)
    rows_ola = [] if transfers_json.count(None) == n else [
        (i, at, policy.ola[department], handed) for i, text in enumerate(transfers_json) if text is not None
        for _number, at, department, handed in orjson.loads(text) if department in policy.ola]
    if rows_ola:
        ticket, start, olas, handed = (list(x) for x in zip(*rows_ola))
        met = [NONE if h is None else h for h in handed]
        c.block(ticket, 3, start, met, [int(resolved[i]) if m == NONE else m for i, m in zip(ticket, met)],
                [o.minutes for o in olas], [code[o.calendar] for o in olas], False)
    found = c.arrays()
    late = _late(found, pauses_json, waiting, policy, names)
    per_kind = {name: np.bincount(found["ticket"][late & (found["kind"] == k)], minlength=n)
                for k, name in enumerate(KINDS)}
    return np.bincount(found["ticket"][late], minlength=n) > 0, per_kind


def _late(c: dict[str, np.ndarray], closed: tuple, waiting: np.ndarray, policy: ServicePolicy,
          names: list[str]) -> np.ndarray:
    """Whether each candidate deadline was met after it was due (``_deadline`` of the definition)."""
    m = len(c["ticket"])
    if m == 0:
        return np.zeros(0, dtype=bool)
    ticket, start, met, met_fact = c["ticket"], c["start"], c["met"], c["met_fact"]
    seconds_target = c["minutes"] * 60
    pauses = _pauses(closed, waiting, ticket, c["paused"])
    late = np.zeros(m, dtype=bool)
    has_met = met != NONE
    instants = np.concatenate([start, met_fact, *(p[1][p[1] != NONE] for p in pauses)])
    for calendar in np.unique(c["calendar"]).tolist():
        chosen = c["calendar"] == calendar
        windows = Windows(policy.calendars[names[calendar]], int(instants.min()), int(instants.max()))
        s, mt, hm = start[chosen], met[chosen], has_met[chosen]
        paused = np.zeros(len(s), dtype=np.float64)
        paused_now = np.zeros(len(s), dtype=bool)
        for p_start, p_end, present in pauses:  # in the order of the ticket's pauses, as the definition sums
            p_start, p_end, present = p_start[chosen], p_end[chosen], present[chosen]
            open_ended = p_end == NONE
            counted = present & ~paused_now & ~(~open_ended & (p_end <= s)) & ~(hm & (p_start >= mt))
            paused_now |= counted & open_ended & ~hm
            counted &= ~(open_ended & ~hm)
            end = np.where(open_ended, mt, p_end)
            paused = np.where(counted, paused + windows.business_seconds(np.maximum(p_start, s), end), paused)
        due = windows.add_business_seconds(s, seconds_target[chosen] + paused)
        late[chosen] = ~paused_now & (met_fact[chosen] > due)
    return late


def _pauses(closed: tuple, waiting: np.ndarray, ticket: np.ndarray, uses: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """Per pause ordinal: (start, end or NONE, present) for each candidate, from its ticket's closed
    pauses then the one still open (``waiting_since``), in the definition's order."""
    per_ticket: dict[int, list[tuple[int, int]]] = {}
    if closed.count(None) == len(closed) and not (waiting != NONE).any():
        return []
    for index in {i for i, text in enumerate(closed) if text is not None} | set(np.flatnonzero(waiting != NONE).tolist()):
        found = [(a, b) for a, b in orjson.loads(closed[index])] if closed[index] else []
        if waiting[index] != NONE:
            found.append((int(waiting[index]), NONE))
        per_ticket[index] = found
    width = max((len(p) for p in per_ticket.values()), default=0)
    affected = [(row, per_ticket[index]) for row, (index, use) in enumerate(zip(ticket.tolist(), uses.tolist()))
                if use and index in per_ticket]
    ordinals = []
    for j in range(width):
        starts = np.zeros(len(ticket), dtype=np.int64)
        ends = np.full(len(ticket), NONE, dtype=np.int64)
        present = np.zeros(len(ticket), dtype=bool)
        for row, found in affected:
            if j < len(found):
                starts[row], ends[row], present[row] = found[j][0], found[j][1], True
        ordinals.append((starts, ends, present))
    return ordinals

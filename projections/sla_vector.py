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

from dataclasses import dataclass
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


@dataclass
class Candidates:
    """Deadlines to judge, one entry each: which ticket, kind, start, the instant that met it (or
    NONE), the instant it counts as met (met, else the resolution), target and calendar."""

    ticket: list[int]
    kind: list[int]
    start: list[int]
    met: list[int]
    met_fact: list[int]
    minutes: list[float]
    calendar: list[str]
    paused: list[bool]   # whether the ticket's pauses push it back (not OLAs)

    @classmethod
    def empty(cls) -> Candidates:
        return cls([], [], [], [], [], [], [], [])

    def add(self, ticket: int, kind: int, start: int, met: int | None, met_fact: int, minutes: float,
            calendar: str, paused: bool) -> None:
        self.ticket.append(ticket)
        self.kind.append(kind)
        self.start.append(start)
        self.met.append(NONE if met is None else met)
        self.met_fact.append(met_fact)
        self.minutes.append(minutes)
        self.calendar.append(calendar)
        self.paused.append(paused)


# Columns of ``ticket_sla_inputs`` this module reads, in this order.
COLUMNS = ("priority", "tier", "category", "channel", "opened_us", "first_response_us", "resolution_start_us",
           "resolved_us", "waiting_us", "pauses", "waits", "transfers")


def missed_kinds(rows: list[tuple[Any, ...]], policy: ServicePolicy) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """For each row (``COLUMNS``): whether it missed any deadline under ``policy``, and per kind how
    many deadlines each missed (arrays aligned with ``rows``)."""
    n = len(rows)
    if n == 0:
        return np.zeros(0, dtype=bool), {}
    columns = list(zip(*rows))
    keys = list(zip(*columns[:4]))
    target_of: dict[tuple, Any] = {}
    for key in set(keys):
        target_of[key] = policy.sla_for({"priority": key[0], "tier": key[1], "category": key[2], "channel": key[3]})
    opened, first_response, resolution_start, resolved, _waiting, _pauses, waits, transfers = columns[4:]
    c = Candidates.empty()
    for index, key in enumerate(keys):
        sla = target_of[key]
        if sla is not None:
            if sla.first_response_minutes:
                met = first_response[index]
                c.add(index, 0, opened[index], met, resolved[index] if met is None else met,
                      sla.first_response_minutes, sla.calendar, True)
            if sla.resolution_minutes:
                c.add(index, 1, resolution_start[index], resolved[index], resolved[index], sla.resolution_minutes,
                      sla.calendar, True)
            if sla.next_response_minutes and waits[index]:
                for _number, start, answered in orjson.loads(waits[index]):
                    c.add(index, 2, start, answered, resolved[index] if answered is None else answered,
                          sla.next_response_minutes, sla.calendar, True)
        if policy.ola and transfers[index]:
            for _number, at, department, handed in orjson.loads(transfers[index]):
                ola = policy.ola.get(department)
                if ola is not None:
                    c.add(index, 3, at, handed, resolved[index] if handed is None else handed, ola.minutes,
                          ola.calendar, False)
    late = _late(c, columns, policy)
    ticket = np.array(c.ticket, dtype=np.int64)
    kind = np.array(c.kind, dtype=np.int64)
    per_kind = {name: np.bincount(ticket[late & (kind == code)], minlength=n) for code, name in enumerate(KINDS)}
    return np.bincount(ticket[late], minlength=n) > 0, per_kind


def _late(c: Candidates, columns: list, policy: ServicePolicy) -> np.ndarray:
    """Whether each candidate deadline was met after it was due (``_deadline`` of the definition)."""
    m = len(c.ticket)
    if m == 0:
        return np.zeros(0, dtype=bool)
    ticket = np.array(c.ticket, dtype=np.int64)
    start = np.array(c.start, dtype=np.int64)
    met = np.array(c.met, dtype=np.int64)
    met_fact = np.array(c.met_fact, dtype=np.int64)
    seconds_target = np.array(c.minutes, dtype=np.float64) * 60
    calendar = np.array(c.calendar, dtype=object)
    uses_pauses = np.array(c.paused, dtype=bool)
    pauses = _pauses(columns[9], columns[8], ticket, uses_pauses)
    late = np.zeros(m, dtype=bool)
    has_met = met != NONE
    instants = np.concatenate([start, met_fact, *(p[1][p[1] != NONE] for p in pauses)])
    for name in set(c.calendar):
        chosen = calendar == name
        windows = Windows(policy.calendars[name], int(instants.min()), int(instants.max()))
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


def _pauses(closed: tuple, waiting: tuple, ticket: np.ndarray, uses: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """Per pause ordinal: (start, end or NONE, present) for each candidate, from its ticket's closed
    pauses then the one still open (``waiting_since``), in the definition's order."""
    per_ticket: dict[int, list[tuple[int, int]]] = {}
    for index in set(ticket.tolist()):
        found = [(a, b) for a, b in orjson.loads(closed[index])] if closed[index] else []
        if waiting[index] is not None:
            found.append((waiting[index], NONE))
        if found:
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

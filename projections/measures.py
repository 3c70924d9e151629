"""The measures of DOMAIN.md ("Measures (exact definitions)") computed from ticket-state rows.

Pure functions of rows; the rows are folds of the events (as they stood at the query's moment),
so every figure can be recomputed for any past moment from the events alone. Percentiles are
exact over the values (linear interpolation between closest ranks, numpy's default), never
sketched. Every instant compared is business time (``occurred_at``).

Where DOMAIN.md leaves a choice, this module makes it, once, and the README repeats it:
- contacts: the opening is the first inbound contact; each inbound customer interaction adds one;
- FRT: over tickets opened in the window that had a first response by the moment;
- resolved, TTR: tickets whose final resolution (not undone by a reopen) lies in the window;
- FCR: resolved, one contact, no transfer, no escalation, never reopened;
- reopen rate: reopens in the window / resolutions in the window;
- bot deflection: of the tickets opened on the bot channel, those resolved without any
  assignment or agent interaction;
- average handle time: mean, over tickets resolved in the window that have agent handling time
  recorded (an agent interaction with a duration), of the summed durations; a ticket handled
  without any duration recorded has an unknown handle time, not zero. The same definition feeds
  staffing;
- backlog: tickets open at the end of the window (``to``, or ``as_of`` when earlier), as known
  at ``known_at``: computed by the caller at that moment and passed in;
- SLA compliance: of the tickets resolved in the window, the share that missed no deadline (SLA
  facts judged from the events, ``projections.ticket_state.facts``, not the watcher's notices);
- SLA breaches per kind: deadlines that fell due in the window and were missed: met after they
  were due, or not met by the end of the window (or the moment described, when earlier);
- escalations and complaints are attributed to whoever was assignee when they occurred.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from domain.ticket_history import Reopen, Resolution
from projections.distribution import Distribution, bin_of
from projections.fact_totals import CSAT_GOOD, NPS_DETRACTOR, NPS_PROMOTER, totals_of
from projections.ticket_state.facts import SlaFacts, deadline_kind, missed_deadlines
from projections.ticket_state.fold import TicketRow, iso


def parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


def seconds_between(start: str, end: str) -> float:
    return (parse(end) - parse(start)).total_seconds()


def percentile(values: Sequence[float], q: float) -> float | None:
    """Exact percentile ``q`` (0–100) with linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def distribution(values: Sequence[float]) -> dict[str, float | int | None]:
    return {
        "count": len(values),
        "mean": math.fsum(values) / len(values) if values else None,
        "median": percentile(values, 50),
        "p90": percentile(values, 90),
    }


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# --------------------------------------------------------------------------- per ticket
def contacts(row: TicketRow) -> int:
    return 1 + row.inbound_count


def first_response_seconds(row: TicketRow) -> float | None:
    return None if row.first_response_at is None else seconds_between(row.opened_at, row.first_response_at)


def paused_seconds(row: TicketRow, until: str | None = None) -> float:
    total = sum(seconds_between(start, end) for start, end in row.paused)
    if row.waiting_since is not None and until is not None:
        total += max(0.0, seconds_between(row.waiting_since, until))
    return total


def resolution_seconds(row: TicketRow) -> float | None:
    """TTR: opened → final resolution, minus the time paused waiting on the customer."""
    if row.resolved_at is None:
        return None
    return seconds_between(row.opened_at, row.resolved_at) - paused_seconds(row)


def has_handle_time(row: TicketRow) -> bool:
    """An agent interaction with a recorded duration: the ticket's handle time is known."""
    # unpacked in ``Interaction``'s field order (a named tuple per item cost more than the test)
    return any(author == "agent" and duration is not None
               for _at, _channel, author, _agent, duration in row.interactions)


def average_handle_seconds(resolved: Iterable[TicketRow]) -> float | None:
    """AHT: the mean summed agent handling time of the given resolved tickets whose handle time is known."""
    known = [r.handle_seconds for r in resolved if has_handle_time(r)]
    return math.fsum(known) / len(known) if known else None


def within_sla(row: TicketRow) -> bool:
    return not missed_deadlines(row)


def assignee_at(row: TicketRow, at: str, version: int) -> str | None:
    """Who was assignee when something occurred at ``at`` (business time; ties in log order).
    Late events make the log's order differ from business time, so this is not "the assignee
    when the event was folded"."""
    before = [change for change in row.assignee_changes if (change[0], change[1]) < (at, version)]
    return max(before, key=lambda change: (change[0], change[1]))[2] if before else None


def is_resolved(row: TicketRow) -> bool:
    return row.resolved_at is not None


def is_fcr(row: TicketRow) -> bool:
    return (is_resolved(row) and contacts(row) == 1 and row.transfer_count == 0
            and row.escalation_count == 0 and row.reopen_count == 0)


def is_complaint(row: TicketRow) -> bool:
    return row.complaint_at is not None


def is_bot_deflected(row: TicketRow) -> bool:
    return (row.channel == "bot" and is_resolved(row) and not row.assignments
            and row.agent_interactions == 0)


def within(moment: str | None, start: str, end: str) -> bool:
    return moment is not None and start <= moment < end


def touches(row: TicketRow, start: str, end: str) -> bool:
    """Opened before the window ends, with an event that occurred at or after its start (the
    latest business time of any event, whatever order they were recorded in). Only such rows
    can count in a window; a group of KPIs exists when one of its rows touches the window."""
    return row.opened_at < end and (row.activity_at or row.opened_at) >= start


# ----------------------------------------------------------------------------- over rows
def kpis(rows: Iterable[TicketRow], start: datetime, end: datetime, backlog: int,
         judge: SlaFacts | None = None, at: datetime | None = None) -> dict[str, Any]:
    """Every KPI of DOMAIN.md over ``[start, end)`` from the given rows (any superset of the rows
    with activity in the window is fine); ``backlog`` is counted by the caller at the window's end;
    ``judge`` and ``at`` (the instant the answer describes) judge the deadlines of open tickets."""
    lo, hi = iso(start), iso(end)
    rows = list(rows)
    opened = [r for r in rows if within(r.opened_at, lo, hi)]
    resolved = [r for r in rows if within(r.resolved_at, lo, hi)]
    surveyed = [r for r in rows if within(r.surveyed_at, lo, hi)]
    responded = [r for r in opened if r.first_response_at is not None]
    resolutions = sum(1 for r in rows for at, _ in r.resolutions if within(at, lo, hi))
    reopens = sum(1 for r in rows for at, _ in r.reopens if within(at, lo, hi))
    bot = [r for r in opened if r.channel == "bot"]
    csats = [r.csat for r in surveyed if r.csat is not None]
    npss = [r.nps for r in surveyed if r.nps is not None]
    return {
        "volume": len(opened),
        "backlog": backlog,
        "first_response_seconds": distribution([first_response_seconds(r) for r in responded]),
        "first_response_business_seconds": distribution(
            [r.first_response_business_seconds for r in responded if r.first_response_business_seconds is not None]),
        "resolution_seconds": distribution([resolution_seconds(r) for r in resolved]),
        "resolution_business_seconds": distribution(
            [r.resolution_business_seconds for r in resolved if r.resolution_business_seconds is not None]),
        "resolved": len(resolved),
        "fcr_rate": ratio(sum(1 for r in resolved if is_fcr(r)), len(resolved)),
        "csat": csat(csats),
        "nps": nps(npss),
        "sla_compliance": ratio(sum(1 for r in resolved if within_sla(r)), len(resolved)),
        "sla_breaches": breaches_by_kind(rows, lo, hi, judge, iso(min(end, at or end))),
        "escalation_rate": ratio(sum(1 for r in opened if r.escalation_count), len(opened)),
        "reopen_rate": ratio(reopens, resolutions),
        "complaint_rate": ratio(sum(1 for r in opened if is_complaint(r)), len(opened)),
        "bot_deflection_rate": ratio(sum(1 for r in bot if is_bot_deflected(r)), len(bot)),
        "average_handle_seconds": average_handle_seconds(resolved),
    }


def breaches_by_kind(rows: Iterable[TicketRow], lo: str, hi: str, judge: SlaFacts | None, at: str) -> dict[str, int]:
    """Deadlines that fell due in ``[lo, hi)`` and were missed (met late, or unmet at ``at``), per kind."""
    counts: dict[str, int] = {}
    if judge is None:
        return counts
    for row in rows:
        for key, due in judge.missed_by(row, at):
            if lo <= due < hi:
                kind = deadline_kind(key)
                counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items()))


def csat(scores: Sequence[int]) -> dict[str, Any]:
    """CSAT: share of answers scoring 4 or 5 (percent), and the mean score."""
    return csat_of(len(scores), sum(1 for s in scores if s >= CSAT_GOOD), sum(scores))


def csat_of(answers: int, good: int, total: int) -> dict[str, Any]:
    """CSAT from its tallies: answers, answers scoring 4 or 5, and the sum of the scores."""
    return {"responses": answers, "percent": 100 * good / answers if answers else None,
            "mean": total / answers if answers else None}


def nps(scores: Sequence[int]) -> dict[str, Any]:
    """NPS: percent of promoters (9–10) minus percent of detractors (0–6)."""
    return nps_of(len(scores), sum(1 for s in scores if s >= NPS_PROMOTER),
                  sum(1 for s in scores if s <= NPS_DETRACTOR))


def nps_of(answers: int, promoters: int, detractors: int) -> dict[str, Any]:
    if not answers:
        return {"responses": 0, "score": None}
    return {"responses": answers, "score": 100 * (promoters - detractors) / answers}


DIMENSIONS = {"channel", "category", "team", "priority", "region"}


def group_of(row: TicketRow, group_by: str) -> str:
    return str(getattr(row, group_by) or "(none)")


def counts_in(row: TicketRow, lo: str, hi: str, judge: SlaFacts | None, at: str) -> bool:
    """Whether the row counts in some KPI of ``[lo, hi)``: opened, resolved, surveyed, a resolution
    or a reopen in the window, or a deadline missed that fell due in it. A group of KPIs exists
    when one of its tickets counts in the window or is open at its end."""
    return (within(row.opened_at, lo, hi) or within(row.resolved_at, lo, hi) or within(row.surveyed_at, lo, hi)
            or any(within(Resolution._make(resolution).at, lo, hi) for resolution in row.resolutions)
            or any(within(Reopen._make(reopen).at, lo, hi) for reopen in row.reopens)
            or bool(breaches_by_kind([row], lo, hi, judge, at)))


def grouped_kpis(rows: Iterable[TicketRow], start: datetime, end: datetime, group_by: str | None,
                 backlog_rows: Iterable[TicketRow], judge: SlaFacts | None = None,
                 at: datetime | None = None) -> dict[str, Any]:
    """KPIs over the window, per group of ``group_by`` (each group's backlog from ``backlog_rows``,
    the tickets open at the window's end). The slow, obviously correct path over whole rows; the
    read side counts roll-up cells and fact rows instead (``count_cells``, ``count_facts``) and the property tests hold them equal."""
    lo, hi = iso(start), iso(end)
    rows, backlog_rows = list(rows), list(backlog_rows)
    if not group_by:
        return {"all": kpis(rows, start, end, len(backlog_rows), judge, at)}
    if group_by not in DIMENSIONS:
        raise ValueError(f"group_by must be one of {', '.join(sorted(DIMENSIONS))}")
    described = iso(min(end, at or end))
    groups: dict[str, list[TicketRow]] = {}
    for row in rows:
        if counts_in(row, lo, hi, judge, described):
            groups.setdefault(group_of(row, group_by), []).append(row)
    backlog: dict[str, int] = {}
    for row in backlog_rows:
        backlog[group_of(row, group_by)] = backlog.get(group_of(row, group_by), 0) + 1
    return {key: kpis(groups.get(key, []), start, end, backlog.get(key, 0), judge, at)
            for key in sorted(set(groups) | set(backlog))}


# ------------------------------------------------------------------------- over fact rows
KPI_FACTS = ("opened", "resolved", "survey", "resolution", "reopen", "deadline")
GROUPED = {"channel": 3, "category": 4, "team": 5, "priority": 6, "region": 7}  # positions in a Fact


class KpiTally:
    """What the KPIs of one group count, gathered from fact rows (``ticket_state.fact_rows``) and
    roll-up cells (``ticket_state.rollups``). Durations are ``Distribution`` sketches: counts and
    means exact, median and p90 within 1 % (README "Measures")."""

    __slots__ = ("facts", "volume", "frt", "frt_business", "escalated", "complaints", "bot", "deflected", "resolved",
                 "ttr", "ttr_business", "fcr", "within_sla", "handle", "csat_n", "csat_good", "csat_sum", "nps_n",
                 "nps_promoters", "nps_detractors", "resolutions", "reopens", "breaches")

    def __init__(self) -> None:
        self.facts = self.volume = self.escalated = self.complaints = self.bot = self.deflected = 0
        self.resolved = self.fcr = self.within_sla = self.resolutions = self.reopens = 0
        self.csat_n = self.csat_good = self.csat_sum = self.nps_n = self.nps_promoters = self.nps_detractors = 0
        self.frt, self.frt_business = Distribution(), Distribution()
        self.ttr, self.ttr_business = Distribution(), Distribution()
        self.handle = Distribution()
        self.breaches: dict[str, int] = {}

    def add(self, fact: Any, at: str, sign: int = 1) -> bool:
        """Counts one fact of the window (``sign`` −1 takes it out again); False for a running
        deadline not yet due at ``at``."""
        kind = fact.kind
        if kind == "deadline":
            if not (fact.flags & 1 or fact.at <= at):
                return False
            self.breaches[fact.detail] = self.breaches.get(fact.detail, 0) + sign
            self.facts += sign
            return True
        totals = totals_of(fact)
        self.add_totals(kind, fact.detail, [sign * amount for amount in totals])
        if kind in ("opened", "resolved"):
            fast, business = (self.frt, self.frt_business) if kind == "opened" else (self.ttr, self.ttr_business)
            if fact.seconds is not None:
                fast.bins[bin_of(fact.seconds)] += sign
            if fact.business_seconds is not None:
                business.bins[bin_of(fact.business_seconds)] += sign
        return True

    def add_totals(self, kind: str, detail: str | None, totals: Sequence[int]) -> None:
        """Adds a roll-up cell's totals (``rollups.TOTALS``) of one kind."""
        (n, bit0, bit1, bit2, bit3, s_n, s_us, bs_n, bs_us, h_n, h_us,
         c_n, c_good, c_sum, p_n, p_pro, p_det) = totals
        if not any(totals):  # a sum of cells and undone changes can net the count to 0 and not its values
            return
        self.facts += n
        if kind == "opened":
            self.volume += n
            self.escalated += bit0
            self.complaints += bit1
            self.bot += bit2
            self.deflected += bit3
            self.frt.add_totals(s_n, s_us)
            self.frt_business.add_totals(bs_n, bs_us)
        elif kind == "resolved":
            self.resolved += n
            self.fcr += bit0
            self.within_sla += bit1
            self.ttr.add_totals(s_n, s_us)
            self.ttr_business.add_totals(bs_n, bs_us)
            self.handle.add_totals(h_n, h_us)
        elif kind == "survey":
            add_survey_totals(self, c_n, c_good, c_sum, p_n, p_pro, p_det)
        elif kind == "resolution":
            self.resolutions += n
        elif kind == "reopen":
            self.reopens += n
        elif kind == "deadline":
            self.breaches[detail or ""] = self.breaches.get(detail or "", 0) + n

    def sketch(self, kind: str, measure: str) -> Distribution | None:
        """The distribution a roll-up's bins of this kind and measure (``s``, ``b``) add to."""
        if kind == "opened":
            return self.frt if measure == "s" else self.frt_business
        if kind == "resolved":
            return self.ttr if measure == "s" else self.ttr_business
        return None

    def kpis(self, backlog: int) -> dict[str, Any]:
        return {
            "volume": self.volume,
            "backlog": backlog,
            "first_response_seconds": self.frt.summary(),
            "first_response_business_seconds": self.frt_business.summary(),
            "resolution_seconds": self.ttr.summary(),
            "resolution_business_seconds": self.ttr_business.summary(),
            "resolved": self.resolved,
            "fcr_rate": ratio(self.fcr, self.resolved),
            "csat": csat_of(self.csat_n, self.csat_good, self.csat_sum),
            "nps": nps_of(self.nps_n, self.nps_promoters, self.nps_detractors),
            "sla_compliance": ratio(self.within_sla, self.resolved),
            "sla_breaches": {kind: n for kind, n in sorted(self.breaches.items()) if n},
            "escalation_rate": ratio(self.escalated, self.volume),
            "reopen_rate": ratio(self.reopens, self.resolutions),
            "complaint_rate": ratio(self.complaints, self.volume),
            "bot_deflection_rate": ratio(self.deflected, self.bot),
            "average_handle_seconds": self.handle.mean(),
        }


def group_key(value: Any, group_by: str | None) -> str:
    return "all" if not group_by else str(value or "(none)")


def check_group_by(group_by: str | None) -> None:
    if group_by and group_by not in DIMENSIONS:
        raise ValueError(f"group_by must be one of {', '.join(sorted(DIMENSIONS))}")


def count_facts(tallies: dict[str, KpiTally], facts: Iterable[Any], group_by: str | None, at: str,
                sign: int = 1) -> None:
    """Adds facts one by one (``sign`` −1: takes them out)."""
    position = GROUPED.get(group_by or "")
    for fact in facts:
        key = group_key(None if position is None else fact[position], group_by)
        tally = tallies.get(key)
        if tally is None:
            tally = tallies[key] = KpiTally()
        tally.add(fact, at, sign)


def count_cells(tallies: dict[str, KpiTally], totals: Iterable[tuple], bins: Iterable[tuple],
                group_by: str | None) -> None:
    """Adds roll-up cells: ``totals`` rows (slice value, kind, detail, *``rollups.TOTALS``) and
    ``bins``: merged sketches (slice value, kind, measure, bins)."""
    for value, kind, detail, *sums in totals:
        tally = tallies.get(key := group_key(value, group_by)) or tallies.setdefault(key, KpiTally())
        tally.add_totals(kind, detail, sums)
    add_sketches(bins, lambda value: tallies.get(key := group_key(value, group_by)) or tallies.setdefault(key, KpiTally()))


def add_sketches(sketches: Iterable[tuple], tally_of: Any) -> None:
    """Adds merged sketch bins (slice value, kind, measure, bins) to ``tally_of(value).sketch(kind, measure)``."""
    for value, kind, measure, bins in sketches:
        target = tally_of(value).sketch(kind, measure)
        if target is not None:
            target.add_bins(bins)


def add_survey_totals(tally: Any, c_n: int, c_good: int, c_sum: int, p_n: int, p_pro: int, p_det: int) -> None:
    """Adds survey tallies to a KPI or agent tally (both keep the same six counts)."""
    tally.csat_n += c_n
    tally.csat_good += c_good
    tally.csat_sum += c_sum
    tally.nps_n += p_n
    tally.nps_promoters += p_pro
    tally.nps_detractors += p_det


def finish(tallies: dict[str, KpiTally], open_count: dict[str, int], keep: str | None = None) -> dict[str, Any]:
    """The KPIs of every group that counts a fact of the window or has a backlog (``keep``: a
    group listed whatever it counts)."""
    listed = {key for key, tally in tallies.items() if tally.facts > 0} | set(open_count) | ({keep} if keep else set())
    return {key: tallies.get(key, KpiTally()).kpis(open_count.get(key, 0)) for key in sorted(listed)}

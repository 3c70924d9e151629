"""The measures of DOMAIN.md ("Measures (exact definitions)") computed from ticket-state rows.

Pure functions of rows; the rows are folds of the events, so every figure can be recomputed for
any past moment by folding the events of that moment. Percentiles are exact over the values
(linear interpolation between closest ranks, as numpy's default), never sketched.

Where DOMAIN.md leaves a choice, this module makes it and says so:
- contacts: the opening is the first inbound contact; each inbound customer interaction adds one;
- FCR: resolved (now), one contact, no transfer, no escalation, never reopened;
- reopen rate: reopens in the range / resolutions in the range;
- bot deflection: of the tickets opened on the bot channel, those resolved without any
  assignment or agent interaction;
- average handle time: mean over tickets resolved in the range of the summed durations of
  their agent interactions;
- backlog: tickets open at the moment of the state (``as_of``, default now);
- SLA compliance: of the tickets resolved in the range, the share with no breach recorded.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

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
        "mean": sum(values) / len(values) if values else None,
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


# ----------------------------------------------------------------------------- over rows
def kpis(rows: Iterable[TicketRow], start: datetime, end: datetime) -> dict[str, Any]:
    """Every KPI of DOMAIN.md over ``[start, end)`` from the given rows (any superset is fine)."""
    lo, hi = iso(start), iso(end)
    rows = list(rows)
    opened = [r for r in rows if within(r.opened_at, lo, hi)]
    resolved = [r for r in rows if within(r.resolved_at, lo, hi)]
    surveyed = [r for r in rows if within(r.surveyed_at, lo, hi)]
    responded = [v for r in opened if (v := first_response_seconds(r)) is not None]
    resolutions = sum(1 for r in rows for at, _ in r.resolutions if within(at, lo, hi))
    reopens = sum(1 for r in rows for at, _ in r.reopens if within(at, lo, hi))
    bot = [r for r in opened if r.channel == "bot"]
    csats = [r.csat for r in surveyed if r.csat is not None]
    npss = [r.nps for r in surveyed if r.nps is not None]
    return {
        "volume": len(opened),
        "backlog": sum(1 for r in rows if r.is_open),
        "first_response_seconds": distribution(responded),
        "resolution_seconds": distribution([resolution_seconds(r) for r in resolved]),
        "resolved": len(resolved),
        "fcr_rate": ratio(sum(1 for r in resolved if is_fcr(r)), len(resolved)),
        "csat": csat(csats),
        "nps": nps(npss),
        "sla_compliance": ratio(sum(1 for r in resolved if not r.sla_breaches), len(resolved)),
        "sla_breaches": breaches_by_kind(rows, lo, hi),
        "escalation_rate": ratio(sum(1 for r in opened if r.escalation_count), len(opened)),
        "reopen_rate": ratio(reopens, resolutions),
        "complaint_rate": ratio(sum(1 for r in opened if is_complaint(r)), len(opened)),
        "bot_deflection_rate": ratio(sum(1 for r in bot if is_bot_deflected(r)), len(bot)),
        "average_handle_seconds": (sum(r.handle_seconds for r in resolved) / len(resolved)) if resolved else None,
    }


def breaches_by_kind(rows: Iterable[TicketRow], lo: str, hi: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        for deadline, _due, at in row.sla_breaches:
            if within(at, lo, hi):
                kind = deadline.split("#")[0].split(":")[0]
                counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items()))


def csat(scores: Sequence[int]) -> dict[str, Any]:
    """CSAT: share of answers scoring 4 or 5 (percent), and the mean score."""
    return {
        "responses": len(scores),
        "percent": 100 * sum(1 for s in scores if s >= 4) / len(scores) if scores else None,
        "mean": sum(scores) / len(scores) if scores else None,
    }


def nps(scores: Sequence[int]) -> dict[str, Any]:
    """NPS: percent of promoters (9–10) minus percent of detractors (0–6)."""
    if not scores:
        return {"responses": 0, "score": None}
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return {"responses": len(scores), "score": 100 * (promoters - detractors) / len(scores)}


DIMENSIONS = {"channel", "category", "team", "priority", "region"}


def grouped_kpis(rows: Iterable[TicketRow], start: datetime, end: datetime, group_by: str | None) -> dict[str, Any]:
    rows = list(rows)
    if not group_by:
        return {"all": kpis(rows, start, end)}
    if group_by not in DIMENSIONS:
        raise ValueError(f"group_by must be one of {', '.join(sorted(DIMENSIONS))}")
    groups: dict[str, list[TicketRow]] = {}
    for row in rows:
        groups.setdefault(str(getattr(row, group_by) or "(none)"), []).append(row)
    return {key: kpis(members, start, end) for key, members in sorted(groups.items())}


# -------------------------------------------------------------------------------- periods
def period_bounds(period: str) -> tuple[datetime, datetime]:
    """``YYYY-MM`` (month), ``YYYY-Www`` (ISO week) or ``YYYY-MM-DD`` (day), in UTC: [start, end)."""
    try:
        if "-W" in period:
            year, week = period.split("-W")
            start = datetime.fromisocalendar(int(year), int(week), 1).replace(tzinfo=timezone.utc)
            return start, start + timedelta(weeks=1)
        parts = [int(p) for p in period.split("-")]
        if len(parts) == 2:
            start = datetime(parts[0], parts[1], 1, tzinfo=timezone.utc)
            end = datetime(parts[0] + parts[1] // 12, parts[1] % 12 + 1, 1, tzinfo=timezone.utc)
            return start, end
        if len(parts) == 3:
            start = datetime(*parts, tzinfo=timezone.utc)
            return start, start + timedelta(days=1)
    except ValueError:
        pass
    raise ValueError("period must be YYYY-MM, YYYY-Www or YYYY-MM-DD")

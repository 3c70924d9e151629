"""NYC Council constituent cases (CouncilStat export, ``constituent_cases.csv``).

One row is one case. The case opens at ``opendate`` and, when ``closedate`` is set, is resolved and
closed that day. The source has dates only, so instants are midnight in New York (the ticket's
"day" is right, its time of day is not: hourly figures of this source mean nothing). It has no
channel, no priority and no individual agent; the handling office (``account``) is the department.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from consumers.importers.base import RowError, SourceRow, Step, command_key, read_source
from domain import commands
from domain.application import ticket_id_for_key
from domain.ticket import Ticket

FORMAT = "nyc-council"
NEW_YORK = ZoneInfo("America/New_York")
COLUMNS = ("unique_key", "account", "opendate", "closedate", "complaint_type", "descriptor", "zip", "borough",
           "council_dist")


@dataclass(frozen=True)
class Case:
    key: str
    opened_on: date
    closed_on: date | None
    category: str
    sub_category: str | None
    borough: str | None
    postal_code: str | None
    district: str | None
    department: str | None


@lru_cache(maxsize=1 << 14)  # a few thousand distinct days in a file of a quarter of a million cases
def midnight(day: date) -> datetime:
    """Midnight in New York on ``day``, as the UTC instant the commands store. Converted here, once
    per day: a command converts an instant with another offset itself, but comparing and converting
    one in a ``ZoneInfo`` zone costs more than the rest of its validation (three per case)."""
    return datetime.combine(day, time(0), NEW_YORK).astimezone(timezone.utc)


def _day(row: dict[str, str], column: str, required: bool) -> date | None:
    text = (row.get(column) or "").strip()
    if not text:
        if required:
            raise RowError(column, "is empty")
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise RowError(column, f"{text!r} is not a date (YYYY-MM-DD)") from None


def _text(row: dict[str, str], column: str) -> str | None:
    return (row.get(column) or "").strip() or None


def parse(row: dict[str, str]) -> Case:
    key = _text(row, "unique_key")
    if key is None:
        raise RowError("unique_key", "is empty")
    category = _text(row, "complaint_type")
    if category is None:
        raise RowError("complaint_type", "is empty: a case needs a category")
    opened = _day(row, "opendate", required=True)
    assert opened is not None
    return Case(key=key, opened_on=opened, closed_on=_day(row, "closedate", required=False), category=category,
                sub_category=_text(row, "descriptor"), borough=_text(row, "borough"),
                postal_code=_text(row, "zip"), district=_text(row, "council_dist"),
                department=_text(row, "account"))


def steps(case: Case, _ticket: Ticket | None = None) -> list[Step]:
    opened = commands.OpenTicket(
        occurred_at=midnight(case.opened_on), customer_id=f"nyc-constituent:{case.key}", channel=None,
        category=case.category, sub_category=case.sub_category, subject=case.sub_category or case.category,
        region=case.borough, postal_code=case.postal_code, district=case.district, department=case.department)
    result: list[Step] = [Step(opened, command_key(FORMAT, case.key, "open"))]
    if case.closed_on is not None:
        at = midnight(case.closed_on)
        result.append(Step(commands.ResolveTicket(occurred_at=at, ticket_id=result[0].ticket_id, code="closed",
                                           summary="closed in CouncilStat"),
                           command_key(FORMAT, case.key, "resolve")))
        result.append(Step(commands.CloseTicket(occurred_at=at, ticket_id=result[0].ticket_id),
                           command_key(FORMAT, case.key, "close")))
    return result


def read(path: Path) -> Iterator[SourceRow]:
    def source_row(line: int, row: dict[str, str]) -> SourceRow:
        case = parse(row)
        return SourceRow(line, row, ticket_id_for_key(command_key(FORMAT, case.key, "open")),
                         midnight(case.opened_on), lambda ticket: steps(case, ticket), stateless=True)

    return read_source(path, FORMAT, COLUMNS, source_row)

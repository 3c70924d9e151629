"""The moment a query describes, and the windows and periods of queries: one resolver each.

- ``as_of`` T (business time): the events that *occurred* at or before T;
- ``known_at`` K (transaction time): the events *recorded* at or before K;
- neither: now. The instant a query describes is ``as_of``, else ``known_at``, else now (what
  the world looked like when the system knew no more than at K).

Days, weeks and months are those of the organisation's time zone (``SERVICETRAIL_TIMEZONE``):
October's evaluation runs from October 1st 00:00 local time. A window bound given as a date is
that day's local midnight.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo

from projections.ticket_state.fold import iso

DEFAULT_WINDOW = timedelta(days=30)


class InvalidQuery(ValueError):
    """A query parameter is out of its domain; ``field`` names it."""

    def __init__(self, field: str, detail: str):
        super().__init__(detail)
        self.field = field


@dataclass(frozen=True)
class Moment:
    as_of: datetime | None = None
    known_at: datetime | None = None

    @property
    def is_live(self) -> bool:
        return self.as_of is None and self.known_at is None

    def instant(self, now: datetime) -> datetime:
        """The business instant the answer describes."""
        return self.as_of or self.known_at or now

    def at(self, as_of: datetime | None) -> Moment:
        """The same knowledge, at another business instant (e.g. the end of a window)."""
        return Moment(as_of, self.known_at)

    @property
    def as_of_text(self) -> str | None:
        return None if self.as_of is None else iso(self.as_of)

    @property
    def known_at_text(self) -> str | None:
        return None if self.known_at is None else iso(self.known_at)


def window(start: datetime | None, end: datetime | None, moment: Moment, now: datetime) -> tuple[datetime, datetime]:
    """``[start, end)`` of a KPI query: ``end`` defaults to the moment's instant, ``start`` to 30 days before."""
    end = end or moment.instant(now)
    start = start or end - DEFAULT_WINDOW
    if end <= start:
        raise InvalidQuery("to", "to must be after from")
    return start, end


DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_bound(field: str, text: str | None, zone: tzinfo) -> datetime | None:
    """A window bound: an instant with its offset, or a date (that day's local midnight)."""
    if text is None or text == "":
        return None
    try:
        if DATE_ONLY.match(text):
            return local_midnight(date.fromisoformat(text), zone)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidQuery(field, f"{field} must be a date (YYYY-MM-DD) or an instant with its offset") from None
    if moment.tzinfo is None:
        raise InvalidQuery(field, f"{field} needs a time-zone offset (e.g. Z or +08:00), or give a date")
    if not 1970 <= moment.year < 9000:
        raise InvalidQuery(field, f"{field} must lie between the years 1970 and 9000")
    return moment.astimezone(timezone.utc)


def required_bound(field: str, text: str | None, zone: tzinfo) -> datetime:
    """A window bound the query cannot do without (``parse_bound``, but absent is refused)."""
    found = parse_bound(field, text, zone)
    if found is None:
        raise InvalidQuery(field, f"{field} is required: a date (YYYY-MM-DD) or an instant with its offset")
    return found


def local_midnight(day: date, zone: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(timezone.utc)


def period_bounds(period: str, zone: tzinfo = timezone.utc) -> tuple[datetime, datetime]:
    """``YYYY-MM`` (month), ``YYYY-Www`` (ISO week) or ``YYYY-MM-DD`` (day) in the organisation's
    time zone, as UTC instants ``[start, end)``."""
    try:
        if re.fullmatch(r"\d{4}-W\d{2}", period):
            year, week = period.split("-W")
            first = date.fromisocalendar(int(year), int(week), 1)
            return local_midnight(first, zone), local_midnight(first + timedelta(weeks=1), zone)
        if re.fullmatch(r"\d{4}-\d{2}", period):
            year, month = (int(p) for p in period.split("-"))
            first = date(year, month, 1)
            following = date(year + month // 12, month % 12 + 1, 1)
            return local_midnight(first, zone), local_midnight(following, zone)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", period):
            day = date.fromisoformat(period)
            return local_midnight(day, zone), local_midnight(day + timedelta(days=1), zone)
    except ValueError:
        pass
    raise InvalidQuery("period", "period must be YYYY-MM, YYYY-Www or YYYY-MM-DD")

"""Business calendars: when the SLA clock runs. Working days and hours in a time zone, holidays,
extra working days (official make-up days), or 24×7. A calendar may name a public-holiday calendar
of the ``holidays`` package (``public_holidays = "CN"``, or ``holidays = "CN"`` in a policy file);
the composition layer resolves that name into ``holidays`` and ``working_days`` when it loads the
policy (``api.policy_files.read_policy``), so this module stays pure. Arithmetic is done on real instants, day by day in local time, so DST changes shift the
UTC hours of a working day rather than its length in local time."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 3 * 366  # how far arithmetic looks for working time before giving up



def known_zone(name: str) -> str:
    """``name`` if it is an IANA time zone, else a ValueError that says so."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. UTC, Europe/Berlin)") from None
    return name

class Calendar(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    always_open: bool = Field(default=False, description="24×7: every instant is working time.")
    timezone: str = "UTC"
    days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    hours: tuple[time, time] = (time(9, 0), time(18, 0))
    holidays: frozenset[date] = frozenset()
    working_days: frozenset[date] = Field(
        default=frozenset(), description="Extra working days at the usual hours, even on a day not in `days` "
                                         "(official make-up days); a holiday on the same date wins.")
    public_holidays: str | None = Field(
        default=None, description="A public-holiday calendar of the `holidays` package (CN, US-NY, DE-BY …): "
                                  "its holidays are not worked, its weekend working days are.")

    @model_validator(mode="before")
    @classmethod
    def _named_holidays(cls, data: object) -> object:
        """``holidays = "CN"`` names a public-holiday calendar; a list gives dates."""
        if isinstance(data, dict) and isinstance(data.get("holidays"), str):
            data = {**data, "public_holidays": data["holidays"]}
            del data["holidays"]
        return data

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        return known_zone(name)

    @field_validator("days")
    @classmethod
    def _weekdays(cls, days: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [d for d in days if d not in WEEKDAYS]
        if unknown:
            raise ValueError(f"days must be among {', '.join(WEEKDAYS)}; got {unknown}")
        return days

    @model_validator(mode="after")
    def _hours_in_order(self) -> Calendar:
        if not self.always_open and self.hours[0] >= self.hours[1]:
            raise ValueError("hours must be [opening, closing] with opening before closing")
        if not self.always_open and not self.days:
            raise ValueError("a calendar needs at least one working day (or always_open = true)")
        return self

    # ------------------------------------------------------------------------------ arithmetic
    def _working_day(self, day: date) -> tuple[datetime, datetime] | None:
        if day in self.holidays or (WEEKDAYS[day.weekday()] not in self.days and day not in self.working_days):
            return None
        zone = ZoneInfo(self.timezone)
        opening = datetime.combine(day, self.hours[0], tzinfo=zone).astimezone(timezone.utc)
        closing = datetime.combine(day, self.hours[1], tzinfo=zone).astimezone(timezone.utc)
        return opening, closing

    def _intervals_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals (UTC) in order, clipped to begin no earlier than ``start``."""
        day = start.astimezone(ZoneInfo(self.timezone)).date() - timedelta(days=1)
        for offset in range(MAX_DAYS):
            window = self._working_day(day + timedelta(days=offset))
            if window is None or window[1] <= start:
                continue
            yield max(window[0], start), window[1]

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Working time between two instants (0 when end is not after start)."""
        if end <= start:
            return 0.0
        if self.always_open:
            return (end - start).total_seconds()
        timeline = _timeline(self)
        if timeline.covers(start) and timeline.covers(end):
            return (timeline.elapsed(_micros(end)) - timeline.elapsed(_micros(start))) / 1e6
        return self.business_seconds_by_day(start, end)

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime:
        """The instant at which ``seconds`` of working time after ``start`` have elapsed."""
        if self.always_open:
            return start + timedelta(seconds=seconds)
        timeline = _timeline(self)
        if timeline.covers(start):
            found = timeline.instant_after(_micros(start), round(seconds * 1e6))
            if found is not None:
                return EPOCH + timedelta(microseconds=found)
        return self.add_business_seconds_by_day(start, seconds)

    # The day-by-day definitions: obviously right, slow; the timeline must agree with them (tested),
    # and they answer outside the years the timeline covers.
    def business_seconds_by_day(self, start: datetime, end: datetime) -> float:
        if end <= start:
            return 0.0
        total = 0.0
        for opening, closing in self._intervals_from(start):
            if opening >= end:
                break
            total += (min(closing, end) - opening).total_seconds()
        return total

    def add_business_seconds_by_day(self, start: datetime, seconds: float) -> datetime:
        remaining = seconds
        for opening, closing in self._intervals_from(start):
            available = (closing - opening).total_seconds()
            if remaining <= available:
                return opening + timedelta(seconds=remaining)
            remaining -= available
        raise ValueError(f"calendar has no working time within {MAX_DAYS} days")


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
TIMELINE_YEARS = (1970, 2200)  # instants outside these years fall back to day-by-day arithmetic


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


_TIMELINES: dict[int, _Timeline] = {}


MEMO_SIZE = 20_000  # answers reused by the next versions of recently active tickets; bounded memory


def _timeline(calendar: Calendar) -> _Timeline:
    """The calendar's timeline, by identity (hashing a calendar model on every call costs more
    than the arithmetic); the timeline keeps its calendar alive, so an id is never reused for it."""
    found = _TIMELINES.get(id(calendar))
    if found is None or found.calendar is not calendar:
        if len(_TIMELINES) > 256:
            _TIMELINES.clear()
        found = _TIMELINES[id(calendar)] = _Timeline(calendar)
    return found


class _Timeline:
    """Cumulative working time of a calendar, so that "working time between" and "instant after so
    much working time" cost a lookup and a bisection instead of a walk over the days (the SLA
    deadlines of every ticket, the business-time FRT and TTR of every KPI ask for them).

    Working time is counted in microseconds from the start of ``TIMELINE_YEARS``; a year's table is
    built the first time one of its instants is asked about."""

    def __init__(self, calendar: Calendar):
        self.calendar = calendar
        self.zone = ZoneInfo(calendar.timezone)
        self.first = date(TIMELINE_YEARS[0], 1, 1)
        self.days: list[tuple[int, int] | None] = []   # working window of each day, in micros
        self.ends: list[int] = []                       # working time elapsed at each day's end
        # Answers already given: a ticket's deadlines are judged again at each of its versions
        # (the read side keeps every version), from the same instants. Bounded, cleared when full.
        self.elapsed_memo: dict[int, int] = {}
        self.after_memo: dict[tuple[int, int], int | None] = {}

    def covers(self, moment: datetime) -> bool:
        return TIMELINE_YEARS[0] <= moment.year < TIMELINE_YEARS[1]

    def _extend_to(self, index: int) -> None:
        while len(self.days) <= index:
            window = self.calendar._working_day(self.first + timedelta(days=len(self.days)))
            before = self.ends[-1] if self.ends else 0
            if window is None:
                self.days.append(None)
                self.ends.append(before)
            else:
                opening, closing = _micros(window[0]), _micros(window[1])
                self.days.append((opening, closing))
                self.ends.append(before + closing - opening)

    def _day_index(self, micros: int) -> int:
        local = (EPOCH + timedelta(microseconds=micros)).astimezone(self.zone).date()
        return (local - self.first).days

    def elapsed(self, micros: int) -> int:
        """Working time from the start of the timeline to the instant."""
        found = self.elapsed_memo.get(micros)
        if found is None:
            if len(self.elapsed_memo) > MEMO_SIZE:
                self.elapsed_memo.clear()
            found = self.elapsed_memo[micros] = self._elapsed(micros)
        return found

    def _elapsed(self, micros: int) -> int:
        index = max(0, self._day_index(micros))
        if index + 1 >= len(self.days):
            self._extend_to(index + 1)
        before = self.ends[index - 1] if index else 0
        window = self.days[index]
        if window is None or micros <= window[0]:
            return before
        return before + min(micros, window[1]) - window[0]

    def instant_after(self, start: int, amount: int) -> int | None:
        """The first instant at or after ``start`` by which ``amount`` of working time has elapsed
        since ``start`` (None beyond the timeline or ``MAX_DAYS`` ahead)."""
        key = (start, amount)
        if key in self.after_memo:
            return self.after_memo[key]
        if len(self.after_memo) > MEMO_SIZE:
            self.after_memo.clear()
        found = self.after_memo[key] = self._instant_after(start, amount)
        return found

    def _instant_after(self, start: int, amount: int) -> int | None:
        target = self.elapsed(start) + amount
        index = max(0, self._day_index(start))
        limit = index + MAX_DAYS
        self._extend_to(limit)
        index = bisect_left(self.ends, target, index, limit)
        while index < limit:
            window = self.days[index]
            if window is not None and window[1] > start:
                before = self.ends[index - 1] if index else 0
                return max(window[0] + target - before, start)
            index += 1
        return None

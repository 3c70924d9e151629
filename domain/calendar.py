"""Business calendars: when the SLA clock runs. Working days and hours in a time zone, holidays,
extra working days (official make-up days), or 24×7. A calendar may name a public-holiday calendar
of the ``holidays`` package (``public_holidays = "CN"``, or ``holidays = "CN"`` in a policy file);
the composition layer resolves that name into ``holidays`` and ``working_days`` when it loads the
policy (``api.settings.read_policy``), so this module stays pure. Arithmetic is done on real instants, day by day in local time, so DST changes shift the
UTC hours of a working day rather than its length in local time."""

from __future__ import annotations

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
        total = 0.0
        for opening, closing in self._intervals_from(start):
            if opening >= end:
                break
            total += (min(closing, end) - opening).total_seconds()
        return total

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime:
        """The instant at which ``seconds`` of working time after ``start`` have elapsed."""
        if self.always_open:
            return start + timedelta(seconds=seconds)
        remaining = seconds
        for opening, closing in self._intervals_from(start):
            available = (closing - opening).total_seconds()
            if remaining <= available:
                return opening + timedelta(seconds=remaining)
            remaining -= available
        raise ValueError(f"calendar has no working time within {MAX_DAYS} days")

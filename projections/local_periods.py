"""The organisation's local days and months, as the roll-ups and the evaluation's "handled"
facts count them (``SERVICETRAIL_TIMEZONE``): a month's evaluation for October runs from October
1st 00:00 local time."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo


# Minutes remembered: facts are placed at instants of recently active tickets, so a few thousand
# suffice; 500,000 (before) held about 100 MB and grew a rebuild's memory with the log's span.
PERIODS_MEMO = 20_000


class Calendar:
    """Local day and month of a business instant (memoised per minute: every zone's offset is a
    whole number of minutes)."""

    def __init__(self, zone: tzinfo = timezone.utc) -> None:
        self.zone = zone
        self._periods: dict[str, tuple[str, str]] = {}

    def periods(self, at: str) -> tuple[str, str]:
        minute = at[:16]
        found = self._periods.get(minute)
        if found is None:
            local = datetime.fromisoformat(minute + ":00+00:00").astimezone(self.zone)
            found = self._periods[minute] = (local.strftime("%Y-%m-%d"), local.strftime("%Y-%m"))
            if len(self._periods) > PERIODS_MEMO:
                self._periods.clear()
        return found

    def bounds(self, grain: str, period: str) -> tuple[datetime, datetime]:
        """A period's ``[start, end)`` as UTC instants."""
        if grain == "day":
            first = date.fromisoformat(period)
            following = first + timedelta(days=1)
        else:
            year, month = (int(part) for part in period.split("-"))
            first = date(year, month, 1)
            following = date(year + month // 12, month % 12 + 1, 1)
        return self.midnight(first), self.midnight(following)

    def midnight(self, day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=self.zone).astimezone(timezone.utc)


UTC = Calendar()

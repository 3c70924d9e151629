"""Counting arrivals per local period: the zone's offset is looked up once per UTC hour
(``demand._PeriodIndex``), and every arrival still lands in the period its own conversion to local
time gives, across daylight-saving transitions, half- and quarter-hour zones and offsets that
change by 30 minutes (Lord Howe)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from projections import demand

ZONES = ["UTC", "Asia/Shanghai", "America/New_York", "Europe/Dublin", "Asia/Kolkata", "Australia/Lord_Howe",
         "Pacific/Chatham"]


def by_definition(arrivals, freq: str, end: datetime, zone: ZoneInfo) -> dict[tuple[str, ...], dict[datetime, int]]:
    """Each arrival converted to local time on its own and floored to its period, counted."""
    series = demand.count_series(arrivals, freq=freq, end=end, zone=zone)
    last = demand.floor_period(end.astimezone(zone).replace(tzinfo=None), freq)
    counted: dict[tuple[str, ...], dict[datetime, int]] = {}
    for key, opened_at in arrivals:
        local = datetime.fromisoformat(opened_at.replace("Z", "+00:00")).astimezone(zone).replace(tzinfo=None)
        period = demand.floor_period(local, freq)
        if series.start <= period < last:
            counted.setdefault(key, {}).setdefault(period, 0)
            counted[key][period] += 1
    return counted


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("freq", ["D", "H"])
def test_every_arrival_is_counted_in_the_local_period_its_own_conversion_gives(zone, freq):
    rng = random.Random(f"{zone}{freq}")
    base = datetime(2025, 1, 1, tzinfo=timezone.utc)
    instants = sorted(base + timedelta(seconds=rng.randrange(0, 86400 * 400), microseconds=rng.randrange(10**6))
                      for _ in range(5000))
    # and arrivals every 7 minutes and 13 seconds in the half day either side of every transition
    local = ZoneInfo(zone)
    hours = [base + timedelta(hours=h) for h in range(24 * 400)]
    for before, after in zip(hours, hours[1:]):
        if before.astimezone(local).utcoffset() != after.astimezone(local).utcoffset():
            instants += [before + timedelta(seconds=s) for s in range(-12 * 3600, 12 * 3600, 433)]
    instants.sort()
    arrivals = [((rng.choice("abc"),), t.isoformat(timespec="microseconds").replace("+00:00", "Z")) for t in instants]
    end = datetime(2026, 2, 10, 5, 30, tzinfo=timezone.utc)
    series = demand.count_series(arrivals, freq=freq, end=end, zone=local)
    expected = by_definition(arrivals, freq, end, local)
    counted = {key: {series.period_start(i): int(n) for i, n in enumerate(row) if n}
               for key, row in zip(series.slices, series.counts, strict=True)}
    assert counted == expected
    assert int(np.sum(series.counts)) == sum(sum(periods.values()) for periods in expected.values()) > 0


@pytest.mark.parametrize("freq", ["D", "H"])
def test_local_mean_time_and_texts_not_in_the_canonical_form_are_converted_one_by_one(freq):
    """Shanghai kept local mean time (+08:05:43) until 1901: not whole minutes, each arrival is
    converted on its own; and a text with an explicit offset is read as such."""
    zone = ZoneInfo("Asia/Shanghai")
    arrivals = [(("a",), f"1900-12-31T{h:02d}:54:{s:02d}.000000Z") for h in range(0, 24, 5) for s in (0, 16, 17, 59)]
    arrivals.append((("b",), "1901-01-01T03:00:00.000000Z"))
    end = datetime(1901, 1, 3, tzinfo=timezone.utc)
    history = timedelta(days=10)
    series = demand.count_series(arrivals, freq=freq, end=end, zone=zone, history=history)
    expected: dict[tuple[str, ...], dict[datetime, int]] = {}
    for key, opened_at in arrivals:
        period = demand.floor_period(datetime.fromisoformat(opened_at.replace("Z", "+00:00")).astimezone(zone)
                                     .replace(tzinfo=None), freq)
        expected.setdefault(key, {}).setdefault(period, 0)
        expected[key][period] += 1
    counted = {key: {series.period_start(i): int(n) for i, n in enumerate(row) if n}
               for key, row in zip(series.slices, series.counts, strict=True)}
    assert counted == expected
    mixed = demand.count_series([(("a",), "2026-02-01T12:00:00.000000Z"), (("a",), "2026-02-01T23:30:00+00:00")],
                                freq="D", end=datetime(2026, 2, 5, tzinfo=timezone.utc), zone=zone)
    assert mixed.counts.tolist() == [[1.0, 1.0, 0.0, 0.0]]  # 20:00 on the 1st, 07:30 on the 2nd (local)

"""Business-time arithmetic against hand-computed cases: weekends, holidays, DST, 24×7."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from pydantic import ValidationError

from domain.calendar import Calendar

UTC = timezone.utc
LISBON = Calendar(timezone="Europe/Lisbon", hours=(time(9), time(18)), holidays=frozenset({date(2026, 12, 25)}))


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_always_open_is_wall_clock():
    always = Calendar(always_open=True)
    assert always.business_seconds(utc(2026, 3, 7, 22), utc(2026, 3, 8, 2)) == 4 * 3600
    assert always.add_business_seconds(utc(2026, 3, 7, 22), 3600) == utc(2026, 3, 7, 23)


def test_within_one_working_day():
    # 2026-03-02 is a Monday; Lisbon is on UTC (WET) in March before the 29th.
    assert LISBON.business_seconds(utc(2026, 3, 2, 10), utc(2026, 3, 2, 12, 30)) == 2.5 * 3600
    assert LISBON.add_business_seconds(utc(2026, 3, 2, 10), 3600) == utc(2026, 3, 2, 11)


def test_outside_hours_start_at_the_next_opening():
    assert LISBON.add_business_seconds(utc(2026, 3, 2, 20), 60) == utc(2026, 3, 3, 9, 1)
    assert LISBON.business_seconds(utc(2026, 3, 2, 18), utc(2026, 3, 3, 9)) == 0


def test_a_weekend_is_skipped():
    # Friday 17:00 + 2 business hours = Monday 10:00
    assert LISBON.add_business_seconds(utc(2026, 3, 6, 17), 2 * 3600) == utc(2026, 3, 9, 10)
    assert LISBON.business_seconds(utc(2026, 3, 6, 17), utc(2026, 3, 9, 10)) == 2 * 3600


def test_a_holiday_is_skipped():
    # Thursday 2026-12-24 17:00 + 2 h: Friday the 25th is a holiday, so Monday the 28th 10:00.
    assert LISBON.add_business_seconds(utc(2026, 12, 24, 17), 2 * 3600) == utc(2026, 12, 28, 10)


def test_dst_moves_the_working_day_in_utc():
    # Lisbon switches to WEST (UTC+1) on Sunday 2026-03-29: Monday 09:00 local is 08:00 UTC.
    assert LISBON.add_business_seconds(utc(2026, 3, 27, 17, 30), 3600) == utc(2026, 3, 30, 8, 30)
    assert LISBON.business_seconds(utc(2026, 3, 30, 8), utc(2026, 3, 30, 17)) == 9 * 3600


def test_a_long_target_spans_days():
    # 9 working hours a day: 20 h from Monday 09:00 = Wednesday 11:00.
    assert LISBON.add_business_seconds(utc(2026, 3, 2, 9), 20 * 3600) == utc(2026, 3, 4, 11)


def test_add_and_between_are_inverse():
    start = utc(2026, 3, 5, 16, 17)
    for hours in (0.5, 3, 11, 40):
        due = LISBON.add_business_seconds(start, hours * 3600)
        assert LISBON.business_seconds(start, due) == pytest.approx(hours * 3600)


@pytest.mark.parametrize(("fields", "message"), [
    ({"timezone": "Mars/Olympus"}, "is not an IANA time zone"),
    ({"days": ("mon", "funday")}, "days must be among"),
    ({"hours": (time(18), time(9))}, "opening before closing"),
])
def test_invalid_calendars_name_the_problem(fields, message):
    with pytest.raises(ValidationError, match=message):
        Calendar(**fields)


@pytest.mark.parametrize("calendar", [LISBON, Calendar(timezone="Asia/Shanghai", days=("mon", "tue", "wed", "thu", "fri", "sat")),
                                      Calendar(timezone="America/New_York", hours=(time(8), time(20)))])
def test_the_fast_timeline_agrees_with_day_by_day_arithmetic(calendar):
    import random

    rng = random.Random(7)
    for _ in range(400):
        start = utc(2026, 1, 1) + timedelta(minutes=rng.randrange(0, 2 * 366 * 24 * 60), microseconds=rng.randrange(10**6))
        seconds = rng.choice([0, 1, 60, 3600, 9 * 3600, rng.uniform(0, 400_000)])
        assert calendar.add_business_seconds(start, seconds) == calendar.add_business_seconds_by_day(start, seconds)
        end = start + timedelta(seconds=rng.uniform(0, 20 * 86400))
        assert calendar.business_seconds(start, end) == pytest.approx(calendar.business_seconds_by_day(start, end), abs=1e-6)


def test_an_explicit_working_day_is_worked_even_on_a_weekend():
    saturday = date(2026, 3, 7)
    calendar = Calendar(working_days=frozenset({saturday}))
    assert calendar.business_seconds(utc(2026, 3, 6, 17), utc(2026, 3, 9, 10)) == (1 + 9 + 1) * 3600
    assert Calendar().business_seconds(utc(2026, 3, 6, 17), utc(2026, 3, 9, 10)) == 2 * 3600


CHINA = """
[calendars.beijing]
timezone = "Asia/Shanghai"
hours = ["09:00", "18:00"]
holidays = "CN"

[[sla]]
calendar = "beijing"
resolution_minutes = 540
"""


def test_a_china_calendar_works_the_official_make_up_saturday_and_not_national_day(tmp_path):
    from api.policy_files import read_policy

    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(CHINA)
    beijing = read_policy(policy_file).calendars["beijing"]
    # 2025-10-11 is a Saturday that China works (make-up day for the National Day week) ...
    assert beijing.business_seconds(utc(2025, 10, 11, 0), utc(2025, 10, 12, 0)) == 9 * 3600
    # ... 2025-10-01 (National Day, a Wednesday) is not worked, a plain Saturday neither.
    assert beijing.business_seconds(utc(2025, 9, 30, 16), utc(2025, 10, 1, 16)) == 0
    assert beijing.business_seconds(utc(2025, 10, 17, 16), utc(2025, 10, 18, 16)) == 0
    # a nine-hour target started on Friday 10 October 18:00 (Beijing) is due on the make-up Saturday evening
    assert beijing.add_business_seconds(utc(2025, 10, 10, 10), 9 * 3600) == utc(2025, 10, 11, 10)


def test_an_unknown_public_holiday_calendar_stops_start_up_naming_the_key(tmp_path):
    from api.settings import SettingsError, load_settings

    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(CHINA.replace('"CN"', '"XX"'))
    with pytest.raises(SettingsError, match=r"calendars\.beijing\.holidays: 'XX' is not a holiday calendar"):
        load_settings(policy_file=str(policy_file))

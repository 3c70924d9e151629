"""The policy file and public-holiday calendars: the I/O and the ``holidays`` package the pure
domain leaves out. A policy is read from TOML (a file at start, a version loaded by ``sla policy
load``, or a proposal sent for a what-if) and every calendar that names a public-holiday calendar
gets its dates and official make-up working days resolved here; errors name the key."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from domain.service_levels import ServicePolicy


@functools.lru_cache(maxsize=64)
def holiday_calendar(code: str | None, *years: int) -> frozenset:
    """The public holidays of ``code`` (``US``, ``US-NY``, ``DE-BY`` …) in those years."""
    if not code:
        return frozenset()
    import holidays

    country, _, subdivision = code.partition("-")
    try:
        return frozenset(holidays.country_holidays(country.upper(), subdiv=subdivision or None, years=years or None))
    except (NotImplementedError, KeyError, ValueError):
        raise ValueError(f"{code!r} is not a holiday calendar: use a country code with an optional subdivision, "
                         "e.g. US, US-NY, DE-BY") from None


PUBLIC_CALENDAR_YEARS = range(2000, 2061)  # the years a named public-holiday calendar is resolved for


@functools.lru_cache(maxsize=16)
def public_calendar(code: str) -> tuple[frozenset, frozenset]:
    """The holidays and the weekend working days (official make-up days, e.g. China's) of a
    ``holidays`` package calendar, over ``PUBLIC_CALENDAR_YEARS``."""
    import holidays

    country, _, subdivision = code.partition("-")
    try:
        found = holidays.country_holidays(country.upper(), subdiv=subdivision or None, years=PUBLIC_CALENDAR_YEARS)
    except (NotImplementedError, KeyError, ValueError):
        raise ValueError(f"{code!r} is not a holiday calendar: use a country code with an optional subdivision, "
                         "e.g. CN, US-NY, DE-BY") from None
    workdays = frozenset(day for day in found.weekend_workdays if day.year in PUBLIC_CALENDAR_YEARS)
    return frozenset(found), workdays


def read_policy(path: Path) -> ServicePolicy:
    """The policy file, with every calendar that names a public-holiday calendar resolved into its
    dates (the domain does no I/O and imports no holiday package). Errors name the key."""
    return parse_policy(path.read_text())


def parse_policy(text: str) -> ServicePolicy:
    """A policy from TOML text (a file, or a proposal sent for a what-if), calendars resolved."""
    from domain.service_levels import PolicyError, load_policy

    policy = load_policy(text)
    calendars = {}
    for name, calendar in policy.calendars.items():
        if calendar.public_holidays:
            try:
                holidays, workdays = public_calendar(calendar.public_holidays)
            except ValueError as unknown:
                raise PolicyError(f"calendars.{name}.holidays: {unknown}", f"calendars.{name}.holidays") from None
            calendar = calendar.model_copy(update={"holidays": calendar.holidays | holidays,
                                                   "working_days": calendar.working_days | workdays})
        calendars[name] = calendar
    return policy.model_copy(update={"calendars": calendars})

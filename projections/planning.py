"""The planning reports dashboards read: hotspots, forecasts per slice, and the staffing they imply.

Each report reads arrivals straight from the live store with the ``as_of``/``known_at`` filters of
``projections.arrivals`` (no replay needed: an arrival's slice and instant never change), and the
average handle time from the ticket-state rows of the last four weeks before ``as_of``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.staffing import required_agents
from projections import demand
from projections.forecasting import FREQUENCIES, Seasons, fit_forecast
from projections.arrivals import ArrivalQuery, arrivals, parse_group_by
from projections.moment import InvalidQuery
from projections.store import Transaction
from projections.ticket_state.fold import iso
from projections.measures import average_handle_seconds as average_handle_seconds_of, has_handle_time, within
from projections.moment import Moment
from projections.read_side import ReadView, RowFilter

MEASURES = ("contacts", "complaints")
INTERVALS = {"15m": 900, "30m": 1800, "1h": 3600}


@dataclass(frozen=True)
class Planning:
    """Where and how the reports count: the local time zone and the holiday calendar."""

    zone: ZoneInfo
    holidays: Callable[[int, int], frozenset[date]]  # (first year, last year) → holidays

    def calendar(self, series: demand.Series, horizon_periods: int) -> frozenset[date]:
        end = series.period_start(series.counts.shape[1] + horizon_periods)
        return self.holidays(series.start.year, end.year)


def _query(group_by: str | None, measure: str, as_of: datetime, known_at: datetime | None) -> ArrivalQuery:
    try:
        dims = parse_group_by(group_by)
    except ValueError as bad:
        raise InvalidQuery("group_by", str(bad)) from None
    if measure not in MEASURES:
        raise InvalidQuery("measure", f"measure must be one of {', '.join(MEASURES)}")
    return ArrivalQuery(dims, measure == "complaints", as_of, known_at)


def forecast_report(view: ReadView, planning: Planning, *, group_by: str | None, horizon: int, freq: str,
                    as_of: datetime, known_at: datetime | None = None, measure: str = "contacts",
                    top: int = 20, only: str | None = None, total: bool = False) -> dict[str, Any]:
    """``only``: one slice, its values in ``group_by`` order (``billing`` or ``billing,north``);
    ``total``: also the forecast of every arrival together (``"total"``, one slice of no dimension),
    counted from the same read of the arrivals (the sum of every slice's counts)."""
    if freq not in FREQUENCIES:
        raise InvalidQuery("freq", "freq must be D (daily) or H (hourly)")
    limit = 90 if freq == "D" else 24 * 14
    if not 1 <= horizon <= limit:
        raise InvalidQuery("horizon", f"horizon must be between 1 and {limit} periods for freq {freq}")
    query = _query(group_by, measure, as_of, known_at)
    wanted = tuple(v.strip() for v in only.split(",")) if only else None
    if wanted is not None and len(wanted) != len(query.group_by):
        raise InvalidQuery("slice", f"slice must give {len(query.group_by)} value(s), one per group_by dimension")
    counted = demand.count_series(arrivals(view.tx, query), freq=freq, end=as_of, zone=planning.zone)
    if wanted is None:  # the slices with the most arrivals
        series = demand.Series(counted.slices[:top], counted.counts[:top], counted.start, counted.freq)
    else:
        keep = [i for i, key in enumerate(counted.slices) if key == wanted]
        if not keep:
            raise InvalidQuery("slice", f"no arrivals in slice {only!r} by {as_of.isoformat()}")
        series = demand.Series([counted.slices[i] for i in keep], counted.counts[keep], counted.start, counted.freq)
    report = {
        "as_of": as_of.isoformat(), "known_at": known_at.isoformat() if known_at else None,
        "group_by": list(query.group_by), "measure": measure, "freq": freq, "horizon": horizon,
        "timezone": planning.zone.key, "history_start": series.start.isoformat(),
        "method": "seasonal negative-binomial model, exponentially smoothed level; point = predictive median",
        "interval_level": 0.9,
        "slices": demand.forecasts(series, horizon=horizon, holidays=planning.calendar(series, horizon),
                                   group_by=query.group_by),
    }
    if total:
        every = demand.Series([()], counted.counts.sum(axis=0, keepdims=True), counted.start, counted.freq)
        report["total"] = demand.forecasts(every, horizon=horizon, holidays=planning.calendar(every, horizon))
    return report


def counts_report(view: ReadView, planning: Planning, *, group_by: str | None, freq: str, periods: int,
                  as_of: datetime, known_at: datetime | None = None, measure: str = "complaints",
                  top: int = 20) -> dict[str, Any]:
    """Arrivals per slice and period for the last ``periods`` periods up to ``as_of`` (a heat map); the
    last period is the one containing ``as_of``, counted so far."""
    if freq not in FREQUENCIES:
        raise InvalidQuery("freq", "freq must be D (daily) or H (hourly)")
    if not 1 <= periods <= (366 if freq == "D" else 24 * 31):
        raise InvalidQuery("periods", "periods must be 1–366 days or 1–744 hours")
    query = _query(group_by, measure, as_of, known_at)
    step = FREQUENCIES[freq]
    series = demand.count_series(arrivals(view.tx, query), freq=freq, end=as_of + step, zone=planning.zone,
                                 history=step * periods, top=top)
    n = series.counts.shape[1]
    return {
        "as_of": as_of.isoformat(), "group_by": list(query.group_by), "measure": measure, "freq": freq,
        "timezone": planning.zone.key,
        "periods": [series.period_start(i).isoformat() for i in range(n)],
        "slices": [{"slice": dict(zip(query.group_by, key, strict=False)), "counts": [int(v) for v in row]}
                   for key, row in zip(series.slices, series.counts, strict=True)],
    }


def hotspot_report(view: ReadView, planning: Planning, *, group_by: str | None, window: str, as_of: datetime,
                   known_at: datetime | None = None, measure: str = "complaints", top: int = 50) -> dict[str, Any]:
    try:
        periods, freq = demand.window_periods(window)
    except ValueError as bad:
        raise InvalidQuery("window", str(bad)) from None
    query = _query(group_by, measure, as_of, known_at)
    # The window is the last complete periods before as_of, against the default history before it.
    series = demand.count_series(arrivals(view.tx, query), freq=freq, end=as_of, zone=planning.zone, top=200)
    rows = demand.hotspots(series, window_periods=periods, holidays=planning.calendar(series, periods),
                           group_by=query.group_by)
    window_start = series.period_start(series.counts.shape[1] - periods) if series.counts.shape[1] else None
    return {
        "as_of": as_of.isoformat(), "known_at": known_at.isoformat() if known_at else None,
        "group_by": list(query.group_by), "measure": measure, "window": window, "freq": freq,
        "timezone": planning.zone.key,
        "window_start": window_start.isoformat() if window_start else None,
        "window_end": series.period_start(series.counts.shape[1]).isoformat() if series.counts.size else None,
        "false_discovery_rate": 0.05,
        "slices": rows[:top],
        "abnormal": sum(1 for r in rows if r["abnormal"]),
        "forecast_high": sum(1 for r in rows if r["forecast_high"]),
    }


def average_handle_seconds(view: ReadView, as_of: datetime, days: int = 28) -> tuple[float | None, int]:
    """DOMAIN.md's AHT (``measures.average_handle_seconds``, the KPIs' definition) over the tickets
    resolved in the ``days`` before ``as_of``, as they stood then; with how many tickets it averages."""
    start = as_of - timedelta(days=days)
    rows = view.at(Moment(as_of, view.moment.known_at)).rows(RowFilter(opened_before=iso(as_of),
                                                                         active_since=iso(start)))
    resolved = [r for r in rows if within(r.resolved_at, iso(start), iso(as_of))]
    return average_handle_seconds_of(resolved), sum(1 for r in resolved if has_handle_time(r))


def staffing_report(view: ReadView, planning: Planning, *, day: date, now: datetime, interval: str = "30m",
                    service_level: float = 0.8, answer_seconds: float = 20, patience_seconds: float | None = None,
                    aht_seconds: float | None = None, known_at: datetime | None = None) -> dict[str, Any]:
    """Agents needed per interval of ``day`` (local), from the hourly forecast of all contacts."""
    if interval not in INTERVALS:
        raise InvalidQuery("interval", f"interval must be one of {', '.join(INTERVALS)}")
    if not 0 < service_level < 1:
        raise InvalidQuery("service_level", "service_level must be between 0 and 1 (e.g. 0.8)")
    if not date(1971, 1, 1) <= day <= (now + timedelta(days=14)).date():
        raise InvalidQuery("date", "date must be a past day or at most two weeks ahead")
    day_start = datetime.combine(day, time(0), planning.zone)
    as_of = min(now, day_start)  # a past day is forecast as of its start, so its actuals can be compared
    horizon_start = demand.floor_period(as_of.astimezone(planning.zone).replace(tzinfo=None), "H")
    hours_ahead = int((day_start.replace(tzinfo=None) - horizon_start) / timedelta(hours=1))
    if hours_ahead > 24 * 13:
        raise InvalidQuery("date", "staffing is planned at most two weeks ahead")
    source = "given"
    if aht_seconds is None:
        aht_seconds, handled = average_handle_seconds(view, as_of)
        source = f"log: mean of {handled} tickets resolved in the 28 days before {as_of.date().isoformat()}"
        if aht_seconds is None:
            raise InvalidQuery("aht_seconds", "the log has no handled tickets in the 28 days before the date: "
                                              "give aht_seconds")
    series = demand.count_series(arrivals(view.tx, ArrivalQuery((), False, as_of, known_at)), freq="H", end=as_of,
                                 zone=planning.zone)
    if series.counts.shape[0] == 0:
        raise InvalidQuery("date", "no contacts before the date to forecast from")
    horizon = hours_ahead + 24
    result = fit_forecast(series.counts, Seasons.for_periods(
        series.start, series.counts.shape[1] + horizon, "H", planning.calendar(series, horizon)), horizon)
    actual = _actual_hours(view.tx, planning, day_start, known_at) if day_start + timedelta(days=1) <= now else None
    seconds = INTERVALS[interval]
    per_hour = 3600 // seconds
    intervals = []
    for hour in range(24):
        expected = float(result.mean[0, hours_ahead + hour])
        for part in range(per_hour):
            start = day_start + timedelta(seconds=hour * 3600 + part * seconds)
            contacts = expected / per_hour
            staffing = required_agents(contacts=contacts, interval_seconds=seconds, aht_seconds=aht_seconds,
                                       service_level=service_level, answer_seconds=answer_seconds,
                                       patience_seconds=patience_seconds)
            entry = {"start": start.isoformat(), "contacts_forecast": round(contacts, 3), **staffing.as_dict()}
            if actual is not None:
                entry["contacts_actual_hour"] = actual[hour]
            intervals.append(entry)
    return {
        "date": day.isoformat(), "timezone": planning.zone.key, "as_of": as_of.isoformat(), "interval": interval,
        "service_level_target": service_level, "answer_seconds": answer_seconds,
        "patience_seconds": patience_seconds, "model": "erlang-a" if patience_seconds else "erlang-c",
        "aht_seconds": round(aht_seconds, 1), "aht_source": source,
        "contacts_forecast": round(float(result.mean[0, hours_ahead:hours_ahead + 24].sum()), 1),
        "agent_hours": round(sum(i["agents"] for i in intervals) * seconds / 3600, 1),
        "intervals": intervals,
    }


def _actual_hours(tx: Transaction, planning: Planning, day_start: datetime, known_at: datetime | None) -> list[int]:
    query = ArrivalQuery((), False, day_start + timedelta(days=1) - timedelta(microseconds=1), known_at,
                         since=day_start)
    hours = [0] * 24
    for _, opened_at in arrivals(tx, query):
        local = datetime.fromisoformat(opened_at.replace("Z", "+00:00")).astimezone(planning.zone)
        hours[local.hour] += 1
    return hours

"""Demand per slice: counts per period, hotspots, forecasts with their backtest accuracy, staffing.

Reads arrivals (``projections.arrivals``) and turns them into count series per slice, in the local
time of a configured time zone (a day is a local day). Every figure is computed from arrivals that
occurred by ``as_of`` (and were recorded by ``known_at``): the period containing ``as_of`` is
incomplete, so history ends before it and the forecast starts with it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from scipy import stats

from projections.forecasting import (
    FREQUENCIES,
    ForecastSettings,
    Seasons,
    backtest,
    fit_forecast,
    rolling_origins,
    upper_tail,
)

HISTORY = {"D": timedelta(days=3 * 365), "H": timedelta(days=365)}
BACKTEST_ORIGINS = 4
MIN_EVIDENCE = 3  # arrivals a window needs before it can be called abnormal
RECENT = 28  # actual periods returned beside a forecast, to draw it against


@dataclass(frozen=True)
class Series:
    """Counts per slice (rows) and period (columns); ``start`` is the first period, local time."""

    slices: list[tuple[str, ...]]
    counts: np.ndarray
    start: datetime
    freq: str

    def period_start(self, index: int) -> datetime:
        return self.start + FREQUENCIES[self.freq] * index


def floor_period(moment: datetime, freq: str) -> datetime:
    if freq == "D":
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment.replace(minute=0, second=0, microsecond=0)


_NAIVE_EPOCH = datetime(1970, 1, 1)


def _periods(instants: Sequence[str], zone: ZoneInfo, first: datetime, freq: str) -> np.ndarray:
    """The period (column) of each arrival in local time, ``(floor_period(local) - first) / step``,
    for all at once: whole seconds since the epoch plus the zone's offset, looked up once per UTC
    hour (a month of arrivals spans about 700 hours; converting each with ``astimezone`` was most
    of counting them). The arrivals of an hour in which the offset changes, or whose offset is not
    whole minutes (local mean time before standard zones), and any text not in the canonical UTC
    form, are converted one by one as the definition says."""
    def one(opened_at: str) -> int:
        local = datetime.fromisoformat(opened_at.replace("Z", "+00:00")).astimezone(zone).replace(tzinfo=None)
        return int((floor_period(local, freq) - first) / FREQUENCIES[freq])

    if not all(len(text) > 19 and text[19] in ".Z" and text.endswith("Z") for text in instants):
        return np.array([one(text) for text in instants], dtype=np.int64)
    seconds = np.array([text[:19] for text in instants], dtype="datetime64[s]").astype(np.int64)
    hours, hour_of = np.unique(seconds // 3600, return_inverse=True)
    offsets = np.zeros(len(hours), dtype=np.int64)
    exact = np.ones(len(hours), dtype=bool)
    for i, hour in enumerate(hours.tolist()):
        start = datetime.fromtimestamp(hour * 3600, timezone.utc)
        offset = start.astimezone(zone).utcoffset()
        if (offset % timedelta(minutes=1) or offset != (start + timedelta(seconds=3599, microseconds=999_999))
                .astimezone(zone).utcoffset()):
            exact[i] = False
        else:
            offsets[i] = offset // timedelta(seconds=1)
    step = int(FREQUENCIES[freq].total_seconds())
    first_period = int((first - _NAIVE_EPOCH).total_seconds()) // step
    columns = (seconds + offsets[hour_of]) // step - first_period
    for j in np.flatnonzero(~exact[hour_of]).tolist():
        columns[j] = one(instants[j])
    return columns


def count_series(arrivals: Sequence[tuple[tuple[str, ...], str]], *, freq: str, end: datetime, zone: ZoneInfo,
                 history: timedelta | None = None, top: int | None = None) -> Series:
    """Counts of the periods before the one containing ``end`` (local time), per slice, from the
    first arrival on (never more than ``history`` back): leading periods before any data would read
    as a quiet past.

    ``arrivals`` are (slice, opened_at as canonical UTC text, oldest first), as ``projections.arrivals``
    returns."""
    if freq not in FREQUENCIES:
        raise ValueError("freq must be D (daily) or H (hourly)")
    step = FREQUENCIES[freq]
    last = floor_period(end.astimezone(zone).replace(tzinfo=None), freq)  # the incomplete period
    first = floor_period(last - (history or HISTORY[freq]), freq)
    if arrivals:
        earliest = datetime.fromisoformat(arrivals[0][1].replace("Z", "+00:00"))
        first = max(first, floor_period(earliest.astimezone(zone).replace(tzinfo=None), freq))
    periods = int((last - first) / step)
    columns = _periods([opened_at for _key, opened_at in arrivals], zone, first, freq)
    inside = (columns >= 0) & (columns < periods)
    slice_index: dict[tuple[str, ...], int] = {}  # in order of each slice's first arrival inside
    rows = [slice_index.setdefault(key, len(slice_index))
            for (key, _opened_at), kept in zip(arrivals, inside.tolist(), strict=True) if kept]
    counts = np.zeros((len(slice_index), periods))
    np.add.at(counts, (np.array(rows, dtype=int), columns[inside]), 1)
    slices = list(slice_index)
    order = np.argsort(-counts.sum(axis=1), kind="stable")
    if top is not None:
        order = order[:top]
    return Series([slices[i] for i in order], counts[order], first, freq)


def _seasons(series: Series, horizon: int, holidays: frozenset[date]) -> Seasons:
    return Seasons.for_periods(series.start, series.counts.shape[1] + horizon, series.freq, holidays)


def _finite(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 4)


def forecasts(series: Series, *, horizon: int, holidays: frozenset[date] = frozenset(),
              settings: ForecastSettings = ForecastSettings(), group_by: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Per slice: the next ``horizon`` periods (median point, mean, interval) and backtest accuracy."""
    if series.counts.shape[0] == 0:
        return []
    seasons = _seasons(series, horizon, holidays)
    result = fit_forecast(series.counts, seasons, horizon, settings)
    origins = rolling_origins(series.counts.shape[1], horizon, seasons.slots, BACKTEST_ORIGINS)
    accuracy = backtest(series.counts, seasons, horizon, origins, settings) if origins else None
    out = []
    n = series.counts.shape[1]
    for i, key in enumerate(series.slices):
        out.append({
            "slice": dict(zip(group_by, key, strict=False)) if group_by else list(key),
            "history_total": int(series.counts[i].sum()),
            "recent": [{"start": series.period_start(t).isoformat(), "count": int(series.counts[i, t])}
                       for t in range(max(0, n - RECENT), n)],
            "periods": [
                {"start": series.period_start(n + h).isoformat(), "point": float(result.median[i, h]),
                 "mean": round(float(result.mean[i, h]), 3), "lower": float(result.lower[i, h]),
                 "upper": float(result.upper[i, h])}
                for h in range(horizon)
            ],
            "accuracy": None if accuracy is None else {
                "relative_mae": _finite(accuracy.relative_mae[i]), "mase": _finite(accuracy.mase[i]),
                "wape": _finite(accuracy.wape[i]), "interval_coverage": _finite(accuracy.coverage[i]),
                "origins": accuracy.origins, "baseline": "weekly seasonal naive",
            },
        })
    return out


def hotspots(series: Series, *, window_periods: int, holidays: frozenset[date] = frozenset(),
             settings: ForecastSettings = ForecastSettings(), false_discovery_rate: float = 0.05,
             group_by: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Slices whose last ``window_periods`` were abnormally high against their own expected level, or
    whose next window is forecast to be.

    Expected = the seasonal model fitted on the history before the window. The observed count's upper
    tail probability under the negative binomial of that expectation is the p-value; the
    Benjamini–Hochberg procedure (scipy) keeps the false discovery rate over all slices at 5 %. A
    slice is also flagged when its forecast for the next window lies in the upper 5 % tail of what is
    normal for it (the same model with the long-run level instead of the recent one).
    """
    k, n = series.counts.shape[0], series.counts.shape[1]
    if k == 0 or n <= window_periods + 7:
        return []
    history, recent = series.counts[:, :-window_periods], series.counts[:, -window_periods:]
    before = fit_forecast(history, _seasons(series, 0, holidays), window_periods, settings)
    observed = recent.sum(axis=1)
    # A slice quiet in all its history would make any count look infinitely unlikely: its expectation
    # is floored at half an arrival over the whole history (a Jeffreys-style pseudo-count).
    expected = np.maximum(before.mean.sum(axis=1), 0.5 * window_periods / history.shape[1])
    dispersion = _summed_dispersion(before.mean, before.dispersion)
    p_values = upper_tail(observed, expected, dispersion)
    q_values = stats.false_discovery_control(np.clip(p_values, 0, 1), method="bh")
    ahead = _seasons(series, window_periods, holidays)
    upcoming = fit_forecast(series.counts, ahead, window_periods, settings)
    long_run = ForecastSettings(settings.profile_half_life_days, settings.profile_half_life_days,
                                settings.interval_level)
    normal = fit_forecast(series.counts, ahead, window_periods, long_run)
    next_expected = upcoming.mean.sum(axis=1)
    next_normal = normal.mean.sum(axis=1)
    next_tail = upper_tail(np.ceil(next_expected), next_normal, _summed_dispersion(normal.mean, normal.dispersion))
    rows = []
    for i, key in enumerate(series.slices):
        abnormal = bool(q_values[i] <= false_discovery_rate and observed[i] > expected[i]
                        and observed[i] >= MIN_EVIDENCE)
        rising = bool(next_tail[i] < 0.05 and next_expected[i] > next_normal[i] and next_expected[i] >= MIN_EVIDENCE)
        rows.append({
            "slice": dict(zip(group_by, key, strict=False)) if group_by else list(key),
            "observed": int(observed[i]), "expected": round(float(expected[i]), 2),
            "ratio": _finite(observed[i] / expected[i]) if expected[i] > 0 else None,
            "p_value": float(p_values[i]), "q_value": float(q_values[i]), "abnormal": abnormal,
            "next_expected": round(float(next_expected[i]), 2), "next_normal": round(float(next_normal[i]), 2),
            "forecast_high": rising,
        })
    rows.sort(key=lambda r: (not r["abnormal"], not r["forecast_high"], r["q_value"], -(r["ratio"] or 0)))
    return rows


def _summed_dispersion(means: np.ndarray, dispersion: np.ndarray) -> np.ndarray:
    """Dispersion of a sum of independent NB periods, as one NB: Var = Σμ + αΣμ² = M + α′M²."""
    total = means.sum(axis=1)
    squares = (means**2).sum(axis=1)
    out = np.full_like(total, 1e-6)
    np.divide(dispersion * squares, total**2, out=out, where=total > 0)
    return np.clip(out, 1e-6, None)


def window_periods(window: str) -> tuple[int, str]:
    """``24h``, ``6h`` → hourly periods; ``1d``, ``7d``, ``2w`` → daily ones."""
    text = window.strip().lower()
    units = {"h": ("H", 1), "d": ("D", 1), "w": ("D", 7)}
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit() or int(text[:-1]) < 1:
        raise ValueError("window must look like 24h, 7d or 2w")
    freq, factor = units[text[-1]]
    count = int(text[:-1]) * factor
    if (freq == "H" and count > 24 * 14) or (freq == "D" and count > 366):
        raise ValueError("window must be at most 14 days in hours or 366 days")
    return count, freq


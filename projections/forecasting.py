"""Forecasting contact arrivals per slice: a seasonal count model fitted to many series at once.

The method follows what the literature on contact-centre arrivals finds hard to beat (Taylor 2008,
"A comparison of univariate time series methods for forecasting intraday arrivals at a call centre";
Ibrahim et al. 2016, "Modeling and forecasting call center arrivals: a literature survey"): a
multiplicative seasonal model whose level is exponentially smoothed, with counts drawn from a
Poisson–gamma (negative-binomial) distribution because arrivals are over-dispersed.

For a series y_t with season slot s(t) (day of week, or hour of week) and holiday flag h(t):
- the seasonal profile f_s is the exponentially weighted mean of y in slot s (long half-life,
  default 26 weeks), divided by the mean over slots; holidays are left out of it and get a factor
  of their own: weighted actuals over weighted profile on past holidays;
- the level L is the exponentially weighted mean of y_t / f(t) (short half-life, default 4 weeks),
  so the forecast follows a shift in volume within weeks, not months;
- the mean forecast is L · f(t); over-dispersion α (variance μ + αμ²) is the weighted moment
  estimate over the recent residuals;
- the point forecast is the predictive **median**, because the accuracy that matters here is MAE
  and the median minimises expected absolute error (bursty series have a mean well above it);
- the interval is the central interval of the predictive distribution whose probability is
  closest to the nominal level (counts are discrete: the plain quantile interval would cover more).

Every step is a weighted average over one axis of an (series × time) array, so a thousand series of
three years fit in well under a second. The distribution is scipy's ``nbinom``. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from scipy import stats

FREQUENCIES = {"D": timedelta(days=1), "H": timedelta(hours=1)}


@dataclass(frozen=True)
class ForecastSettings:
    profile_half_life_days: float = 182.0
    level_half_life_days: float = 28.0
    interval_level: float = 0.9


@dataclass(frozen=True)
class Seasons:
    """Season slot and holiday flag of every period of history plus horizon."""

    slot: np.ndarray  # int, one per period
    holiday: np.ndarray  # bool, one per period
    slots: int
    periods_per_day: int

    @classmethod
    def for_periods(cls, start: datetime, periods: int, freq: str, holidays: frozenset[date] = frozenset()
                    ) -> Seasons:
        """Day of week for daily periods, hour of week for hourly ones; ``start`` is local time."""
        step = FREQUENCIES[freq]
        instants = [start + step * i for i in range(periods)]
        if freq == "D":
            slot = np.array([t.weekday() for t in instants])
        else:
            slot = np.array([t.weekday() * 24 + t.hour for t in instants])
        holiday = np.array([t.date() in holidays for t in instants], dtype=bool)
        return cls(slot, holiday, 7 if freq == "D" else 168, 1 if freq == "D" else 24)


@dataclass(frozen=True)
class Forecast:
    mean: np.ndarray  # series × horizon
    median: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    dispersion: np.ndarray  # α per series


def _decay(periods: int, half_life_periods: float) -> np.ndarray:
    age = np.arange(periods)[::-1]
    return 0.5 ** (age / half_life_periods)


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray, default: float) -> np.ndarray:
    out = np.full(np.broadcast(numerator, denominator).shape, default, dtype=float)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def seasonal_factors(history: np.ndarray, seasons: Seasons, settings: ForecastSettings) -> np.ndarray:
    """Multiplicative factor of every period (history and horizon), per series."""
    n = history.shape[1]
    weights = _decay(n, settings.profile_half_life_days * seasons.periods_per_day)
    regular = ~seasons.holiday[:n]
    slot = seasons.slot[:n]
    one_hot = np.zeros((seasons.slots, n))
    one_hot[slot, np.arange(n)] = weights * regular
    slot_mean = _safe_divide(history @ one_hot.T, one_hot.sum(axis=1)[None, :], 0.0)  # series × slots
    overall = slot_mean.mean(axis=1, keepdims=True)
    profile = _safe_divide(slot_mean, overall, 1.0)
    factors = profile[:, seasons.slot]
    past_holidays = seasons.holiday[:n]
    if past_holidays.any():
        hw = weights * past_holidays
        usual = slot_mean[:, slot]  # what a regular day of the same slot brings, in counts
        holiday_factor = _safe_divide((history * hw).sum(axis=1), (usual * hw).sum(axis=1), 1.0)
        factors = np.where(seasons.holiday[None, :], factors * holiday_factor[:, None], factors)
    return factors


def fit_forecast(history: np.ndarray, seasons: Seasons, horizon: int,
                 settings: ForecastSettings = ForecastSettings()) -> Forecast:
    """Forecasts ``horizon`` periods after ``history`` (series × periods of counts)."""
    history = np.asarray(history, dtype=float)
    if history.ndim != 2 or history.shape[1] < 1:
        raise ValueError("history must be a (series × periods) array with at least one period")
    n = history.shape[1]
    if len(seasons.slot) < n + horizon:
        raise ValueError("seasons must cover the history and the horizon")
    factors = seasonal_factors(history, seasons, settings)[:, : n + horizon]
    recent = _decay(n, settings.level_half_life_days * seasons.periods_per_day)
    level = _safe_divide((history * recent).sum(axis=1), (factors[:, :n] * recent).sum(axis=1), 0.0)
    fitted = level[:, None] * factors[:, :n]
    excess = ((history - fitted) ** 2 - fitted) * recent
    dispersion = np.clip(_safe_divide(excess.sum(axis=1), (fitted**2 * recent).sum(axis=1), 0.0), 1e-6, 1e3)
    mean = level[:, None] * factors[:, n:]
    lower, median, upper = predictive_interval(mean, dispersion, settings.interval_level)
    return Forecast(mean, median, lower, upper, dispersion)


def _negative_binomial(mean: np.ndarray, dispersion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    size = 1.0 / dispersion[:, None]
    return size, size / (size + np.maximum(mean, 1e-9))


def predictive_interval(mean: np.ndarray, dispersion: np.ndarray, level: float
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower, median, upper): the central interval whose probability is closest to ``level``."""
    size, p = _negative_binomial(mean, dispersion)
    median = stats.nbinom.ppf(0.5, size, p)
    best_lower = best_upper = best_gap = None
    tail = (1 - level) / 2
    for a in np.linspace(tail / 10, tail * 2, 20):
        lower = stats.nbinom.ppf(a, size, p)
        upper = stats.nbinom.ppf(1 - a, size, p)
        gap = np.abs(stats.nbinom.cdf(upper, size, p) - stats.nbinom.cdf(lower - 1, size, p) - level)
        if best_gap is None:
            best_lower, best_upper, best_gap = lower, upper, gap
            continue
        closer = gap < best_gap
        best_lower = np.where(closer, lower, best_lower)
        best_upper = np.where(closer, upper, best_upper)
        best_gap = np.where(closer, gap, best_gap)
    assert best_lower is not None and best_upper is not None
    return best_lower, median, best_upper


def upper_tail(observed: np.ndarray, mean: np.ndarray, dispersion: np.ndarray) -> np.ndarray:
    """P(X ≥ observed) for X negative-binomial with that mean and dispersion (per series)."""
    size = 1.0 / dispersion
    return stats.nbinom.sf(observed - 1, size, size / (size + np.maximum(mean, 1e-9)))


# ------------------------------------------------------------------------------ accuracy
def seasonal_naive(history: np.ndarray, season: int, horizon: int) -> np.ndarray:
    """Each period repeats the last observed period of the same season slot."""
    last = history[:, -season:]
    reps = -(-horizon // season)
    return np.tile(last, (1, reps))[:, :horizon]


@dataclass(frozen=True)
class Accuracy:
    """Rolling-origin accuracy per series: MAE relative to the seasonal-naive forecast, MASE, WAPE."""

    mae: np.ndarray
    actual_mean: np.ndarray  # mean actual per period: pooled WAPE over series = Σ mae / Σ actual_mean
    mae_seasonal_naive: np.ndarray
    relative_mae: np.ndarray  # nan where the seasonal-naive error is zero
    mase: np.ndarray  # scaled by the in-sample seasonal-naive MAE; nan where that is zero
    wape: np.ndarray  # nan where the actuals are all zero
    coverage: np.ndarray  # share of actuals inside the interval
    origins: int


def backtest(counts: np.ndarray, seasons: Seasons, horizon: int, origins: list[int],
             settings: ForecastSettings = ForecastSettings()) -> Accuracy:
    """Forecasts from each origin (an index into ``counts``) with only the periods before it."""
    counts = np.asarray(counts, dtype=float)
    season = seasons.slots
    abs_model = np.zeros(len(counts))
    abs_naive = np.zeros(len(counts))
    actual_total = np.zeros(len(counts))
    scale = np.zeros(len(counts))
    inside = np.zeros(len(counts))
    periods = 0
    for origin in origins:
        history, actual = counts[:, :origin], counts[:, origin:origin + horizon]
        forecast = fit_forecast(history, seasons, actual.shape[1], settings)
        abs_model += np.abs(forecast.median - actual).sum(axis=1)
        abs_naive += np.abs(seasonal_naive(history, season, actual.shape[1]) - actual).sum(axis=1)
        actual_total += actual.sum(axis=1)
        inside += ((actual >= forecast.lower) & (actual <= forecast.upper)).sum(axis=1)
        periods += actual.shape[1]
        in_sample = np.abs(history[:, season:] - history[:, :-season]).mean(axis=1) if origin > season else 0
        scale += in_sample
    mae = abs_model / max(periods, 1)
    mae_naive = abs_naive / max(periods, 1)
    scale = scale / max(len(origins), 1)
    nan = np.full(len(counts), np.nan)
    return Accuracy(
        mae=mae,
        actual_mean=actual_total / max(periods, 1),
        mae_seasonal_naive=mae_naive,
        relative_mae=np.divide(mae, mae_naive, out=nan.copy(), where=mae_naive > 0),
        mase=np.divide(mae, scale, out=nan.copy(), where=scale > 0),
        wape=np.divide(abs_model, actual_total, out=nan.copy(), where=actual_total > 0),
        coverage=inside / max(periods, 1),
        origins=len(origins),
    )


def rolling_origins(periods: int, horizon: int, season: int, count: int) -> list[int]:
    """The last ``count`` origins, one season apart, whose horizon ends inside the data."""
    last = periods - horizon
    return [o for o in (last - season * k for k in range(count - 1, -1, -1)) if o > season]

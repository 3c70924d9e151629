"""The seasonal count model on series whose truth is known, and the accuracy measures."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest

from projections.forecasting import (
    ForecastSettings,
    Seasons,
    backtest,
    fit_forecast,
    predictive_interval,
    rolling_origins,
    seasonal_naive,
)

WEEKLY = np.array([1.3, 1.2, 1.1, 1.0, 1.0, 0.3, 0.1])  # Monday … Sunday
MONDAY = datetime(2024, 1, 1)


def simulated(days: int, level: float, dispersion: float, series: int = 50, seed: int = 1,
              holidays: frozenset[date] = frozenset()) -> tuple[np.ndarray, np.ndarray]:
    """Negative-binomial counts with a weekly profile (and holidays at 20 % of normal); also the means."""
    rng = np.random.default_rng(seed)
    seasons = Seasons.for_periods(MONDAY, days, "D", holidays)
    mean = level * WEEKLY[seasons.slot] * np.where(seasons.holiday, 0.2, 1.0)
    size = 1 / dispersion
    counts = rng.negative_binomial(size, size / (size + mean), size=(series, days))
    return counts.astype(float), mean


def test_the_model_recovers_a_weekly_profile_and_level():
    counts, _ = simulated(3 * 365, level=40, dispersion=0.05)
    seasons = Seasons.for_periods(MONDAY, 3 * 365 + 14, "D")
    forecast = fit_forecast(counts, seasons, 14)
    truth = 40 * WEEKLY[seasons.slot[-14:]]
    assert np.abs(forecast.mean.mean(axis=0) / truth - 1).max() < 0.08
    assert forecast.dispersion.mean() == pytest.approx(0.05, abs=0.02)
    assert (forecast.lower <= forecast.median).all() and (forecast.median <= forecast.upper).all()


def test_holidays_get_their_own_factor():
    days = 3 * 365
    holidays = frozenset(MONDAY.date() + timedelta(days=d) for d in range(3, days + 60, 61))
    counts, _ = simulated(days, level=30, dispersion=0.02, holidays=holidays)
    seasons = Seasons.for_periods(MONDAY, days + 60, "D", holidays)
    forecast = fit_forecast(counts, seasons, 60)
    future_holidays = seasons.holiday[days:]
    assert future_holidays.any()
    ratio = forecast.mean[:, future_holidays].mean() / forecast.mean[:, ~future_holidays].mean()
    assert ratio < 0.4, "a holiday in the horizon is forecast low, as the past ones were"


def test_ninety_percent_intervals_cover_about_ninety_percent_of_new_data():
    counts, mean = simulated(2 * 365 + 28, level=6, dispersion=0.3, series=200, seed=4)
    history, actual = counts[:, :-28], counts[:, -28:]
    seasons = Seasons.for_periods(MONDAY, counts.shape[1], "D")
    forecast = fit_forecast(history, seasons, 28)
    inside = ((actual >= forecast.lower) & (actual <= forecast.upper)).mean()
    assert 0.85 <= inside <= 0.95


def test_the_model_beats_the_seasonal_naive_forecast_on_noisy_counts():
    counts, _ = simulated(2 * 365, level=8, dispersion=0.3, series=60, seed=9)
    seasons = Seasons.for_periods(MONDAY, 2 * 365 + 28, "D")
    accuracy = backtest(counts, seasons, 28, rolling_origins(counts.shape[1], 28, 7, 5))
    assert np.nanmean(accuracy.relative_mae) < 0.85
    assert accuracy.origins == 5 and np.isfinite(accuracy.mase).all() and np.isfinite(accuracy.wape).all()


def test_a_forecast_uses_nothing_after_its_origin():
    counts, _ = simulated(400, level=10, dispersion=0.1, series=5)
    seasons = Seasons.for_periods(MONDAY, 400, "D")
    changed = counts.copy()
    changed[:, 300:] *= 5  # a different future
    first = backtest(counts[:, :328], seasons, 28, [300])
    second = backtest(changed[:, :300], seasons, 28, [300])  # no actuals at all beyond the origin
    before = fit_forecast(counts[:, :300], seasons, 28)
    after = fit_forecast(changed[:, :300], seasons, 28)
    assert np.array_equal(before.median, after.median) and np.array_equal(before.upper, after.upper)
    assert first.origins == 1 and second.origins == 1


def test_seasonal_naive_repeats_the_last_week_and_origins_stay_inside_the_data():
    history = np.arange(14, dtype=float)[None, :]
    assert seasonal_naive(history, 7, 10).tolist() == [[7, 8, 9, 10, 11, 12, 13, 7, 8, 9]]
    assert rolling_origins(100, 28, 7, 5) == [44, 51, 58, 65, 72]
    assert rolling_origins(20, 28, 7, 5) == []


def test_intervals_of_tiny_means_are_not_wider_than_needed():
    lower, median, upper = predictive_interval(np.array([[0.01, 0.2, 50.0]]), np.array([0.1]), 0.9)
    assert lower[0].tolist()[:2] == [0, 0] and upper[0][0] == 0 and median[0][2] == pytest.approx(50, abs=2)


def test_hourly_seasons_are_hour_of_week_and_settings_change_the_fit():
    seasons = Seasons.for_periods(datetime(2024, 1, 1, 0), 24 * 8, "H")
    assert seasons.slots == 168 and seasons.slot[25] == 25 and seasons.slot[168] == 0
    counts, _ = simulated(200, level=10, dispersion=0.1, series=3)
    daily = Seasons.for_periods(MONDAY, 207, "D")
    slow = fit_forecast(counts, daily, 7, ForecastSettings(level_half_life_days=200))
    fast = fit_forecast(counts, daily, 7, ForecastSettings(level_half_life_days=3))
    assert not np.allclose(slow.mean, fast.mean)

"""Forecast accuracy on the NYC Council cases, beside the weekly seasonal-naive forecast and
statsmodels' ETS in the same run, and the time to fit 1,000 daily series of three years.

Protocol (issue #6): daily counts of the shared file, read with the importer's own mapping
(category = complaint_type, region = borough, day = opendate in New York); the top 30 categories
and the top 30 category × borough slices by volume; rolling origin over the last 8 weeks (origins
one week apart, horizon 28 days, each forecast made only from the days before its origin).
Reported: mean over slices of MAE / MAE of the seasonal-naive forecast, MASE (scaled by the
in-sample seasonal-naive MAE), WAPE, and the share of actuals inside the 90 % intervals. The same
protocol is repeated one and two years earlier, to show the method is not tuned to one window.
"""

from __future__ import annotations

import csv
import statistics
import time
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays as holiday_calendars
import numpy as np

from benchmarks.common import Result
from consumers.importers import nyc_council
from projections.demand import count_series
from projections.forecasting import Seasons, backtest, fit_forecast, rolling_origins, seasonal_naive

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "nyc_council_constituent_services" / \
    "constituent_cases.csv"
NEW_YORK = ZoneInfo("America/New_York")
HORIZON, ORIGINS, TOP = 28, 5, 30


def _arrivals(path: Path) -> list[tuple[tuple[str, str, str], str]]:
    """((category, borough, zip), opened_at) per case, as the importer maps them."""
    rows = []
    with path.open(newline="", encoding="utf-8") as handle:
        for raw in csv.DictReader(handle):
            try:
                case = nyc_council.parse(raw)
            except nyc_council.RowError:
                continue
            opened = nyc_council.midnight(case.opened_on).astimezone(ZoneInfo("UTC"))
            rows.append(((case.category, case.borough or "(none)", case.postal_code or "(none)"),
                         opened.strftime("%Y-%m-%dT%H:%M:%S.%fZ")))
    return rows


def _ets(history: np.ndarray, horizon: int) -> np.ndarray:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    out = np.zeros((len(history), horizon))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, y in enumerate(history):
            try:
                fit = ETSModel(y, error="add", trend=None, seasonal="add", seasonal_periods=7).fit(disp=False)
                out[i] = np.maximum(fit.forecast(horizon), 0)
            except Exception:  # a series ETS cannot fit (e.g. constant): fall back to its mean
                out[i] = y[-28:].mean()
    return out


def _evaluate(counts: np.ndarray, seasons: Seasons, end: int, with_ets: bool) -> dict[str, float]:
    origins = rolling_origins(end, HORIZON, 7, ORIGINS)
    accuracy = backtest(counts[:, :end], seasons, HORIZON, origins)
    figures = {
        "relative_mae": float(np.nanmean(accuracy.relative_mae)),
        "mase": float(np.nanmean(accuracy.mase)),
        "mase_median": float(np.nanmedian(accuracy.mase)),
        "wape": float(accuracy.mae.sum() / max(accuracy.actual_mean.sum(), 1e-9)),
        "coverage": float(np.mean(accuracy.coverage)),
        "slices": int(np.sum(~np.isnan(accuracy.relative_mae))),
    }
    if with_ets:
        abs_ets = np.zeros(len(counts))
        abs_naive = np.zeros(len(counts))
        for origin in origins:
            history, actual = counts[:, :origin], counts[:, origin:origin + HORIZON]
            abs_ets += np.abs(_ets(history, HORIZON) - actual).sum(axis=1)
            abs_naive += np.abs(seasonal_naive(history, 7, HORIZON) - actual).sum(axis=1)
        ok = abs_naive > 0
        figures["ets_relative_mae"] = float(np.mean(abs_ets[ok] / abs_naive[ok]))
    return figures


def _speed(arrivals: list[tuple[tuple[str, str, str], str]], end: datetime, repeats: int, quick: bool
           ) -> tuple[float, float, int]:
    """Series per second: ours (fit + forecast + intervals, all at once) and statsmodels' ETS."""
    zips = [((key[0], key[2]), at) for key, at in arrivals]  # category × zip: over 1,000 slices
    series = count_series(zips, freq="D", end=end, zone=NEW_YORK, history=timedelta(days=3 * 365), top=1000)
    counts = series.counts
    seasons = Seasons.for_periods(series.start, counts.shape[1] + HORIZON, "D")
    ours = []
    for _ in range(repeats):
        started = time.perf_counter()
        fit_forecast(counts, seasons, HORIZON)
        ours.append(time.perf_counter() - started)
    sample = counts[:100] if quick else counts
    started = time.perf_counter()
    _ets(sample, HORIZON)
    ets_seconds_per_series = (time.perf_counter() - started) / len(sample)
    return statistics.median(ours), ets_seconds_per_series * len(counts), len(counts)


def run(events: int | None = None, repeats: int = 3, data: Path = DATA) -> list[Result]:
    quick = events is not None  # --quick: no ETS and no earlier windows
    arrivals = _arrivals(data)
    last_day = max(at for _, at in arrivals)
    end = datetime.fromisoformat(last_day.replace("Z", "+00:00")) + timedelta(days=1)
    categories = count_series([((k[0],), at) for k, at in arrivals], freq="D", end=end, zone=NEW_YORK,
                              history=timedelta(days=6 * 365 + 200), top=TOP)
    pairs = count_series([(k[:2], at) for k, at in arrivals if k[1] != "(none)"], freq="D", end=end, zone=NEW_YORK,
                         history=timedelta(days=6 * 365 + 200), top=TOP)
    assert categories.start == pairs.start and categories.counts.shape[1] == pairs.counts.shape[1]
    counts = np.vstack([categories.counts, pairs.counts])
    years = range(categories.start.year, end.year + 2)
    calendar = frozenset(holiday_calendars.country_holidays("US", subdiv="NY", years=years))
    seasons = Seasons.for_periods(categories.start, counts.shape[1] + HORIZON, "D", calendar)
    total = counts.shape[1]
    latest = _evaluate(counts, seasons, total, with_ets=not quick)
    print(f"   last 8 weeks: relative MAE {latest['relative_mae']:.3f} (ETS "
          f"{latest.get('ets_relative_mae', float('nan')):.3f}), MASE mean {latest['mase']:.3f} "
          f"median {latest['mase_median']:.3f}, "
          f"WAPE {latest['wape']:.3f}, 90% interval coverage {latest['coverage']:.3f}, "
          f"{latest['slices']} slices")
    earlier = []
    if not quick:
        for years_back in (1, 2):
            figures = _evaluate(counts, seasons, total - 364 * years_back, with_ets=False)
            earlier.append(figures)
            print(f"   {years_back} year(s) earlier: relative MAE {figures['relative_mae']:.3f}, "
                  f"MASE mean {figures['mase']:.3f} median {figures['mase_median']:.3f} (a slice new in the "
                  f"data has a near-zero in-sample scale), coverage {figures['coverage']:.3f}")
    ours_seconds, ets_seconds, how_many = _speed(arrivals, end, 1 if quick else repeats, quick)
    print(f"   {how_many} daily series of 3 years: {ours_seconds:.2f}s ours, statsmodels ETS {ets_seconds:.0f}s"
          + (" (extrapolated from 100 series)" if quick else ""))
    note = "NYC council, top 30 categories + top 30 category×borough, daily, horizon 28, 5 weekly origins"
    results = [
        Result("forecast: mean MAE / seasonal-naive MAE", latest["relative_mae"], 1.0, "", "≤ 0.85",
               latest["relative_mae"] <= 0.85, note),
        Result("forecast: 90 % interval coverage", latest["coverage"], 0.90, "", "0.85–0.95",
               0.85 <= latest["coverage"] <= 0.95, note),
        Result("forecast: MASE (in-sample seasonal-naive scale)", latest["mase"], 1.0, "", "reported", None, note),
        Result("forecast: WAPE", latest["wape"], 1.0, "", "reported", None, note),
        Result(f"forecast: fit {how_many} daily series × 3 years", ours_seconds, ets_seconds, "s",
               "< 10 s (baseline: statsmodels ETS)", ours_seconds < 10),
    ]
    if "ets_relative_mae" in latest:
        results.insert(1, Result("forecast: relative MAE, ours vs statsmodels ETS", latest["relative_mae"],
                                 latest["ets_relative_mae"], "", "ratio ≤ 1",
                                 latest["relative_mae"] <= latest["ets_relative_mae"], note))
    for years_back, figures in zip((1, 2), earlier, strict=False):
        results.append(Result(f"forecast: relative MAE, window {years_back} year(s) earlier",
                              figures["relative_mae"], 1.0, "", "≤ 0.85", figures["relative_mae"] <= 0.85))
    return results

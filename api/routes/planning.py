"""Hotspots, forecasts and staffing: what service managers plan with. Each answers ``as_of``
(business time; default now) and ``known_at`` (transaction time) like every other query."""

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from api.body import StrictJsonRoute
from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from api.bootstrap import Services
from api.dependencies import InjectedServices
from domain.values import UtcDatetime
from projections import planning

router = APIRouter(prefix="/v1", tags=["planning"], route_class=StrictJsonRoute)

AsOf = Annotated[UtcDatetime | None, Query(description="Business time: arrivals that occurred at or before it.")]
KnownAt = Annotated[UtcDatetime | None, Query(description="Transaction time: arrivals recorded at or before it.")]
GroupBy = Annotated[str | None, Query(description="A dimension or a pair: category, sub_category, product, channel, "
                                                  "region, district, department (e.g. category,region).")]
Measure = Annotated[str, Query(description="contacts (every ticket) or complaints (tickets with a severity).")]


async def _report(services: Services, build: Callable[..., dict[str, Any]], **parameters: Any) -> dict[str, Any]:
    """Runs a planning report on a live read transaction, off the event loop (it reads and computes)."""
    def run() -> dict[str, Any]:
        with services.read() as view:
            return build(view, services.planning, **parameters)
    return await run_in_threadpool(run)


@router.get("/hotspots")
async def hotspots(
    services: InjectedServices, as_of: AsOf = None, known_at: KnownAt = None, group_by: GroupBy = "category",
    window: Annotated[str, Query(description="Recent window: 24h, 6h, 1d, 7d, 2w.")] = "7d",
    measure: Measure = "complaints",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Slices whose recent volume is abnormally high against their own seasonal expectation (negative
    binomial tail, Benjamini–Hochberg over slices), or whose next window is forecast to be."""
    return await _report(services, planning.hotspot_report, group_by=group_by, window=window,
                         as_of=services.instant(as_of, known_at), known_at=known_at, measure=measure, top=limit)


@router.get("/arrivals")
async def arrival_counts(
    services: InjectedServices, as_of: AsOf = None, known_at: KnownAt = None, group_by: GroupBy = "category",
    freq: Annotated[str, Query(description="D (daily) or H (hourly).")] = "D",
    periods: Annotated[int, Query(ge=1, le=744, description="Periods up to the one containing as_of.")] = 14,
    measure: Measure = "complaints",
    limit: Annotated[int, Query(ge=1, le=200, description="The largest slices.")] = 20,
) -> dict[str, Any]:
    """Arrivals per slice and day (or hour): the heat map of where complaints come in."""
    return await _report(services, planning.counts_report, group_by=group_by, freq=freq, periods=periods,
                         as_of=services.instant(as_of, known_at), known_at=known_at, measure=measure, top=limit)


@router.get("/forecasts")
async def forecasts(
    services: InjectedServices, as_of: AsOf = None, known_at: KnownAt = None, group_by: GroupBy = "category",
    horizon: Annotated[int, Query(ge=1, le=336, description="Periods ahead (days for D, hours for H).")] = 28,
    freq: Annotated[str, Query(description="D (daily) or H (hourly).")] = "D",
    measure: Measure = "contacts",
    limit: Annotated[int, Query(ge=1, le=200, description="The largest slices.")] = 20,
    slice_: Annotated[str | None, Query(alias="slice", max_length=500,
                                        description="Only this slice: its values in group_by order, e.g. billing "
                                                    "or billing,north.")] = None,
) -> dict[str, Any]:
    """Per slice: point forecast (predictive median), mean and 90 % interval for each period after
    as_of, and the slice's rolling-origin backtest accuracy (relative MAE, MASE, WAPE)."""
    return await _report(services, planning.forecast_report, group_by=group_by, horizon=horizon, freq=freq,
                         as_of=services.instant(as_of, known_at), known_at=known_at, measure=measure, top=limit,
                         only=slice_)


@router.get("/staffing")
async def staffing(
    services: InjectedServices,
    date_: Annotated[date, Query(alias="date", description="The day to staff (local to SERVICETRAIL_TIMEZONE).")],
    interval: Annotated[str, Query(description="15m, 30m or 1h.")] = "30m",
    service_level: Annotated[float, Query(allow_inf_nan=False, gt=0, lt=1, description="Share answered within answer_seconds.")] = 0.8,
    answer_seconds: Annotated[float, Query(allow_inf_nan=False, ge=0, le=3600)] = 20,
    patience_seconds: Annotated[float | None, Query(allow_inf_nan=False, gt=0, le=86_400,
                                                    description="Mean patience: Erlang A instead of C.")] = None,
    aht_seconds: Annotated[float | None, Query(allow_inf_nan=False, gt=0, le=86_400,
                                               description="Average handle time (default: measured in the log).")
                           ] = None,
    known_at: KnownAt = None,
    as_of: Annotated[UtcDatetime | None, Query(description="Plan as of this business time (default now): the "
                                                           "forecast and AHT from arrivals at or before it.")] = None,
) -> dict[str, Any]:
    """Agents needed per interval of a day: hourly contact forecast × AHT, by Erlang C (or Erlang A
    with a patience), with expected service level, ASA, occupancy and abandonment."""
    now = services.clock() if as_of is None else min(as_of, services.clock())
    return await _report(services, planning.staffing_report, day=date_, now=now, interval=interval,
                         service_level=service_level, answer_seconds=answer_seconds,
                         patience_seconds=patience_seconds, aht_seconds=aht_seconds, known_at=known_at)

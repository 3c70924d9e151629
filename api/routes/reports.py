"""The service manager's monthly report (``GET /v1/reports/monthly``): HTML, Excel or PDF, in
zh-CN or en, for any moment (``as_of``, ``known_at``) like every other query."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.body import StrictJsonRoute
from api.dependencies import InjectedServices
from domain.values import UtcDatetime

router = APIRouter(prefix="/v1", tags=["reports"], route_class=StrictJsonRoute)

EXTENSIONS = {"html": "html", "xlsx": "xlsx", "pdf": "pdf", "json": "json"}


@router.get("/reports/monthly", response_class=Response,
            responses={200: {"content": {"text/html": {}, "application/pdf": {}, "application/json": {}, "application/vnd.openxmlformats-"
                                         "officedocument.spreadsheetml.sheet": {}}}})
def monthly(
    services: InjectedServices,
    period: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="The month, YYYY-MM, in the organisation's "
                                                                        "time zone (SERVICETRAIL_TIMEZONE).")],
    lang: Annotated[Literal["zh-CN", "en"], Query(description="The report's language (field names stay English).")
                    ] = "zh-CN",
    format: Annotated[Literal["html", "xlsx", "pdf", "json"], Query(
        description="html (one self-contained file), xlsx (one sheet per table), pdf, or json (the figures).")] = "html",
    as_of: Annotated[UtcDatetime | None, Query(description="Business time: events that occurred at or before it.")
                     ] = None,
    known_at: Annotated[UtcDatetime | None, Query(description="Transaction time: events recorded at or before it.")
                        ] = None,
) -> Response:
    """Key indicators against the previous month and the targets, 12-month trends, SLA compliance per
    priority, tier and deadline kind, escalations, complaints, the agent evaluation, hotspots and the
    next month's forecast, findings by stated rules, and how to verify the figures."""
    from api.reports.monthly import FORMATS, compute, render

    figures = compute(services, period, as_of, known_at)
    body = render(figures, lang, format)
    name = f"servicetrail-report-{period}-{lang}.{EXTENSIONS[format]}"
    return Response(body, media_type=FORMATS[format], headers={
        "Content-Disposition": f'{"inline" if format == "html" else "attachment"}; filename="{name}"',
        "X-Log-Position": str(figures["verification"]["log_position"])})

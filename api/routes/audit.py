"""Auditors' routes: verify the whole log, export a ticket's or a period's events with hashes, list
the erasures of personal data."""

from typing import Annotated, Any
from uuid import UUID

from api.body import StrictJsonRoute
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.audit_export import export_lines
from domain.values import UtcDatetime
from api.dependencies import InjectedServices
from api.problems import ordered_range

router = APIRouter(prefix="/v1/audit", tags=["audit"], route_class=StrictJsonRoute)


@router.get("/verify")
async def verify(services: InjectedServices) -> JSONResponse:
    """Re-checks every hash, link and checkpoint; 200 when intact, 409 with the first broken event."""
    report: dict[str, Any] = await run_in_threadpool(services.verify_log)
    return JSONResponse(report, status_code=200 if report["intact"] else 409)


@router.get("/export")
def export(
    services: InjectedServices, ticket: UUID | None = None,
    from_: Annotated[UtcDatetime | None, Query(alias="from")] = None, to: UtcDatetime | None = None,
    format: Annotated[str, Query(pattern="^(jsonl|csv)$")] = "jsonl",
) -> StreamingResponse:
    """Events with their hashes, verifiable offline (see the README's procedure)."""
    ordered_range(from_, to)
    if ticket is not None:
        services.app.ticket_events(ticket)  # an unknown ticket is a 404 before streaming starts
    media = "application/x-ndjson" if format == "jsonl" else "text/csv"
    return StreamingResponse(export_lines(services, ticket, from_, to, format), media_type=media)


@router.get("/erasures")
def erasures(services: InjectedServices, customer_id: str | None = None) -> dict[str, Any]:
    """Every erasure of personal data (customer, who, when), from the log; one customer's with ``customer_id``."""
    found = services.app.erasures_of(customer_id) if customer_id else services.app.erasures()
    return {"erasures": [erasure.describe() for erasure in found]}

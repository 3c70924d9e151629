"""Prometheus scrape endpoint (role-protected like every route: a key with ``metrics:read``)."""

from api.body import StrictJsonRoute
from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.metrics import CONTENT_TYPE

router = APIRouter(tags=["health"], route_class=StrictJsonRoute)


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Request latencies per route template, consumers' lag and last error, relay acknowledgements,
    dead letters and store errors, in Prometheus' text format."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE)

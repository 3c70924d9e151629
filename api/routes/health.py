"""Liveness and readiness (no authentication: probes must work before keys exist)."""

from typing import Any

from api.body import StrictJsonRoute
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.dependencies import InjectedServices

router = APIRouter(tags=["health"], route_class=StrictJsonRoute)


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready")
def ready(services: InjectedServices) -> JSONResponse:
    """Ready when the store answers and no running consumer is failing; reports each one's lag."""
    report: dict[str, Any] = {"status": "ready"}
    try:
        head = services.app.event_count()
        report.update(store="ok", log_position=head)
    except Exception as failure:  # any store failure means "not ready", with the reason
        return JSONResponse(
            {"status": "unavailable", "store": f"unreachable: {type(failure).__name__}"},
            status_code=503, headers={"Retry-After": "5"},
        )
    consumers = {}
    for consumer in services.running:
        entry: dict[str, Any] = {}
        error = getattr(consumer, "last_error", None)
        if error:
            entry["error"] = error
        if hasattr(consumer, "lag"):
            try:
                entry["lag"] = consumer.lag()
            except Exception as failure:
                entry["error"] = entry.get("error") or f"{type(failure).__name__}: {failure}"
        consumers[consumer.name] = entry
    report["consumers"] = consumers
    failing = [name for name, entry in consumers.items() if "error" in entry]
    if failing:
        report["status"] = "degraded"
        return JSONResponse(report, status_code=503, headers={"Retry-After": "5"})
    return JSONResponse(report)

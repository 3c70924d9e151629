"""Liveness and readiness (no authentication: probes must work before keys exist)."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.dependencies import Application

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready")
def ready(app: Application) -> JSONResponse:
    try:
        position = app.event_count()
    except Exception as failure:  # any store failure means "not ready", with the reason
        return JSONResponse(
            {"status": "unavailable", "store": f"unreachable: {type(failure).__name__}"},
            status_code=503, headers={"Retry-After": "5"},
        )
    return JSONResponse({"status": "ready", "store": "ok", "log_position": position})

"""Every error over HTTP is ``application/problem+json`` (RFC 9457), translated in one place."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import (
    ActingAsAnotherAgentError,
    OutsideQueueError,
    AgentNotFoundError,
    DomainError,
    NoAgentAvailableError,
    IdempotencyKeyReusedError,
    InvalidCommandError,
    TicketNotFoundError,
    TransitionNotAllowedError,
    VersionConflictError,
)

from projections.queries import InvalidQuery
from projections.store import is_store_unavailable

log = logging.getLogger("servicetrail.api")


ECHO_LIMIT = 64


def echoed(identifier: str) -> str:
    """An id from the request as a problem may quote it: at most ``ECHO_LIMIT`` characters."""
    return identifier if len(identifier) <= ECHO_LIMIT else identifier[:ECHO_LIMIT] + "…"


def ordered_range(start, end) -> None:
    """A period must not end before it starts: ``from`` after ``to`` is a 422 naming ``to`` (as the
    KPIs answer), not an empty answer."""
    if start is not None and end is not None and start > end:
        raise InvalidQuery("to", "to must be after from")


class ResourceNotFoundError(DomainError):
    """A read found nothing at that moment (a customer, a ticket as of a time before it opened)."""

    rule = "not_found"

PROBLEM_JSON = "application/problem+json"


class RateLimited(Exception):
    """The caller (its key, or its address when it has no valid key) spent its requests per minute."""

    def __init__(self, per_minute: int):
        super().__init__(f"at most {per_minute} requests per minute per key (or per address without a valid key)")

STATUS_BY_ERROR: dict[type[DomainError], int] = {  # the first matching class decides
    ActingAsAnotherAgentError: 403,
    OutsideQueueError: 403,
    TicketNotFoundError: 404,
    AgentNotFoundError: 404,
    NoAgentAvailableError: 409,
    ResourceNotFoundError: 404,
    VersionConflictError: 409,
    TransitionNotAllowedError: 409,
    IdempotencyKeyReusedError: 422,
    InvalidCommandError: 422,
}


def storage_condition(error: BaseException) -> str | None:
    """``"full"`` or ``"read-only"`` when a store failure is the disk's, else None."""
    import errno

    while error is not None:
        text = str(error).lower()
        code = getattr(error, "errno", None)
        if code == errno.ENOSPC or "disk is full" in text or "no space left" in text:
            return "full"
        if code == errno.EROFS or "readonly database" in text or "read-only file system" in text:
            return "read-only"
        error = error.__cause__ or error.__context__
    return None


def problem(
    status: int, title: str, detail: str, *, kind: str, headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {"type": f"urn:servicetrail:problem:{kind}", "title": title, "status": status,
            "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


LOCATIONS = ("body", "query", "path", "header", "cookie")


def _field_errors(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """``{"field", "reason", "in"}`` per error: the field's dotted path, without its location."""
    fields = []
    for error in errors:
        parts = [str(part) for part in error.get("loc", ())]
        where = parts.pop(0) if parts and parts[0] in LOCATIONS else "body"
        fields.append({"field": ".".join(parts) or where, "reason": error.get("msg", "invalid"), "in": where})
    return fields


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _request_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = _field_errors(list(exc.errors()))
        detail = "; ".join(f"{f['field']}: {f['reason']}" for f in fields)
        return problem(422, "Invalid request", detail, kind="validation", errors=fields)

    @app.exception_handler(ValidationError)
    async def _command_invalid(_: Request, exc: ValidationError) -> JSONResponse:
        fields = _field_errors(list(exc.errors()))
        detail = "; ".join(f"{f['field']}: {f['reason']}" for f in fields)
        return problem(422, "Invalid request", detail, kind="validation", errors=fields)

    @app.exception_handler(DomainError)
    async def _refused(_: Request, exc: DomainError) -> JSONResponse:
        status = next(
            (code for kind, code in STATUS_BY_ERROR.items() if isinstance(exc, kind)), 422
        )
        extra: dict[str, Any] = {"rule": exc.rule}
        if isinstance(exc, InvalidCommandError):
            extra["errors"] = [{"field": exc.field, "reason": exc.detail}]
        if isinstance(exc, VersionConflictError) and exc.current_version is not None:
            extra["current_version"] = exc.current_version
        title = {403: "Forbidden", 404: "Not found", 409: "Conflict"}.get(status, "Command refused")
        return problem(status, title, exc.detail, kind=exc.rule, **extra)

    @app.exception_handler(RateLimited)
    async def _rate_limited(_: Request, exc: RateLimited) -> JSONResponse:
        return problem(429, "Too many requests", str(exc), kind="rate_limited", headers={"Retry-After": "1"})

    @app.exception_handler(InvalidQuery)
    async def _bad_query(_: Request, exc: InvalidQuery) -> JSONResponse:
        return problem(422, "Invalid query", str(exc), kind="validation",
                       errors=[{"field": exc.field, "reason": str(exc)}])

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(
            exc.status_code, str(exc.detail), str(exc.detail), kind=f"http-{exc.status_code}",
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        from api.middleware import loggable_path  # the access log's rule: one line, no personal data

        path = loggable_path(request.scope)
        condition = storage_condition(exc)
        kind = condition or ("unavailable" if is_store_unavailable(exc) else None)
        metrics = getattr(request.app.state, "metrics", None)
        if kind and metrics is not None:
            metrics.store_error(kind)
        if condition == "full":
            log.error("store disk full on %s %s", request.method, path)
            return problem(507, "Store full", "the store's disk is full: nothing was written; free space and retry "
                           "(reads still work)", kind="store_full", headers={"Retry-After": "60"})
        if condition == "read-only":
            log.error("store read-only on %s %s", request.method, path)
            return problem(503, "Store read-only", "the store is read-only: nothing was written; reads still work",
                           kind="store_read_only", headers={"Retry-After": "60"})
        if is_store_unavailable(exc):
            log.warning("store unavailable on %s %s: %s", request.method, path, type(exc).__name__)
            return problem(503, "Store unavailable", "the event store or read store is unavailable; nothing was "
                           "written; retry shortly", kind="store_unavailable", headers={"Retry-After": "5"})
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, path)
        return problem(500, "Internal error", "the server failed; nothing was written", kind="internal")

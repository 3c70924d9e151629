"""The runtime path of a ticket command: one validation, one ticket load, one thread hop.

A command route is declared like any FastAPI route (its body model, headers and path parameter
make the OpenAPI document, which clients and the API fuzzer read), but it is served by the lean
handler below instead of FastAPI's generic one. Profiling ``POST /v1/tickets`` under load showed
FastAPI's dependency solving, its validation of the derived body model and the response model,
and a second validation when the command was built from that body, taking more of the server's
CPU than the use case itself. Here:

- the access rule is the app's one (``api.auth.authorize``), called first, as before;
- the body is read strictly (``api.body.strict_body``: duplicate keys, non-finite numbers, NUL
  refused) and validated once, as the command itself (``model_validate``);
- an agent's queue is checked on the ticket the use case loads anyway (``CommandContext.queue``),
  not on a second read of it;
- the blocking use case is the only step that leaves the event loop, on the app's own thread pool
  (``app.state.command_threads``: asyncio's executor hop costs about half of AnyIO's, measured
  190 → 90 µs of CPU per call with 16 in flight);
- the answer is written with orjson, without a response model;
- ``CommandShortcut`` hands a command request to its route directly, past FastAPI's router:
  that router walks every included router's routes (about sixty) for each request, and its
  layers took about a third of the event loop's CPU for a command (profiled).

Errors keep their shapes: a refused body or header is a ``RequestValidationError`` (422 naming
the field, ``in`` body/header/path), domain refusals are the domain's problems.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Coroutine
from typing import Any
from uuid import UUID

import orjson
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import get_route_path
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import authorize, require_acting_as_itself
from api.body import StrictJsonRoute, strict_body
from domain import commands as c
from domain.access import QUEUE_SCOPED_ROLES
from domain.application import Outcome
from domain.errors import InvalidCommandError

IDEMPOTENCY_KEY_MAX = 200
_VERSION = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')


def _invalid(kind: str, loc: tuple[Any, ...], message: str) -> RequestValidationError:
    return RequestValidationError([{"type": kind, "loc": loc, "msg": message, "input": None}])


def command_context(request: Request) -> c.CommandContext:
    """Who sends the command and on which conditions, from the caller and the headers
    (``Idempotency-Key``: same key + same body → the first result; ``If-Match``: the version the
    caller last saw). Idempotency keys are scoped to their caller's key, so two callers' keys
    never collide; a queue-scoped caller is confined to its own queue."""
    headers = request.headers
    idempotency_key = headers.get("idempotency-key")
    if idempotency_key is not None and len(idempotency_key) > IDEMPOTENCY_KEY_MAX:
        raise _invalid("string_too_long", ("header", "idempotency-key"),
                       f"String should have at most {IDEMPOTENCY_KEY_MAX} characters")
    expected_version = None
    if_match = headers.get("if-match")
    if if_match is not None:
        matched = _VERSION.match(if_match)
        if not matched:
            raise InvalidCommandError("If-Match", "If-Match must be a ticket version number, e.g. \"3\"")
        expected_version = int(matched.group(1))
    caller = getattr(request.state, "caller", None)
    if caller is None:
        return c.CommandContext(actor="api", expected_version=expected_version, idempotency_key=idempotency_key)
    return c.CommandContext(
        actor=caller.actor, expected_version=expected_version,
        idempotency_key=f"{caller.key_id}:{idempotency_key}" if idempotency_key else None,
        queue=caller.principal if caller.role in QUEUE_SCOPED_ROLES else None)


def _document(request: Request) -> dict[str, Any]:
    document = getattr(request, "_json", None)
    if document is None:
        raise _invalid("missing" if not getattr(request, "_body", b"") else "json_invalid", ("body",),
                       "Field required" if not getattr(request, "_body", b"") else "a JSON object is required")
    if not isinstance(document, dict):
        raise _invalid("model_attributes_type", ("body",), "Input should be a valid dictionary or object")
    return document


def accepted(outcome: Outcome, status: int, headers: dict[str, str] | None = None) -> Response:
    """``{"ticket_id", "version"}`` with the version as ETag (and ``Idempotent-Replayed`` on a replay)."""
    headers = {**(headers or {}), "ETag": f'"{outcome.version}"'}
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    body = orjson.dumps({"ticket_id": str(outcome.ticket_id), "version": outcome.version})
    return Response(body, status_code=status, headers=headers, media_type="application/json")


class CommandRoute(StrictJsonRoute):
    """A route whose endpoint carries ``command`` (its command class): served as the module says
    (its body read strictly like every route's, by ``strict_body``).

    ``confines_to_queue`` tells ``authorize`` that the use case checks an agent's queue itself."""

    confines_to_queue = True

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        command: type[c.Command] = self.endpoint.command  # type: ignore[attr-defined]
        has_ticket = issubclass(command, c.TicketCommand)
        is_opening = command is c.OpenTicket

        async def handle(request: Request) -> Response:
            await authorize(request)
            values = {}
            if has_ticket:
                try:
                    values["ticket_id"] = UUID(request.path_params["ticket_id"])
                except ValueError:
                    raise _invalid("uuid_parsing", ("path", "ticket_id"),
                                   "Input should be a valid UUID") from None
            context = command_context(request)
            await strict_body(request)
            document = _document(request)
            if "ticket_id" in document and has_ticket:  # it comes from the path, never the body
                raise _invalid("extra_forbidden", ("body", "ticket_id"), "Extra inputs are not permitted")
            cmd = command.model_validate({**document, **values})  # a ValidationError is the 422 problem
            require_acting_as_itself(getattr(request.state, "caller", None), cmd)
            outcome = await asyncio.get_running_loop().run_in_executor(
                request.app.state.command_threads, request.app.state.services.app.handle, cmd, context)
            if is_opening:
                return accepted(outcome, 200 if outcome.replayed else 201,
                                {"Location": f"/v1/tickets/{outcome.ticket_id}"})
            return accepted(outcome, 200)

        return handle


class CommandShortcut:
    """An ASGI layer inside the app's own middleware (``RequestGuard``: body limit, access log,
    metrics) that serves ``POST`` to a command route (``CommandRoute``) at once: it sets what the
    router would set (``route``, ``path_params``, ``endpoint``) and the app's exception handlers
    (as ``ExceptionMiddleware`` does, so every refusal is the same problem+json), then runs the
    route's own ASGI app. Anything else goes on to the app's router as before; so does everything
    when the layer inside is not Starlette's ``ExceptionMiddleware`` (a future FastAPI)."""

    def __init__(self, app: ASGIApp, routes: list[CommandRoute]):
        self.app = app
        self.exact = {route.path: route for route in routes if not route.param_convertors}
        # "/v1/tickets/{ticket_id}/<command>": the last segment picks the route, its regex checks the rest
        self.by_last_segment = {route.path.rsplit("/", 1)[1]: route for route in routes if route.param_convertors}

    def _match(self, path: str) -> tuple[CommandRoute | None, dict[str, Any]]:
        route = self.exact.get(path)
        if route is not None:
            return route, {}
        route = self.by_last_segment.get(path.rsplit("/", 1)[-1])
        if route is None:
            return None, {}
        matched = route.path_regex.match(path)
        if matched is None:
            return None, {}
        return route, {name: route.param_convertors[name].convert(value)
                       for name, value in matched.groupdict().items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and isinstance(self.app, ExceptionMiddleware):
            route, params = self._match(get_route_path(scope))
            if route is not None:
                scope["route"], scope["endpoint"] = route, route.endpoint
                scope["path_params"] = {**scope.get("path_params", {}), **params}
                scope["starlette.exception_handlers"] = (self.app._exception_handlers, self.app._status_handlers)
                await route.app(scope, receive, send)
                return
        await self.app(scope, receive, send)

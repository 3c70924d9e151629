"""Every route's access rule, enforced in one place for the whole app (fail closed).

A request presents its key as ``Authorization: Bearer <key>`` (or ``X-API-Key``; the SSE stream
also accepts ``?access_token=`` because browsers' EventSource cannot send headers). No key or an
unknown/revoked one: 401. A role without the route's permission: 403. Agents only reach tickets
assigned to them (their queue) and only their own performance.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from api.keys import Caller
from domain.access import QUEUE_SCOPED_ROLES, Permission, allows
from domain.errors import TicketNotFoundError

PUBLIC = "public"
P = Permission

TICKET_COMMANDS = ("interactions", "triage", "assignment", "transfer", "escalations", "wait", "resume",
                   "resolution", "reopen", "close", "survey")

ROUTE_POLICY: dict[tuple[str, str], str] = {
    ("GET", "/health"): PUBLIC,
    ("GET", "/ready"): PUBLIC,
    ("GET", "/metrics"): P.READ_METRICS,
    ("GET", "/"): PUBLIC,
    ("POST", "/v1/tickets"): P.OPEN_TICKET,
    **{("POST", f"/v1/tickets/{{ticket_id}}/{command}"): P.ACT_ON_TICKET for command in TICKET_COMMANDS},
    ("GET", "/v1/tickets/{ticket_id}"): P.READ_TICKET,
    ("GET", "/v1/tickets/{ticket_id}/events"): P.READ_TICKET,
    ("GET", "/v1/tickets"): P.READ_TICKET,
    ("POST", "/v1/agents"): P.MANAGE_ROSTER,
    ("POST", "/v1/agents/{agent_id}/availability"): P.MANAGE_ROSTER,
    ("GET", "/v1/agents"): P.READ_MODELS,
    ("GET", "/v1/kpis"): P.READ_MODELS,
    ("GET", "/v1/sla/risk"): P.READ_MODELS,
    ("GET", "/v1/agents/leaderboard"): P.READ_MODELS,
    ("GET", "/v1/agents/{agent_id}/performance"): P.READ_OWN_PERFORMANCE,
    ("GET", "/v1/customers/{customer_id}/history"): P.READ_MODELS,
    ("GET", "/v1/hotspots"): P.READ_MODELS,
    ("GET", "/v1/arrivals"): P.READ_MODELS,
    ("GET", "/v1/forecasts"): P.READ_MODELS,
    ("GET", "/v1/staffing"): P.READ_MODELS,
    ("GET", "/v1/events"): P.READ_EVENTS,
    ("GET", "/v1/events/stream"): P.READ_EVENTS,
    ("GET", "/v1/audit/verify"): P.AUDIT,
    ("GET", "/v1/audit/export"): P.AUDIT,
    ("GET", "/v1/audit/erasures"): P.AUDIT,
    ("DELETE", "/v1/customers/{customer_id}/personal-data"): P.ERASE_PERSONAL_DATA,
    ("POST", "/v1/keys"): P.MANAGE_KEYS,
    ("GET", "/v1/keys"): P.MANAGE_KEYS,
    ("DELETE", "/v1/keys/{key_id}"): P.MANAGE_KEYS,
}


def _presented_key(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    if request.headers.get("x-api-key"):
        return request.headers["x-api-key"].strip()
    if request.url.path == "/v1/events/stream":
        return request.query_params.get("access_token")
    return None


def _denied(status: int, detail: str) -> HTTPException:
    headers = {"WWW-Authenticate": 'Bearer realm="servicetrail"'} if status == 401 else None
    return HTTPException(status_code=status, detail=detail, headers=headers)


async def authorize(request: Request) -> None:
    """The app-wide dependency: applies the route's rule and remembers the caller."""
    route = request.scope.get("route")
    rule = ROUTE_POLICY.get((request.method, getattr(route, "path", "")))
    if rule is None:
        raise _denied(403, "this route has no access rule")
    if rule == PUBLIC:
        return
    services = request.app.state.services
    presented = _presented_key(request)
    caller = None
    if presented:  # a cached key is checked right here; only a store read goes to the thread pool
        caller = (services.keys.authenticate(presented) if services.keys.is_cached(presented)
                  else await run_in_threadpool(services.keys.authenticate, presented))
    if caller is None:
        raise _denied(401, "a valid API key is required (Authorization: Bearer <key>)")
    if not allows(caller.role, Permission(rule)):
        raise _denied(403, f"the {caller.role} role may not do this")
    request.state.caller = caller
    if caller.role in QUEUE_SCOPED_ROLES:
        await run_in_threadpool(_check_queue, services, caller, request)


def _check_queue(services, caller: Caller, request: Request) -> None:
    params = request.path_params
    if "ticket_id" in params:
        try:
            ticket = services.app.get_ticket(UUID(params["ticket_id"]))
        except (TicketNotFoundError, ValueError):
            return  # the route answers 404 (or 422 for a malformed id)
        if ticket.assignee_id != caller.principal:
            raise _denied(403, "agents may only act on tickets assigned to them")
    if "agent_id" in params and params["agent_id"] != caller.principal:
        raise _denied(403, "agents may only read their own performance")
    if request.url.path == "/v1/tickets" and request.query_params.get("agent_id", caller.principal) != caller.principal:
        raise _denied(403, "agents may only list their own queue")


def queue_of(caller: Caller | None, agent_id: str | None) -> str | None:
    """The ``agent_id`` filter a ticket list must apply: a queue-scoped caller is pinned to its
    own queue (the access check already refused any other ``agent_id``), others keep theirs."""
    if caller is not None and caller.role in QUEUE_SCOPED_ROLES:
        return caller.principal
    return agent_id


async def current_caller(request: Request) -> Caller | None:
    return getattr(request.state, "caller", None)


CurrentCaller = Annotated[Caller | None, Depends(current_caller)]

"""Every route's access rule, enforced in one place for the whole app (fail closed).

A request presents its key as ``Authorization: Bearer <key>`` (scheme in any case, any white space;
or ``X-API-Key``; the SSE stream also accepts ``?access_token=`` because browsers' EventSource cannot
send headers). No key or an unknown/revoked one: 401. A role without the route's permission: 403.
Agents only reach tickets assigned to them (their queue) and only their own performance.

The rate limit is applied here, where the caller is known: per authenticated key id, and per client
address for requests without a valid key (failed authentication spends the address's budget, and
once it is spent such requests are refused before any store read).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from api.keys import Caller
from api.problems import RateLimited
from domain.access import QUEUE_SCOPED_ROLES, Permission, acting_as_another, allows
from domain.errors import ActingAsAnotherAgentError, TicketNotFoundError

PUBLIC = "public"
P = Permission

TICKET_COMMANDS = ("interactions", "triage", "assignment", "transfer", "escalations", "wait", "resume",
                   "resolution", "reopen", "close", "survey")

ROUTE_POLICY: dict[tuple[str, str], str] = {
    ("GET", "/health"): PUBLIC,
    ("GET", "/ready"): PUBLIC,
    ("GET", "/metrics"): P.READ_METRICS,
    ("GET", "/"): PUBLIC,
    ("GET", "/static/{name}"): PUBLIC,  # the dashboard's script and vendored chart library
    ("GET", "/dashboard/i18n.json"): PUBLIC,  # the dashboard's words and the time zone, no figures
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
    ("GET", "/v1/sla/what-if"): P.READ_MODELS,
    ("GET", "/v1/sla/policy"): P.READ_MODELS,
    ("GET", "/v1/sla/policies"): P.READ_MODELS,
    ("POST", "/v1/sla/policies"): P.MANAGE_SLA_POLICY,
    ("GET", "/v1/agents/leaderboard"): P.READ_MODELS,
    ("GET", "/v1/agents/{agent_id}/performance"): P.READ_OWN_PERFORMANCE,
    ("GET", "/v1/customers/{customer_id}/history"): P.READ_MODELS,
    ("GET", "/v1/hotspots"): P.READ_MODELS,
    ("GET", "/v1/arrivals"): P.READ_MODELS,
    ("GET", "/v1/forecasts"): P.READ_MODELS,
    ("GET", "/v1/staffing"): P.READ_MODELS,
    ("GET", "/v1/reports/monthly"): P.READ_MODELS,  # managers and auditors
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
    parts = request.headers.get("authorization", "").split(None, 1)  # scheme, then any white space
    if len(parts) == 2 and parts[0].lower() == "bearer":
        return parts[1].strip()
    if request.headers.get("x-api-key", "").strip():
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
    services, limiter = request.app.state.services, request.app.state.rate_limiter
    address = f"address:{request.client.host if request.client else 'unknown'}"
    presented = _presented_key(request)
    caller = None
    if presented:  # a cached key (known or unknown) is checked right here; a store read goes to the thread pool
        if services.keys.is_cached(presented):
            caller = services.keys.authenticate(presented)
        elif not limiter.available(address):
            raise RateLimited(limiter.per_minute)  # spent on failures: no store read for this one
        else:
            caller = await run_in_threadpool(services.keys.authenticate, presented)
    if caller is None:
        if not limiter.take(address):
            raise RateLimited(limiter.per_minute)
        raise _denied(401, "a valid API key is required (Authorization: Bearer <key>)")
    if not limiter.take(f"key:{caller.key_id}"):
        raise RateLimited(limiter.per_minute)
    if not allows(caller.role, Permission(rule)):
        raise _denied(403, f"the {caller.role} role may not do this")
    request.state.caller = caller
    if caller.role in QUEUE_SCOPED_ROLES:
        _check_own_scope(caller, request)
        ticket_id = request.path_params.get("ticket_id")
        if ticket_id is not None and not getattr(route, "confines_to_queue", False):
            await run_in_threadpool(_check_ticket_in_queue, services, caller, ticket_id)
        # a command route (``api.command_route``) checks the queue on the ticket its use case loads


def _check_own_scope(caller: Caller, request: Request) -> None:
    """An agent's own performance and own queue only (no store read)."""
    params = request.path_params
    if "agent_id" in params and params["agent_id"] != caller.principal:
        raise _denied(403, "agents may only read their own performance")
    if request.url.path == "/v1/tickets" and request.query_params.get("agent_id", caller.principal) != caller.principal:
        raise _denied(403, "agents may only list their own queue")


def _check_ticket_in_queue(services, caller: Caller, ticket_id: str) -> None:
    try:
        ticket = services.app.get_ticket(UUID(ticket_id))
    except (TicketNotFoundError, ValueError):
        return  # the route answers 404 (or 422 for a malformed id)
    if ticket.assignee_id != caller.principal:
        raise _denied(403, "agents may only act on tickets assigned to them")


def require_acting_as_itself(caller: Caller | None, command: object) -> None:
    """403 when a queue-scoped caller names another agent as the one who acted (see
    ``domain.access.acting_as_another``); the problem names the field."""
    if caller is None:
        return
    field = acting_as_another(caller.role, caller.principal, command)
    if field is not None:
        raise ActingAsAnotherAgentError(field, f"{field}: an agent may only name itself "
                                               f"({caller.principal[:64]}), not another agent")


def queue_of(caller: Caller | None, agent_id: str | None) -> str | None:
    """The ``agent_id`` filter a ticket list must apply: a queue-scoped caller is pinned to its
    own queue (the access check already refused any other ``agent_id``), others keep theirs."""
    if caller is not None and caller.role in QUEUE_SCOPED_ROLES:
        return caller.principal
    return agent_id


async def current_caller(request: Request) -> Caller | None:
    return getattr(request.state, "caller", None)


CurrentCaller = Annotated[Caller | None, Depends(current_caller)]

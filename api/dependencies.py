"""FastAPI dependencies: the wired services (from ``app.state``) and command headers."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Request

from api.bootstrap import Services
from domain.application import ServiceTrail
from domain.commands import CommandContext
from domain.errors import InvalidCommandError

_VERSION = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')


# Dependencies without I/O are ``async``: FastAPI runs sync ones in the thread pool, a hop per call.
async def get_services(request: Request) -> Services:
    return request.app.state.services


async def get_application(services: Annotated[Services, Depends(get_services)]) -> ServiceTrail:
    return services.app


async def command_context(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(max_length=200, description="Repeat a request safely: same key + same body → first result."),
    ] = None,
    if_match: Annotated[
        str | None, Header(description="The version the caller last saw; a stale one answers 409.")
    ] = None,
) -> CommandContext:
    expected_version = None
    if if_match is not None:
        matched = _VERSION.match(if_match)
        if not matched:
            raise InvalidCommandError("If-Match", "If-Match must be a ticket version number, e.g. \"3\"")
        expected_version = int(matched.group(1))
    caller = getattr(request.state, "caller", None)
    actor = caller.actor if caller is not None else "api"
    # Keys are scoped to their caller, so two callers' keys never collide.
    key = f"{caller.key_id}:{idempotency_key}" if caller is not None and idempotency_key else idempotency_key
    return CommandContext(actor=actor, expected_version=expected_version, idempotency_key=key)


InjectedServices = Annotated[Services, Depends(get_services)]  # the wired services, as a route parameter
Application = Annotated[ServiceTrail, Depends(get_application)]
Context = Annotated[CommandContext, Depends(command_context)]

"""FastAPI dependencies: the wired services (from ``app.state``) and command headers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from api.bootstrap import Services
from api.command_route import command_context as context_of
from domain.application import ServiceTrail
from domain.commands import CommandContext


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
    """The headers as documented; read by ``api.command_route.command_context`` (the one rule)."""
    return context_of(request)


InjectedServices = Annotated[Services, Depends(get_services)]  # the wired services, as a route parameter
Application = Annotated[ServiceTrail, Depends(get_application)]
Context = Annotated[CommandContext, Depends(command_context)]

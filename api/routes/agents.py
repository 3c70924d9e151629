"""The roster over HTTP: register agents (or change their profile), set availability, list."""

from typing import Any

from api.body import StrictJsonRoute
from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.dependencies import Application, Context
from domain import commands

router = APIRouter(prefix="/v1/agents", tags=["roster"], route_class=StrictJsonRoute)


def describe(agent) -> dict[str, Any]:
    return {"agent_id": agent.agent_id, "available": agent.available, "version": agent.version,
            **agent.profile.model_dump()}


@router.post("")
def register_agent(body: commands.RegisterAgent, app: Application, context: Context) -> dict[str, Any]:
    """Registers an agent, or changes the profile of a registered one (skills, languages, VIP accounts)."""
    return describe(app.register_agent(body, context))


class Availability(BaseModel):
    available: bool
    reason: str | None = Field(default=None, max_length=500)


@router.post("/{agent_id}/availability")
def set_availability(agent_id: str, body: Availability, app: Application, context: Context) -> dict[str, Any]:
    return describe(app.set_availability(commands.SetAvailability(agent_id=agent_id, **body.model_dump()), context))


@router.get("")
def list_agents(app: Application) -> dict[str, Any]:
    return {"agents": [describe(agent) for agent in app.agents()]}

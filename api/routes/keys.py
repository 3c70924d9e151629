"""API keys over HTTP (admin only): issue, list, revoke. A key's secret is shown once."""

from typing import Any

from api.body import StrictJsonRoute
from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from api.auth import CurrentCaller
from api.dependencies import InjectedServices
from api.problems import ResourceNotFoundError, echoed
from domain.access import Role

router = APIRouter(prefix="/v1/keys", tags=["keys"], route_class=StrictJsonRoute)


class NewKey(BaseModel):
    role: Role
    principal: str = Field(min_length=1, max_length=200, description="Who the key acts as (an agent id for agents).")
    label: str | None = Field(default=None, max_length=200)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_key(body: NewKey, services: InjectedServices, caller: CurrentCaller) -> dict[str, Any]:
    text, key = services.keys.create(body.role, body.principal, label=body.label,
                                     actor=caller.actor if caller else "admin")
    return {"key": text, **key.describe()}


@router.get("")
def list_keys(services: InjectedServices) -> dict[str, Any]:
    return {"keys": [key.describe() for key in services.keys.all()]}


@router.delete("/{key_id}")
def revoke_key(key_id: str, services: InjectedServices, caller: CurrentCaller) -> dict[str, Any]:
    try:
        key = services.keys.revoke(key_id, actor=caller.actor if caller else "admin")
    except KeyError:
        raise ResourceNotFoundError(f"no key {echoed(key_id)}") from None
    return key.describe()

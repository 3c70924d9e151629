"""SLA policy versions over HTTP: the one in force at a moment, the history, and adopting a new
one from TOML (managers and admins; a bad policy is problem+json naming the field)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, Field

from api.auth import CurrentCaller
from api.body import StrictJsonRoute
from api.bootstrap import Services
from api.dependencies import get_services
from api.policies import adopt_policy_text, policy_at, policy_history
from domain.values import UtcDatetime

router = APIRouter(prefix="/v1/sla", tags=["sla policy"], route_class=StrictJsonRoute)
Wired = Annotated[Services, Depends(get_services)]


class NewPolicy(BaseModel):
    policy: str = Field(min_length=1, max_length=100_000,
                        description="The policy as TOML text, the format of SERVICETRAIL_POLICY_FILE.")
    effective_from: UtcDatetime | None = Field(
        default=None, description="Tickets opened from then on are judged by it (default: now; never earlier).")
    reason: str | None = Field(default=None, max_length=2_000)


@router.post("/policies", status_code=status.HTTP_201_CREATED)
def adopt_policy(body: NewPolicy, services: Wired, caller: CurrentCaller) -> dict[str, Any]:
    """Records the next version of the SLA policy (an event in the log and on the events topic)."""
    version = adopt_policy_text(services, body.policy, actor=caller.actor if caller else "admin",
                                effective_from=body.effective_from, reason=body.reason)
    return version.describe()


@router.get("/policy")
def current_policy(
    services: Wired,
    as_of: Annotated[UtcDatetime | None, Query(description="Business time: the policy in force then.")] = None,
    known_at: Annotated[UtcDatetime | None, Query(description="Transaction time: as recorded by then.")] = None,
) -> dict[str, Any]:
    """The version that judges a ticket opened at the moment (default now), as known then."""
    return policy_at(services, as_of, known_at)


@router.get("/policies")
def policies(services: Wired) -> dict[str, Any]:
    """Every version: number, effective time, who adopted it and when (0: the settings file's)."""
    return {"versions": policy_history(services)}

"""The roster: agents, their skills, languages, dedicated VIP accounts and availability, as
event-sourced aggregates, so that every routing decision can be replayed against the roster of
its moment."""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID, uuid5

from eventsourcing.domain import BaseAggregate, CanInitAggregate
from pydantic import BaseModel, ConfigDict, Field

from domain.events import ActorEvent, started_by
from domain.values import UtcDatetime

AGENT_NAMESPACE = UUID("5b0c2a7e-91d4-5f3a-8e6b-2d4f6a8c0e13")


def agent_aggregate_id(agent_id: str) -> UUID:
    return uuid5(AGENT_NAMESPACE, agent_id)


class Profile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    team: str | None = Field(default=None, max_length=200)
    skills: tuple[str, ...] = Field(default=(), description="Categories the agent handles.")
    languages: tuple[str, ...] = ()
    accounts: tuple[str, ...] = Field(default=(), description="VIP customers the agent is account manager of.")


class AgentEvent(ActorEvent):
    pass


class Agent(BaseAggregate[UUID]):
    Event = AgentEvent

    class Registered(AgentEvent, CanInitAggregate[UUID]):
        TYPE: ClassVar[str] = "agent.registered"
        type: Literal["agent.registered"] = "agent.registered"
        originator_topic: str = Field(default="domain.roster:Agent", exclude=True)
        agent_id: str = Field(min_length=1, max_length=200)
        profile: Profile

        def apply(self, agent: Agent) -> None:
            agent.agent_id, agent.profile, agent.available = self.agent_id, self.profile, True

    class ProfileChanged(AgentEvent):
        TYPE: ClassVar[str] = "agent.profile_changed"
        type: Literal["agent.profile_changed"] = "agent.profile_changed"
        profile: Profile

        def apply(self, agent: Agent) -> None:
            agent.profile = self.profile

    class AvailabilityChanged(AgentEvent):
        TYPE: ClassVar[str] = "agent.availability_changed"
        type: Literal["agent.availability_changed"] = "agent.availability_changed"
        available: bool
        reason: str | None = None

        def apply(self, agent: Agent) -> None:
            agent.available = self.available

    @classmethod
    def register(cls, agent_id: str, profile: Profile, *, actor: str, at: UtcDatetime) -> Agent:
        event = cls.Registered(originator_id=agent_aggregate_id(agent_id), originator_version=1, timestamp=at,
                               actor=actor, agent_id=agent_id, profile=profile)
        return started_by(event)

    def change_profile(self, profile: Profile, *, actor: str, at: UtcDatetime) -> None:
        if profile != self.profile:
            self.trigger_event(self.ProfileChanged, timestamp=at, actor=actor, profile=profile)

    def set_availability(self, available: bool, *, actor: str, at: UtcDatetime, reason: str | None = None) -> None:
        if available != self.available:
            self.trigger_event(self.AvailabilityChanged, timestamp=at, actor=actor, available=available,
                               reason=reason)

"""The inbound contract: what channel systems (telephony, chat, e-mail gateways) publish.

Each message carries its own ``message_id``; the ingestor uses it as the idempotency key, so a
message delivered twice is applied once.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from domain import commands
from domain.values import Author, Channel, Direction, UtcDatetime


class InboundMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)
    schema_version: Literal[1] = 1
    message_id: str = Field(min_length=1, max_length=200, description="Unique per channel system.")
    source: str = Field(default="channel", min_length=1, max_length=100)
    occurred_at: UtcDatetime | None = None


class InboundInteraction(InboundMessage):
    kind: Literal["interaction"]
    ticket_id: UUID
    channel: Channel
    direction: Direction
    author: Author
    agent_id: str | None = Field(default=None, max_length=200)
    body: str | None = Field(default=None, max_length=20_000)
    duration_seconds: float | None = Field(default=None, ge=0)

    def command(self) -> commands.RecordInteraction:
        return commands.RecordInteraction(
            ticket_id=self.ticket_id, channel=self.channel, direction=self.direction, author=self.author,
            agent_id=self.agent_id, body=self.body, duration_seconds=self.duration_seconds,
            occurred_at=self.occurred_at,
        )


class InboundTicket(InboundMessage):
    kind: Literal["ticket"]
    ticket: commands.OpenTicket = Field(description="The new ticket, as in POST /v1/tickets.")

    def command(self) -> commands.OpenTicket:
        if self.occurred_at is not None and self.ticket.occurred_at is None:
            return self.ticket.model_copy(update={"occurred_at": self.occurred_at})
        return self.ticket


InboundAdapter = TypeAdapter(
    Annotated[Union[InboundInteraction, InboundTicket], Field(discriminator="kind")]
)

"""Erasures of a customer's personal data, as part of the history.

Erasing deletes the customer's key from the vault (an adapter); what the log keeps is the fact:
which customer, who erased, when, and whether there was anything to erase — never personal data.
Each erasure is its own aggregate, numbered per customer (``uuid5`` of customer id and number),
so a second erasure adds a record instead of overwriting the first, a returning customer's new
contact removes nothing, and two racing erasures collide in the event store instead of sharing a
number.
"""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID, uuid5

from eventsourcing.domain import BaseAggregate, CanInitAggregate
from pydantic import Field

from domain.events import ActorEvent, started_by
from domain.values import UtcDatetime

ERASURE_NAMESPACE = UUID("c4e1d7a2-6b3f-5e90-a8d1-2f7c9b0e4a63")


def erasure_id(customer_id: str, number: int) -> UUID:
    return uuid5(ERASURE_NAMESPACE, f"{customer_id}/{number}")


class ErasureEvent(ActorEvent):
    pass


class PersonalDataErasure(BaseAggregate[UUID]):
    """The ``number``-th erasure of one customer's personal data."""

    Event = ErasureEvent

    class Erased(ErasureEvent, CanInitAggregate[UUID]):
        TYPE: ClassVar[str] = "customer.personal_data_erased"
        type: Literal["customer.personal_data_erased"] = "customer.personal_data_erased"
        originator_topic: str = Field(default="domain.privacy:PersonalDataErasure", exclude=True)
        customer_id: str = Field(min_length=1, max_length=200)
        number: int = Field(ge=1, description="1 for the customer's first erasure, 2 for the next …")
        had_personal_data: bool | None = Field(
            description="Whether a key existed (and was deleted) at that moment; null for an erasure "
            "moved from the table where earlier versions kept them, which did not say.")

        def apply(self, erasure: PersonalDataErasure) -> None:
            erasure.customer_id, erasure.number = self.customer_id, self.number
            erasure.had_personal_data = self.had_personal_data
            erasure.erased_by, erasure.erased_at = self.actor, self.timestamp

    @classmethod
    def record(cls, customer_id: str, number: int, *, had_personal_data: bool | None, actor: str,
               at: UtcDatetime) -> PersonalDataErasure:
        event = cls.Erased(originator_id=erasure_id(customer_id, number), originator_version=1, timestamp=at,
                           actor=actor, customer_id=customer_id, number=number,
                           had_personal_data=had_personal_data)
        return started_by(event)

    def describe(self) -> dict:
        return {"customer_id": self.customer_id, "number": self.number, "erased_at": self.erased_at.isoformat(),
                "erased_by": self.erased_by, "had_personal_data": self.had_personal_data}

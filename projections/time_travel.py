"""State as it stood at any moment, on either time axis, by folding the relevant slice of the log.

- ``as_of`` T (business time): the events that *occurred* at or before T, whenever recorded;
- ``known_at`` T (transaction time): the events *recorded* at or before T: exactly what a
  caught-up projection showed at T.
Both may be combined. Each ticket's events are folded in version order, so the result does not
depend on how events of different tickets interleave in the log.

This module is the **definition** of "as it stood at a moment" and the test oracle: requests
never call ``replay`` (its cost grows with the log); they read ``projections.read_side``, which
must give the same answers (property tests compare the two). ``ticket_at`` folds one ticket's own
events; the read side uses it for the few tickets with late events.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from projections.store import StateStore
from domain.service_levels import ServicePolicy
from projections.ticket_state.fold import Judge, TicketRow, as_document, fold_batch, instant, iso
from projections.ticket_state.store import TicketStateProjection

Document = dict[str, Any]


class Moment:
    """The two time bounds of a query, as canonical text (instants in documents are text)."""

    def __init__(self, as_of: datetime | None, known_at: datetime | None):
        self.as_of = None if as_of is None else iso(as_of)
        self.known_at = None if known_at is None else iso(known_at)

    def shows(self, event: Any) -> bool:
        return ((self.as_of is None or instant(event["occurred_at"]) <= self.as_of)
                and (self.known_at is None or instant(event["recorded_at"]) <= self.known_at))


def ticket_at(events: Iterable[Any], as_of: datetime | None, known_at: datetime | None,
              judge: Judge | None = None) -> TicketRow | None:
    """One ticket's row at the moment; None when it had not been opened (or recorded) by then."""
    moment = Moment(as_of, known_at)
    chosen = [d for d in map(as_document, events) if moment.shows(d)]
    if not chosen or chosen[0]["version"] != 1:
        return None
    return fold_batch(None, chosen, judge)


def replay(events: Iterable[Any], as_of: datetime | None = None, known_at: datetime | None = None,
           *, batch: int = 5000, policy: ServicePolicy | None = None) -> StateStore:
    """A fresh in-memory state store holding every projection as it stood at the moment."""
    store = StateStore("sqlite:///:memory:")
    handler = TicketStateProjection(policy=policy)
    with store.transaction() as tx:
        handler.setup(tx)
    opened: set[str] = set()
    for chunk in _chunks(_visible_with_opening(map(as_document, events), Moment(as_of, known_at), opened), batch):
        with store.transaction() as tx:
            handler.handle(tx, chunk)
    return store


def _visible_with_opening(events: Iterable[Document], moment: Moment, opened: set[str]) -> Iterator[Document]:
    """Visible events of tickets whose opening is visible too (a ticket exists from its opening),
    and every policy version: which one judges a ticket is decided by the ticket's own opening
    (``domain.sla_policies``), whatever the moment."""
    for event in events:
        if "policy_id" in event:
            yield event
            continue
        if not moment.shows(event):
            continue
        ticket = event["ticket_id"]
        if event["version"] == 1:
            opened.add(ticket)
        elif ticket not in opened:
            continue
        yield event


def _chunks(events: Iterable[Document], size: int) -> Iterator[list[Document]]:
    chunk: list[Document] = []
    for event in events:
        chunk.append(event)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk

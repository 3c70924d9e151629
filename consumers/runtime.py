"""The one loop every consumer runs: poll, handle, write state and position together, commit.

Delivery: exactly-once effects. For each batch, in one transaction of the state store:
deliveries at or before the stored position are dropped (redelivery); from a source that can
carry one event twice (Kafka), events whose ticket version was already applied are dropped (a
relay republishing a tail after a crash); poison goes to
``dead_letters`` with its reason; the handler applies the rest; the new positions are recorded.
Only then is the source told (Kafka commits offsets). A crash at any point redoes at most the
uncommitted batch, and the checks above make redoing it harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from consumers.loop import PollingLoop
from consumers.sources import Delivery, Source
from domain.serialization import stream_of
from projections.collection import collection_paused
from projections.store import StateStore, Transaction

log = logging.getLogger("servicetrail.consumers")


class Handler(Protocol):
    """A consumer's effect: e.g. a projection writing its rows."""

    name: str

    def setup(self, tx: Transaction) -> None: ...

    def handle(self, tx: Transaction, events: list[dict[str, Any]]) -> None:
        """Applies events (public JSON documents), in order, within the consumer's transaction."""

    def reset(self, tx: Transaction) -> None: ...


class ConsumerRuntime(PollingLoop):
    def __init__(
        self,
        handler: Handler,
        source: Source,
        store: StateStore,
        *,
        batch_size: int = 1000,
        idle_sleep: float = 0.1,
        on_batch: Callable[[int], None] | None = None,
        catch_up_batch_size: int | None = None,
    ):
        self.handler = handler
        self.source = source
        self.store = store
        self.batch_size = batch_size
        # Behind the source (the last poll was full), batches of this size: fewer, larger
        # transactions write each hot page (indexes, current rows) fewer times. Caught up, the
        # batches are what arrived, so latency is unchanged.
        self.catch_up_batch_size = catch_up_batch_size
        self._behind = False
        self.idle_sleep = idle_sleep
        self.on_batch = on_batch
        super().__init__()
        with store.transaction() as tx:
            handler.setup(tx)
            self.positions = tx.positions(handler.name)

    @property
    def name(self) -> str:
        return self.handler.name

    def run_once(self) -> int:
        """Processes one batch; returns the number of deliveries consumed (0 when caught up)."""
        with collection_paused():  # a batch allocates thousands of short-lived rows (see the module)
            limit = max(self.batch_size, self.catch_up_batch_size or 0) if self._behind else self.batch_size
            deliveries = self.source.poll(self.positions, limit)
            self._behind = len(deliveries) >= limit
            if not deliveries:
                return 0
            return self._apply(deliveries)

    def _apply(self, deliveries: list[Delivery]) -> int:
        with self.store.transaction() as tx:
            streams = {d.stream for d in deliveries}
            tx.lock_streams(self.name, streams)
            stored = tx.positions(self.name)
            moved = {s for s in streams if stored.get(s, -1) != self.positions.get(s, -1)}
            if moved:  # our tracking changed under us (a swap after rebuild, a reset, a rebalance)
                self.positions = {**{s: p for s, p in self.positions.items() if s not in moved},
                                  **{s: stored[s] for s in moved if s in stored}}
                return 0
            fresh = [d for d in deliveries if d.position > stored.get(d.stream, -1)]
            if self.source.duplicates_possible:
                events = self._unapplied(tx, fresh)
            else:
                events = [d.event for d in fresh if d.event is not None]
            if events:
                self.handler.handle(tx, events)
            for poison in (d for d in fresh if d.error):
                log.warning("%s: dead-lettered %s@%s: %s", self.name, poison.stream, poison.position, poison.error)
                tx.dead_letter(self.name, poison.stream, poison.position, poison.error or "",
                               poison.payload.decode("utf-8", "replace"))
            advanced = dict(stored)
            for delivery in deliveries:
                advanced[delivery.stream] = max(advanced.get(delivery.stream, -1), delivery.position)
            tx.advance(self.name, advanced)
        self.positions = advanced
        self.source.committed(advanced)
        if self.on_batch:
            self.on_batch(len(deliveries))
        return len(deliveries)

    def _unapplied(self, tx: Transaction, deliveries: list[Delivery]) -> list[dict[str, Any]]:
        events = [d.event for d in deliveries if d.event is not None]
        if not events:
            return []
        applied = tx.applied_versions(self.name, sorted({stream_of(e) for e in events}))
        unapplied, latest = [], {}
        for event in events:
            ticket, version = stream_of(event), event["version"]
            if version <= latest.get(ticket, applied.get(ticket, 0)):
                continue  # already applied: a duplicate delivery
            latest[ticket] = version
            unapplied.append(event)
        tx.record_versions(self.name, latest)
        return unapplied

    def recover(self) -> None:
        with self.store.transaction() as tx:
            self.positions = tx.positions(self.name)

    def lag(self) -> int:
        """How far behind the source's head this consumer is (events or records)."""
        head = getattr(self.source, "head", None)
        if head is not None:
            return max(0, head() - self.positions.get("log", 0))
        lag = getattr(self.source, "lag", None)
        return lag(self.positions) if lag is not None else 0

    def close(self) -> None:
        self.source.close()

    def reset(self) -> None:
        """Drops the handler's state and this consumer's bookkeeping: the next run starts over."""
        with self.store.transaction() as tx:
            self.handler.reset(tx)
            tx.forget(self.name)
        self.positions = {}

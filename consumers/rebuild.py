"""Rebuild projections from position zero without disturbing their readers: build aside, swap in.

The rebuilt copy is a separate consumer (its own table and tracking) that folds the whole log.
When it has caught up, one transaction drops the old table, renames the copy into its place and
hands the copy's tracking to the projection's name. Queries answer from the old state until that
transaction commits; a running projector notices its tracking moved and continues from there.

``rebuild_all`` rebuilds several projections in **one pass** over the log: one consumer
(``Together``) reads and decodes each batch once and hands it to every copy in one transaction
(exactly-once as for any consumer: the copies' state and the pass's position commit together);
at the end, one transaction gives the pass's tracking to each copy and swaps them all in. A
projection per pass read and decoded the whole log once per projection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from consumers.runtime import ConsumerRuntime
from projections.store import Transaction

REBUILD_BATCH = 5000  # events per transaction of a rebuild (larger did not go faster, and costs memory)


class Together:
    """Several projections' copies as one consumer (a ``consumers.runtime.Handler``): each batch
    goes to every copy, in order, within the one transaction."""

    def __init__(self, handlers: Sequence[Any]):
        self.handlers = list(handlers)
        self.name = "+".join(h.name for h in self.handlers)

    def setup(self, tx: Transaction) -> None:
        for handler in self.handlers:
            handler.setup(tx)

    def handle(self, tx: Transaction, events: list[dict[str, Any]]) -> None:
        for handler in self.handlers:
            handler.handle(tx, events)

    def reset(self, tx: Transaction) -> None:
        for handler in self.handlers:
            handler.reset(tx)
            tx.forget(handler.name)


def rebuild(handler: Any, make_runtime: Callable[[Any], ConsumerRuntime],
            on_batch: Callable[[int], None] | None = None) -> int:
    """Rebuilds ``handler``'s projection; returns how many log positions were folded."""
    return rebuild_all([handler], make_runtime, on_batch)


def rebuild_all(handlers: Sequence[Any], make_runtime: Callable[[Any], ConsumerRuntime],
                on_batch: Callable[[int], None] | None = None) -> int:
    """Rebuilds every projection of ``handlers`` in one pass over the log, then swaps them all in
    (one transaction); returns how many log positions were folded."""
    asides = [handler.aside() for handler in handlers]
    together = Together(asides) if len(asides) > 1 else asides[0]
    runtime = make_runtime(together)
    runtime.batch_size = max(runtime.batch_size, REBUILD_BATCH)
    runtime.reset()
    runtime.on_batch = on_batch
    total = runtime.run_until_caught_up()
    with runtime.store.transaction() as tx:
        for handler, aside in zip(handlers, asides):
            if aside is not together:
                tx.copy_consumer(together.name, aside.name)
            handler.adopt(tx, aside)
        if together not in asides:
            tx.forget(together.name)
    return total

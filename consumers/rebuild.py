"""Rebuild a projection from position zero without disturbing its readers: build aside, swap in.

The rebuilt copy is a separate consumer (its own table and tracking) that folds the whole log.
When it has caught up, one transaction drops the old table, renames the copy into its place and
hands the copy's tracking to the projection's name. Queries answer from the old state until that
transaction commits; a running projector notices its tracking moved and continues from there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from consumers.runtime import ConsumerRuntime


def rebuild(handler: Any, make_runtime: Callable[[Any], ConsumerRuntime],
            on_batch: Callable[[int], None] | None = None) -> int:
    """Rebuilds ``handler``'s projection; returns how many log positions were folded."""
    aside = handler.aside()
    runtime = make_runtime(aside)
    runtime.batch_size = max(runtime.batch_size, 5000)
    runtime.reset()
    runtime.on_batch = on_batch
    total = runtime.run_until_caught_up()
    with runtime.store.transaction() as tx:
        handler.adopt(tx, aside)
    return total

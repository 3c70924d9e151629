"""Runs consumers in background threads of the server process (the embedded default)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

log = logging.getLogger("servicetrail.consumers")

STOP_SECONDS = 8.0   # within a container's usual 10 s grace period, whatever the brokers do
CLOSE_SECONDS = 3.0  # of which closing connections (LeaveGroup, producer flush) may take at most this


class BackgroundConsumers:
    def __init__(self, consumers: list[Any]):
        self.consumers = consumers
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for consumer in self.consumers:
            thread = threading.Thread(target=consumer.run_forever, name=f"consumer-{consumer.name}", daemon=True)
            thread.start()
            self.threads.append(thread)
            log.info("started %s in-process", consumer.name)

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Stops every consumer, then closes them all at once, within ``timeout`` seconds in total.

        A step that never returns in time (a poll stuck in a group join, a LeaveGroup the broker
        answers late) is abandoned: its daemon thread dies with the process. Nothing durable is lost
        by that: positions are saved with each batch's effects, never on close."""
        deadline = time.monotonic() + timeout
        for consumer in self.consumers:
            consumer.stop()
        for thread in self.threads:
            thread.join(max(0.0, deadline - CLOSE_SECONDS - time.monotonic()))
        closers = [threading.Thread(target=self._close, args=(consumer,), name=f"close-{consumer.name}", daemon=True)
                   for consumer in self.consumers]
        for closer in closers:
            closer.start()
        for closer in closers:
            closer.join(max(0.0, deadline - time.monotonic()))
        late = [closer.name for closer in closers if closer.is_alive()]
        if late:
            log.warning("gave up waiting for %s after %.0fs", ", ".join(late), timeout)

    @staticmethod
    def _close(consumer: Any) -> None:
        try:
            consumer.close()
        except Exception:  # closing is best effort at shutdown
            log.debug("closing %s failed", consumer.name, exc_info=True)

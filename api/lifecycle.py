"""Runs consumers in background threads of the server process (the embedded default)."""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger("servicetrail.consumers")


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

    def stop(self, timeout: float = 10) -> None:
        for consumer in self.consumers:
            consumer.stop()
        for thread in self.threads:
            thread.join(timeout)
        for consumer in self.consumers:
            for closable in (getattr(consumer, "source", None), getattr(consumer, "producer", None),
                             getattr(consumer, "consumer", None)):
                if closable is not None and hasattr(closable, "close"):
                    try:
                        closable.close()
                    except Exception:  # closing is best effort at shutdown
                        log.debug("closing %s failed", consumer.name, exc_info=True)

"""The run loop every consumer shares: step until stopped; when idle, wait; on failure, record the
reason (``/ready`` shows it), let the consumer recover its position, and retry a second later.
A failure never skips work: recovery goes back to the last durable position."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("servicetrail.consumers")


class PollingLoop:
    name = "consumer"
    idle_sleep = 0.1
    retry_after = 1.0
    # Caught up under a steady stream (a step smaller than ``batch_size``), wait this long before
    # the next step, so that what arrives meanwhile is handled as one batch: one transaction and
    # one commit for many events instead of one for each (0 = the next step at once).
    linger = 0.0
    batch_size = 1

    def __init__(self) -> None:
        self.last_error: str | None = None
        self._stop = threading.Event()

    def run_once(self) -> int:
        """One step; returns how much it did (0 when there was nothing to do)."""
        raise NotImplementedError

    def recover(self) -> None:
        """Returns to the last durable position after a failed step."""

    def run_until_caught_up(self) -> int:
        total = 0
        while (done := self.run_once()) > 0:
            total += done
        return total

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                done = self.run_once()
                if done == 0:
                    self._stop.wait(self.idle_sleep)
                elif done < self.batch_size and self.linger:
                    self._stop.wait(self.linger)
                self.last_error = None
            except Exception as failure:
                self.last_error = f"{type(failure).__name__}: {failure}"
                log.warning("%s: step failed (%s); recovering and retrying", self.name, self.last_error,
                            exc_info=log.isEnabledFor(logging.DEBUG))
                try:
                    self.recover()
                except Exception:
                    log.exception("%s: recovery failed", self.name)
                self._stop.wait(self.retry_after)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        """Releases the consumer's connections once it stopped (bounded in time)."""

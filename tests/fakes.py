"""Fakes for parts that cannot be real in a unit test: only the clock, so far."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone


class FakeClock:
    """A clock that moves only when told to (or by ``tick`` per reading, to keep instants distinct)."""

    def __init__(self, start: datetime | None = None, tick: timedelta = timedelta(milliseconds=1)):
        self._now = start or datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
        self._tick = tick
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            self._now += self._tick
            return self._now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta

"""The shared run loop of consumers: when it waits between steps (``consumers.loop.PollingLoop``)."""

from __future__ import annotations

import threading

from consumers.loop import PollingLoop


class RecordedWaits(threading.Event):
    """The loop's stop event, recording how long the loop asked to wait (without waiting)."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.asked.append(timeout)
        return super().wait(0)


class Scripted(PollingLoop):
    """A consumer whose steps consume the given numbers of deliveries, then stops."""

    batch_size = 10
    idle_sleep = 0.1

    def __init__(self, steps: list[int], linger: float):
        super().__init__()
        self.steps, self.linger = list(steps), linger
        self._stop = RecordedWaits()

    def run_once(self) -> int:
        if not self.steps:
            self.stop()
            return 0
        return self.steps.pop(0)


def test_a_caught_up_consumer_lingers_before_its_next_batch_and_a_full_one_goes_on_at_once():
    loop = Scripted([10, 10, 3, 0, 1], linger=0.05)
    loop.run_forever()
    # full batches: no wait; a partial one (caught up): the linger; nothing at all: the idle sleep
    assert loop._stop.asked == [0.05, 0.1, 0.05, 0.1]


def test_without_a_linger_a_consumer_polls_again_at_once_after_any_delivery():
    loop = Scripted([3, 1, 0], linger=0.0)
    loop.run_forever()
    assert loop._stop.asked == [0.1, 0.1]

"""The consumer loop's batches: behind its source it takes larger ones (fewer, larger
transactions while catching up); caught up, a batch is what arrived."""

from __future__ import annotations

from consumers.runtime import ConsumerRuntime
from consumers.sources import Delivery
from projections.store import StateStore


class ListSource:
    duplicates_possible = False

    def __init__(self, count: int):
        self.count, self.limits = count, []

    def poll(self, positions, limit):
        self.limits.append(limit)
        start = positions.get("log", 0)
        last = min(self.count, start + limit)
        return [Delivery("log", p, {"ticket_id": "t", "version": p}) for p in range(start + 1, last + 1)]

    def committed(self, positions):
        pass

    def close(self):
        pass


class Recording:
    name = "recording"

    def __init__(self):
        self.batches = []

    def setup(self, tx):
        pass

    def handle(self, tx, events):
        self.batches.append(len(events))

    def reset(self, tx):
        pass


def test_a_consumer_behind_its_source_takes_catch_up_batches_and_returns_to_its_batch_size_when_caught_up():
    source, handler = ListSource(23), Recording()
    runtime = ConsumerRuntime(handler, source, StateStore("sqlite:///:memory:"), batch_size=2, catch_up_batch_size=5)
    assert runtime.run_until_caught_up() == 23
    assert handler.batches == [2, 5, 5, 5, 5, 1]
    assert source.limits == [2, 5, 5, 5, 5, 5, 2]  # the last, caught up, asks for its batch size
    source.count = 30  # more arrives: the first batch is the batch size, then catch-up ones
    runtime.run_until_caught_up()
    assert handler.batches[6:] == [2, 5] and source.limits[7:] == [2, 5, 5]


def test_without_a_catch_up_size_every_batch_is_the_batch_size():
    source, handler = ListSource(7), Recording()
    runtime = ConsumerRuntime(handler, source, StateStore("sqlite:///:memory:"), batch_size=3)
    runtime.run_until_caught_up()
    assert handler.batches == [3, 3, 1]

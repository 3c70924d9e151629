"""What every benchmark shares: repeated timing with medians, and the result row format."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass


@dataclass
class Result:
    benchmark: str
    figure: float
    baseline: float
    unit: str
    target: str
    passed: bool | None
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.figure / self.baseline if self.baseline else float("nan")

    def as_dict(self) -> dict:
        return {**asdict(self), "ratio": round(self.ratio, 3)}


def median_rate(run: Callable[[], int], repeats: int) -> float:
    """Median of ``items / seconds`` over repeated runs (``run`` returns how many items it did)."""
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        items = run()
        rates.append(items / (time.perf_counter() - started))
    return statistics.median(rates)

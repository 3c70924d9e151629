"""Distributions of durations (FRT, TTR, handle time) that can be summed across roll-up cells.

A KPI's median or p90 over a month of 100,000 tickets cannot be answered in milliseconds from
the values themselves, so the read side keeps, per roll-up cell, a **DDSketch** (Masson, Rim & Lee,
VLDB 2019): a histogram over logarithmic bins of ratio ``gamma = (1 + a) / (1 - a)`` with
``a = 1 %``. Bins are plain counts, so sketches of days and slices add up (and a fact that stops
holding is subtracted), in SQL as well as here; any quantile read from the merged bins is within
1 % of the exact order statistic (relative error). The logarithmic mapping is the ``ddsketch``
library's (DataDog's reference implementation); the bins live in the read side's tables.

Counts and means stay exact: the sum is kept in integer microseconds, so the order in which
facts are added (incremental, rebuild, any chunking) never changes a stored figure.

``Distribution(exact=True)`` keeps the values instead: the slow definition the tests compare
against (``projections.measures.percentile``, linear interpolation between closest ranks).
The sketched estimate interpolates between the estimates of the same two ranks.
"""

from __future__ import annotations

import math
from collections import Counter

from ddsketch.mapping import LogarithmicMapping

RELATIVE_ACCURACY = 0.01
MAPPING = LogarithmicMapping(RELATIVE_ACCURACY)
SMALLEST = 1e-6   # values closer to zero than a microsecond fall in the zero bin
OFFSET = 1_000    # MAPPING.key(SMALLEST) is about -691: offset keys stay positive


# ``MAPPING.key(v)`` is ``int(ceil(log2(v) * multiplier) + offset)``; the same operations inline
# (the same floating-point results) spare a query that bins thousands of values two calls each.
_MULTIPLIER, _KEY_OFFSET = MAPPING._multiplier, MAPPING._offset
_log, _ceil = math.log, math.ceil


def bin_of(value: float) -> int:
    """The bin of a value: 0 for (about) zero, positive bins above it, negative bins below it,
    ordered as the values are."""
    if value > 0:
        return int(_ceil(_log(value, 2) * _MULTIPLIER) + _KEY_OFFSET) + OFFSET if value >= SMALLEST else 0
    if value > -SMALLEST:
        return 0
    return -(int(_ceil(_log(-value, 2) * _MULTIPLIER) + _KEY_OFFSET) + OFFSET)


def value_of(bin_: int) -> float:
    """The value a bin stands for (within 1 % of every value in it)."""
    if bin_ == 0:
        return 0.0
    value = MAPPING.value(abs(bin_) - OFFSET)
    return value if bin_ > 0 else -value


def micros(value: float) -> int:
    return round(value * 1_000_000)


# The same two functions inside a query, so that a range of fact rows is summed and binned by the
# database instead of row by row here. SQLite calls these Python functions (registered on every
# connection: ``projections.store``); PostgreSQL computes them with the same floating-point
# operations (``ln`` and ``round`` of double precision: the C library's ``log``, ties to even).
SQL_FUNCTIONS = {"st_micros": micros, "st_bin": bin_of}


def sql_micros(expression: str, dialect: str) -> str:
    if dialect == "sqlite":  # a NULL never reaches Python
        return f"CASE WHEN {expression} IS NULL THEN NULL ELSE st_micros({expression}) END"
    return f"CAST(round({expression} * 1000000) AS BIGINT)"


def sql_bin(expression: str, dialect: str) -> str:
    if dialect == "sqlite":
        return f"CASE WHEN {expression} IS NULL THEN NULL ELSE st_bin({expression}) END"
    def key(x: str) -> str:
        return (f"(CAST(ceil(ln({x}) / ln(CAST(2 AS DOUBLE PRECISION)) * {_MULTIPLIER!r} + {_KEY_OFFSET!r})"
                f" AS BIGINT) + {OFFSET})")
    return (f"CASE WHEN {expression} >= {SMALLEST!r} THEN {key(expression)} WHEN {expression} > {-SMALLEST!r} "
            f"THEN 0 ELSE -{key('-' + expression)} END")


class Distribution:
    """Count, exact mean, and median / p90 of a set of durations in seconds."""

    __slots__ = ("count", "total_us", "bins", "values")

    def __init__(self, exact: bool = False) -> None:
        self.count = 0
        self.total_us = 0
        self.bins: Counter[int] = Counter()
        self.values: list[float] | None = [] if exact else None

    def add(self, value: float, sign: int = 1) -> None:
        self.count += sign
        self.total_us += sign * micros(value)
        if self.values is not None:
            if sign > 0:
                self.values.append(value)
            else:
                self.values.remove(value)
        else:
            bins, key = self.bins, bin_of(value)
            bins[key] = bins.get(key, 0) + sign

    def add_totals(self, count: int, total_us: int) -> None:
        """Adds what a roll-up cell counted (its bins come separately, ``add_bins``)."""
        self.count += count
        self.total_us += total_us

    def add_bins(self, bins: dict[int, int]) -> None:
        if self.bins:
            self.bins.update(bins)  # Counter.update adds counts
        else:
            self.bins = Counter(bins)

    def mean(self) -> float | None:
        if self.values is not None:
            return math.fsum(self.values) / len(self.values) if self.values else None
        return self.total_us / self.count / 1_000_000 if self.count > 0 else None

    def summary(self) -> dict[str, float | int | None]:
        if self.count <= 0:
            return {"count": 0, "mean": None, "median": None, "p90": None}
        median, p90 = self.quantiles((50, 90))
        return {"count": self.count, "mean": self.mean(), "median": median, "p90": p90}

    def quantile(self, q: float) -> float | None:
        """Percentile ``q`` (0–100), interpolated between the two closest ranks."""
        return self.quantiles((q,))[0] if self.count > 0 else None

    def quantiles(self, qs: tuple[float, ...]) -> list[float]:
        if self.values is not None:
            from projections.measures import percentile
            return [percentile(self.values, q) for q in qs]
        ranks = [(self.count - 1) * q / 100 for q in qs]
        wanted = sorted({r for rank in ranks for r in (math.floor(rank), math.ceil(rank))})
        at = dict(zip(wanted, self._at_ranks(wanted)))
        return [at[math.floor(rank)] + (at[math.ceil(rank)] - at[math.floor(rank)]) * (rank - math.floor(rank))
                for rank in ranks]

    def _at_ranks(self, wanted: list[int]) -> list[float]:
        """The values at these ranks (ascending), read off the bins in value order."""
        found: list[float] = []
        ordered = sorted((b, n) for b, n in self.bins.items() if n)
        seen, index = 0, 0
        for rank in wanted:
            while index < len(ordered) - 1 and seen + ordered[index][1] <= rank:
                seen += ordered[index][1]
                index += 1
            found.append(value_of(ordered[index][0]))
        return found

"""What a fact adds to the totals of its roll-up cell: its count, its flag bits, its durations (a
count and a sum in integer microseconds, so that any order of adding gives the same sum) and its
survey answers (CSAT: answered, 4 or 5, sum; NPS: answered, promoters, detractors)."""

from __future__ import annotations

from typing import Any

from projections.distribution import micros

TOTALS = ("n", "b0", "b1", "b2", "b3", "s_n", "s_us", "bs_n", "bs_us", "h_n", "h_us",
          "c_n", "c_good", "c_sum", "p_n", "p_pro", "p_det")


def totals_of(fact: Any) -> list[int]:
    """The totals of one fact (a ``ticket_state.fact_rows.Fact``), in the order of ``TOTALS``."""
    flags = fact.flags
    found = [1, flags & 1, (flags >> 1) & 1, (flags >> 2) & 1, (flags >> 3) & 1] + [0] * 12
    if fact.seconds is not None:
        found[5], found[6] = 1, micros(fact.seconds)
    if fact.business_seconds is not None:
        found[7], found[8] = 1, micros(fact.business_seconds)
    if fact.handle_seconds is not None:
        found[9], found[10] = 1, micros(fact.handle_seconds)
    if fact.csat is not None:
        found[11], found[12], found[13] = 1, int(fact.csat >= 4), fact.csat
    if fact.nps is not None:
        found[14], found[15], found[16] = 1, int(fact.nps >= 9), int(fact.nps <= 6)
    return found

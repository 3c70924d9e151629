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
    found[11:17] = survey_totals(fact.csat, fact.nps)
    return found


def survey_totals(csat_score: int | None, nps_score: int | None, sign: int = 1) -> tuple[int, ...]:
    """One survey answer as CSAT and NPS tallies: (answered, 4 or 5, score; answered, promoter,
    detractor), the definitions of ``measures.csat`` and ``measures.nps``."""
    csat = (0, 0, 0) if csat_score is None else (sign, sign * int(csat_score >= 4), sign * csat_score)
    nps = (0, 0, 0) if nps_score is None else (sign, sign * int(nps_score >= 9), sign * int(nps_score <= 6))
    return (*csat, *nps)

"""What a fact adds to the totals of its roll-up cell: its count, its flag bits, its durations (a
count and a sum in integer microseconds, so that any order of adding gives the same sum) and its
survey answers (CSAT: answered, 4 or 5, sum; NPS: answered, promoters, detractors)."""

from __future__ import annotations

from typing import Any

from projections.distribution import micros, sql_micros

CSAT_GOOD = 4        # a CSAT answer of 4 or 5 is satisfied
NPS_PROMOTER = 9     # an NPS answer of 9 or 10 promotes
NPS_DETRACTOR = 6    # one of 0 to 6 detracts

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
    csat = (0, 0, 0) if csat_score is None else (sign, sign * int(csat_score >= CSAT_GOOD), sign * csat_score)
    nps = (0, 0, 0) if nps_score is None else (sign, sign * int(nps_score >= NPS_PROMOTER),
                                               sign * int(nps_score <= NPS_DETRACTOR))
    return (*csat, *nps)


def sql_totals(dialect: str, counted: str = "1") -> str:
    """``totals_of`` summed by the database over fact rows: the select list, in the order of
    ``TOTALS``. ``counted`` is an SQL condition (1 or 0) saying whether a row counts in ``n``
    (a running deadline counts only once due)."""
    def total(expression: str) -> str:  # PostgreSQL sums integers to NUMERIC
        return f"CAST(COALESCE(sum({expression}), 0) AS BIGINT)"

    def when(condition: str) -> str:
        return total(f"CASE WHEN {condition} THEN 1 ELSE 0 END")

    parts = [total(counted), *(total(f"(flags >> {bit}) & 1") for bit in range(4))]
    for column in ("seconds", "business_seconds", "handle_seconds"):
        parts += [f"count({column})", total(sql_micros(column, dialect))]
    parts += ["count(csat)", when(f"csat >= {CSAT_GOOD}"), total("csat"),
              "count(nps)", when(f"nps >= {NPS_PROMOTER}"), when(f"nps <= {NPS_DETRACTOR}")]
    return ", ".join(parts)

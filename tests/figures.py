"""Comparing the read side's figures with the definition's.

Counts, rates and means must be equal (means up to the microsecond the sums are kept in);
medians and p90s come from DDSketch bins and must lie within its 1 % relative error of the exact
value (``projections.distribution``); an agent's score follows its median TTR, so it may differ
by the fraction of a point that 1 % of the median moves it."""

from __future__ import annotations

from typing import Any

import pytest

SKETCHED = {"median", "p90"}


def assert_same_figures(answered: Any, expected: Any, path: str = "") -> None:
    if isinstance(expected, dict):
        assert isinstance(answered, dict) and set(answered) == set(expected), (path, answered, expected)
        for key in expected:
            assert_same_figures(answered[key], expected[key], f"{path}.{key}")
        return
    if isinstance(expected, list):
        assert isinstance(answered, list) and len(answered) == len(expected), (path, answered, expected)
        for index, (a, e) in enumerate(zip(answered, expected)):
            assert_same_figures(a, e, f"{path}[{index}]")
        return
    if isinstance(expected, float) and answered is not None:
        name = path.rsplit(".", 1)[-1]
        if name in SKETCHED:
            assert answered == pytest.approx(expected, rel=0.0101, abs=1e-6), path
        elif name == "score":
            assert answered == pytest.approx(expected, abs=0.5), path
        elif name == "speed":
            assert answered == pytest.approx(expected, rel=0.0101), path
        else:
            assert answered == pytest.approx(expected, rel=1e-9, abs=1e-5), path
        return
    assert answered == expected, (path, answered, expected)


def assert_same_board(answered: list[dict], expected: list[dict]) -> None:
    """The same agents with the same figures, and ranked by the scores the answer gives."""
    assert_same_figures({a["agent_id"]: a for a in answered}, {e["agent_id"]: e for e in expected})
    keys = [(a["score"] is None, -(a["score"] or 0), a["agent_id"]) for a in answered]
    assert keys == sorted(keys)

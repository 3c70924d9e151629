"""The read side's duration distributions: DDSketch bins that add up across cells."""

import math

from hypothesis import given
from hypothesis import strategies as st

from projections.distribution import MAPPING, OFFSET, SMALLEST, Distribution, bin_of, value_of
from projections.measures import percentile

durations = st.floats(min_value=0, max_value=10**8, allow_nan=False)


@given(st.floats(min_value=-10**9, max_value=10**9, allow_nan=False))
def test_a_bin_is_the_ddsketch_librarys_key_of_the_value(value):
    """bin_of inlines ``LogarithmicMapping.key``; it must give the library's bin, sign and all."""
    expected = 0 if abs(value) < SMALLEST else (MAPPING.key(abs(value)) + OFFSET) * (1 if value > 0 else -1)
    assert bin_of(value) == expected


@given(st.floats(min_value=SMALLEST, max_value=10**9, allow_nan=False))
def test_a_bin_stands_for_its_values_within_one_percent(value):
    assert math.isclose(value_of(bin_of(value)), value, rel_tol=0.01)


@given(st.lists(durations, min_size=1, max_size=200), st.randoms())
def test_sketched_quantiles_are_within_one_percent_and_sums_do_not_depend_on_order(values, rng):
    sketched, exact = Distribution(), Distribution(exact=True)
    for value in values:
        exact.add(value)
    shuffled = list(values)
    rng.shuffle(shuffled)
    for value in shuffled:
        sketched.add(value)
    for q in (50, 90):
        expected = percentile(values, q)
        assert math.isclose(sketched.quantile(q), expected, rel_tol=0.0101, abs_tol=SMALLEST)
    assert sketched.count == exact.count
    assert sketched.total_us == sum(round(value * 1_000_000) for value in values)


def test_subtracting_a_value_takes_it_out_of_its_bin():
    found = Distribution()
    for value in (1.0, 5.0, 5.0, 60.0):
        found.add(value)
    found.add(5.0, -1)
    assert found.count == 3 and found.bins[bin_of(5.0)] == 1 and found.total_us == 66_000_000


@given(st.lists(st.tuples(st.sampled_from(["ana", "bo", ("x", "s")]),
                          st.dictionaries(st.integers(-2000, 2000), st.integers(-5, 10**6), max_size=40)),
                max_size=12))
def test_stored_sketches_merge_bin_by_bin_per_key(sketches):
    from projections.ticket_state.rollups import encode_bins, merge_sketches

    expected: dict = {}
    for key, bins in sketches:
        found = expected.setdefault(key, {})
        for bin_, count in bins.items():
            if count:
                found[bin_] = found.get(bin_, 0) + count
    merged = merge_sketches((key, encode_bins(bins)) for key, bins in sketches)
    assert set(merged) == set(expected)
    for key, bins in merged.items():
        assert {b: c for b, c in bins.items() if c} == {b: c for b, c in expected[key].items() if c}

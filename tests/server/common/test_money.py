"""allocate: the largest-remainder split every discount and commission uses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domains.common.money import allocate

weights = st.lists(st.integers(0, 10**9), min_size=1, max_size=30).filter(lambda w: sum(w) > 0)


@given(total=st.integers(0, 10**12), weights=weights)
def test_parts_sum_to_the_total_and_stay_within_one_unit_of_the_exact_share(total, weights):
    parts = allocate(total, weights)
    assert sum(parts) == total
    for part, weight in zip(parts, weights, strict=True):
        exact = total * weight / sum(weights)
        assert abs(part - exact) < 1 + 1e-9 * total
        assert part >= 0
        if weight == 0:
            assert part == 0


@given(total=st.integers(0, 10**9), weights=weights)
def test_equal_weights_get_shares_within_one_unit(total, weights):
    """Equal weights differ by at most a unit, wherever they stand."""
    parts = allocate(total, weights)
    for i, w in enumerate(weights):
        for j, v in enumerate(weights):
            if w == v:
                assert abs(parts[i] - parts[j]) <= 1


def test_examples():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(10, [70, 30]) == [7, 3]
    assert allocate(1, [30, 70]) == [0, 1]  # the larger remainder wins
    assert allocate(0, [0, 0]) == [0, 0]


@pytest.mark.parametrize(("total", "weights"), [(-1, [1]), (1, [0, 0]), (1, [-1, 2])])
def test_refuses_what_cannot_be_split(total, weights):
    with pytest.raises(ValueError):
        allocate(total, weights)

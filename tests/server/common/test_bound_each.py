"""Short lists bound one value each (common.dialect.among_bound): a statement per power of two, the last value
repeated, so the few statements serve every count and IN matches the same rows."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from server.domains.common.dialect import bound_each, bound_size


@given(st.lists(st.integers(), max_size=70))
def test_every_count_fills_a_power_of_two_with_the_same_values(values):
    bound = bound_each("ids", values)
    size = bound_size(len(values))
    assert sorted(bound) == sorted(f"ids_{n}" for n in range(size))
    assert set(bound.values()) == set(values)
    assert size == 0 if not values else (size >= len(values) and size & (size - 1) == 0 and size < 2 * len(values))

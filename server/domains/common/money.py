"""Splitting an amount of money into parts that sum to it exactly."""

from __future__ import annotations

from collections.abc import Sequence


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` minor units split in proportion to ``weights`` by the largest-remainder method.

    Each part gets the floor of its exact share; the units left over go one each to the parts
    with the largest remainders, ties to the larger weight, then to the earlier part. The parts
    sum to ``total`` exactly, and a part whose weight is 0 gets 0. Weights are whole numbers,
    0 or more, not all 0 (unless ``total`` is 0); ``total`` is 0 or more.
    """
    if total < 0 or any(w < 0 for w in weights):
        raise ValueError("allocate takes a total and weights of 0 or more")
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total:
            raise ValueError("cannot allocate a non-zero total over weights that are all 0")
        return [0] * len(weights)
    parts = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    left = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], -weights[i], i))
    for index in order[:left]:
        parts[index] += 1
    return parts

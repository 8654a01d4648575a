"""Alipay's yuan strings and our fen, converted exactly both ways."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domains.payments.providers.alipay import fen_to_yuan, yuan_to_fen


@given(st.integers(min_value=0, max_value=10**12))
def test_fen_to_yuan_and_back_is_the_identity(fen):
    yuan = fen_to_yuan(fen)
    assert yuan_to_fen(yuan) == fen
    assert yuan.count(".") == 1 and len(yuan.split(".")[1]) == 2


@pytest.mark.parametrize(
    ("fen", "yuan"), [(0, "0.00"), (1, "0.01"), (10, "0.10"), (1234, "12.34"), (10**12, "10000000000.00")]
)
def test_fen_to_yuan(fen, yuan):
    assert fen_to_yuan(fen) == yuan


@pytest.mark.parametrize(("yuan", "fen"), [("7", 700), ("7.5", 750), ("0.07", 7), ("007.00", 700)])
def test_yuan_to_fen_reads_what_alipay_writes(yuan, fen):
    assert yuan_to_fen(yuan) == fen


@pytest.mark.parametrize(
    "yuan",
    ["", "1.234", "-1.00", "+1", "1e3", " 1.00", "1.00 ", "1,00", ".5", "5.", "NaN", "Infinity", "１２.００", "1" * 16],
)
def test_yuan_to_fen_refuses_anything_else(yuan):
    with pytest.raises(ValueError):
        yuan_to_fen(yuan)


@pytest.mark.parametrize("fen", [-1, 1.5, True])
def test_fen_to_yuan_refuses_what_is_not_fen(fen):
    with pytest.raises(ValueError):
        fen_to_yuan(fen)

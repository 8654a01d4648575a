"""Phone numbers normalise exactly as libphonenumber says, fast path or not."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.domains.identity.identifiers import IdentifierType, InvalidIdentifier, normalize


def libphonenumber_e164(value: str) -> str | None:
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def ours(value: str) -> str | None:
    try:
        return normalize.__wrapped__(IdentifierType.PHONE, value).value
    except InvalidIdentifier:
        return None


@settings(max_examples=3000, deadline=None)
@given(digits=st.text(alphabet="0123456789", min_size=10, max_size=10), plus=st.booleans())
def test_eleven_digit_numbers_agree_with_libphonenumber(digits, plus):
    value = ("+86" if plus else "") + "1" + digits
    assert ours(value) == libphonenumber_e164(value)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("13812345678", "+8613812345678"),
        ("+8613812345678", "+8613812345678"),
        ("138 1234 5678", "+8613812345678"),
        ("010 6552 9988", "+861065529988"),
        ("12345678901", None),
        ("+85291234567", "+85291234567"),
    ],
)
def test_examples(value, expected):
    assert ours(value) == expected

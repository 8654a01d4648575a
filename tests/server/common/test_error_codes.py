"""Error codes are enum members: a misspelt code fails where it is written, not when the error happens."""

from __future__ import annotations

from enum import StrEnum

import pytest

from server.domains.common.errors import CommonErrorCode, DomainError, ErrorCode, Problem
from server.domains.common.validation import Validator
from server.domains.stores.errors import StoreErrorCode


def test_a_problem_refuses_a_string_code():
    with pytest.raises(TypeError, match="enum members"):
        Problem("NOT_FOUND", "store not found")  # type: ignore[arg-type]


def test_a_validator_refuses_a_string_code():
    with pytest.raises(TypeError):
        Validator().add("INVALID_TIMEZONE", "bad zone", ("input", "timezone"))  # type: ignore[arg-type]


def test_a_member_of_another_enum_is_no_error_code():
    class Colour(StrEnum):
        NOT_FOUND = "NOT_FOUND"

    with pytest.raises(TypeError, match="enum members"):
        Problem(Colour.NOT_FOUND, "store not found")  # type: ignore[arg-type]
    assert isinstance(StoreErrorCode.DUPLICATE_CODE, ErrorCode) and isinstance(CommonErrorCode.NOT_FOUND, ErrorCode)


def test_a_misspelt_code_is_an_attribute_error():
    with pytest.raises(AttributeError):
        StoreErrorCode.INVALID_TIMEZON  # type: ignore[attr-defined]  # noqa: B018


def test_domain_and_shared_codes_travel_as_members():
    error = DomainError.single(StoreErrorCode.DUPLICATE_CODE, "code taken", ("input", "code"))
    check = Validator()
    check.text(("input", "name"), None, max_length=10)
    assert [p.code for p in error.problems] == [StoreErrorCode.DUPLICATE_CODE]
    assert [p.code for p in check.problems] == [CommonErrorCode.REQUIRED]

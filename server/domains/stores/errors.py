"""Codes of the stores domain's user errors (beside common.errors.CommonErrorCode)."""

from enum import StrEnum


class StoreErrorCode(StrEnum):
    DUPLICATE_CODE = "DUPLICATE_CODE"
    INVALID_TIMEZONE = "INVALID_TIMEZONE"
    INVALID_OPENING_HOURS = "INVALID_OPENING_HOURS"

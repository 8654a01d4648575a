"""Codes of the stores domain's user errors (beside common.errors.CommonErrorCode)."""

from ..common.errors import ErrorCode


class StoreErrorCode(ErrorCode):
    DUPLICATE_CODE = "DUPLICATE_CODE"
    INVALID_TIMEZONE = "INVALID_TIMEZONE"
    INVALID_OPENING_HOURS = "INVALID_OPENING_HOURS"

"""Codes of the staff domain's user errors (beside common.errors.CommonErrorCode)."""

from ..common.errors import ErrorCode


class StaffErrorCode(ErrorCode):
    DUPLICATE_USERNAME = "DUPLICATE_USERNAME"
    DUPLICATE_NAME = "DUPLICATE_NAME"
    PASSWORD_TOO_SHORT = "PASSWORD_TOO_SHORT"
    STORE_REQUIRED = "STORE_REQUIRED"
    STORE_NOT_ALLOWED = "STORE_NOT_ALLOWED"
    INVALID_MEMBER = "INVALID_MEMBER"

"""Codes of the auth domain's user errors (beside common.errors.CommonErrorCode)."""

from ..common.errors import ErrorCode


class AuthErrorCode(ErrorCode):
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    LOGIN_LOCKED = "LOGIN_LOCKED"
    INVALID_REFRESH_TOKEN = "INVALID_REFRESH_TOKEN"

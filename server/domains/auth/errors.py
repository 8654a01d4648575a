from ..common.errors import error_codes

AuthErrorCode = error_codes(
    "AuthErrorCode",
    "INVALID_CREDENTIALS",
    "LOGIN_LOCKED",
    "INVALID_REFRESH_TOKEN",
)

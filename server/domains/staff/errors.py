from ..common.errors import error_codes

StaffErrorCode = error_codes(
    "StaffErrorCode",
    "DUPLICATE_USERNAME",
    "DUPLICATE_NAME",
    "PASSWORD_TOO_SHORT",
    "STORE_REQUIRED",
    "STORE_NOT_ALLOWED",
    "INVALID_MEMBER",
)

from ..common.errors import error_codes

StoreErrorCode = error_codes(
    "StoreErrorCode",
    "DUPLICATE_CODE",
    "INVALID_TIMEZONE",
    "INVALID_OPENING_HOURS",
)

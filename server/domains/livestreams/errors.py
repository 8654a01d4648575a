from ..common.errors import error_codes

LivestreamErrorCode = error_codes(
    "LivestreamErrorCode",
    "UNKNOWN_TEAM",
    "UNKNOWN_PRODUCT",
    "INVALID_SCHEDULE",
    "INVALID_STATUS_TRANSITION",
)

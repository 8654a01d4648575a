from ..common.errors import error_codes

LivestreamErrorCode = error_codes(
    "LivestreamErrorCode",
    "INVALID_SCHEDULE",
    "INVALID_STATUS_TRANSITION",
)

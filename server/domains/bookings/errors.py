from ..common.errors import error_codes

BookingErrorCode = error_codes(
    "BookingErrorCode",
    "SLOT_FULL",
    "SLOT_IN_PAST",
    "SLOT_TOO_SOON",
    "SLOT_NOT_ALIGNED",
    "STORE_CLOSED",
    "SERVICE_NOT_OFFERED",
    "TOO_MANY_ACTIVE_BOOKINGS",
    "INVALID_STATE",
    "INVALID_QR_TOKEN",
    "ALREADY_CHECKED_IN",
    "RATE_LIMITED",
    "OVERLAPPING_BOOKING",
    "CHECK_IN_TOO_EARLY",
    "CHECK_IN_TOO_LATE",
)

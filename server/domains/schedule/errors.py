from ..common.errors import error_codes

ScheduleErrorCode = error_codes(
    "ScheduleErrorCode",
    "INVALID_SHIFT",
    "NOT_A_GUIDE",
)

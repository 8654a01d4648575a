from ..common.errors import error_codes

TaskErrorCode = error_codes(
    "TaskErrorCode",
    "INVALID_STATE",
    "REQUIRED_STEPS_OPEN",
    "NOT_ASSIGNED_TO_YOU",
    "NOT_A_CANDIDATE",
    "NOT_CHECKED_IN",
)

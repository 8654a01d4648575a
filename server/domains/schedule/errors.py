"""Codes of the schedule domain's user errors (beside common.errors.CommonErrorCode)."""

from ..common.errors import ErrorCode


class ScheduleErrorCode(ErrorCode):
    INVALID_SHIFT = "INVALID_SHIFT"
    NOT_A_GUIDE = "NOT_A_GUIDE"

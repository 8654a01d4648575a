"""Codes of the schedule domain's user errors (beside common.errors.CommonErrorCode)."""

from enum import StrEnum


class ScheduleErrorCode(StrEnum):
    INVALID_SHIFT = "INVALID_SHIFT"
    NOT_A_GUIDE = "NOT_A_GUIDE"

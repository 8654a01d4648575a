"""Codes of the tasks domain's user errors (beside common.errors.CommonErrorCode)."""

from ..common.errors import ErrorCode


class TaskErrorCode(ErrorCode):
    INVALID_STATE = "INVALID_STATE"
    REQUIRED_STEPS_OPEN = "REQUIRED_STEPS_OPEN"
    NOT_ASSIGNED_TO_YOU = "NOT_ASSIGNED_TO_YOU"
    NOT_A_CANDIDATE = "NOT_A_CANDIDATE"
    NOT_CHECKED_IN = "NOT_CHECKED_IN"

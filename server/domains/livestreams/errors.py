"""Codes of the livestreams domain's user errors (beside common.errors.CommonErrorCode)."""

from ..common.errors import ErrorCode


class LivestreamErrorCode(ErrorCode):
    INVALID_SCHEDULE = "INVALID_SCHEDULE"
    INVALID_STATUS_TRANSITION = "INVALID_STATUS_TRANSITION"

"""Codes of the livestreams domain's user errors (beside common.errors.CommonErrorCode)."""

from enum import StrEnum


class LivestreamErrorCode(StrEnum):
    INVALID_SCHEDULE = "INVALID_SCHEDULE"
    INVALID_STATUS_TRANSITION = "INVALID_STATUS_TRANSITION"

"""Codes of the ledger domain's user errors (beside common.errors.CommonErrorCode)."""

from ..common.errors import ErrorCode


class LedgerErrorCode(ErrorCode):
    # Commission plans
    SHARES_NOT_100 = "SHARES_NOT_100"
    DUPLICATE_PARTICIPANT = "DUPLICATE_PARTICIPANT"
    RATE_OUT_OF_RANGE = "RATE_OUT_OF_RANGE"
    PLAN_OVERLAP = "PLAN_OVERLAP"
    INVALID_PERIOD = "INVALID_PERIOD"
    SCOPE_ID_REQUIRED = "SCOPE_ID_REQUIRED"
    SCOPE_ID_NOT_ALLOWED = "SCOPE_ID_NOT_ALLOWED"
    PLAN_STARTED = "PLAN_STARTED"
    # Periods and postings
    PERIOD_CLOSED = "PERIOD_CLOSED"
    PERIOD_NOT_OVER = "PERIOD_NOT_OVER"
    ORDER_NOT_CREDITED = "ORDER_NOT_CREDITED"
    INVALID_CURRENCY = "INVALID_CURRENCY"

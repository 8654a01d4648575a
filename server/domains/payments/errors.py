"""Codes of the payments domain's user errors (beside common.errors.CommonErrorCode)."""

from ..common.errors import ErrorCode


class PaymentErrorCode(ErrorCode):
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    TERMINAL_REFERENCE_REQUIRED = "TERMINAL_REFERENCE_REQUIRED"
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    REFUND_EXCEEDS_PAID = "REFUND_EXCEEDS_PAID"
    NOT_REFUNDABLE = "NOT_REFUNDABLE"

"""Codes of the inventory domain's user errors (beside common.errors.CommonErrorCode)."""

from ..common.errors import ErrorCode


class InventoryErrorCode(ErrorCode):
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    SAME_LOCATION = "SAME_LOCATION"
    DUPLICATE_CODE = "DUPLICATE_CODE"
    INACTIVE_LOCATION = "INACTIVE_LOCATION"

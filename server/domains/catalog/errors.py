"""Codes of the catalog domain's user errors (beside common.errors.CommonErrorCode)."""

from ..common.errors import ErrorCode


class CatalogErrorCode(ErrorCode):
    DUPLICATE_CODE = "DUPLICATE_CODE"
    DUPLICATE_SKU = "DUPLICATE_SKU"
    INVALID_CURRENCY = "INVALID_CURRENCY"
    INVALID_BARCODE = "INVALID_BARCODE"

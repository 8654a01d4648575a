"""Codes of the catalog domain's user errors (beside common.errors.CommonErrorCode)."""

from enum import StrEnum


class CatalogErrorCode(StrEnum):
    DUPLICATE_CODE = "DUPLICATE_CODE"
    DUPLICATE_SKU = "DUPLICATE_SKU"
    INVALID_CURRENCY = "INVALID_CURRENCY"

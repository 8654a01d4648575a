from ..common.errors import error_codes

CatalogErrorCode = error_codes("CatalogErrorCode", "DUPLICATE_CODE", "DUPLICATE_SKU", "INVALID_CURRENCY")

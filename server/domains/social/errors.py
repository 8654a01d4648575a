"""Codes of the social domain's user errors (beside common.errors.CommonErrorCode)."""

from ..common.errors import ErrorCode


class SocialErrorCode(ErrorCode):
    INVALID_URL = "INVALID_URL"
    WRONG_BOOKING = "WRONG_BOOKING"
    NOT_MODERATED = "NOT_MODERATED"
    ALREADY_MODERATED = "ALREADY_MODERATED"
    REFERRAL_OWN_CODE = "REFERRAL_OWN_CODE"
    REFERRAL_CODE_UNKNOWN = "REFERRAL_CODE_UNKNOWN"
    ALREADY_REFERRED = "ALREADY_REFERRED"
    NOT_A_NEW_CUSTOMER = "NOT_A_NEW_CUSTOMER"

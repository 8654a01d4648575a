"""Chinese shipping addresses: province, city, district, detail, recipient and a mobile number."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import phonenumbers

from ..common.validation import Path, Validator
from .errors import OrderErrorCode as Code


@dataclass(frozen=True)
class ShippingAddress:
    province: str
    city: str
    district: str
    detail: str
    recipient: str
    mobile: str


def mobile_e164(raw: str) -> str | None:
    """A mainland mobile number (11 digits, or +86…) in E.164, or None when it is not one."""
    try:
        number = phonenumbers.parse(raw.strip(), "CN")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def checked_address(check: Validator, path: Path, address: ShippingAddress) -> dict[str, str | None]:
    """The address as stored (trimmed, the mobile in E.164); problems go to ``check``."""
    stored: dict[str, str | None] = {
        "province": check.text((*path, "province"), address.province, max_length=20),
        "city": check.text((*path, "city"), address.city, max_length=30),
        "district": check.text((*path, "district"), address.district, max_length=30),
        "detail": check.text((*path, "detail"), address.detail, max_length=120),
        "recipient": check.text((*path, "recipient"), address.recipient, max_length=30),
    }
    mobile = mobile_e164(address.mobile) if len(address.mobile) <= 20 else None
    if mobile is None:
        check.add(Code.INVALID_PHONE, "mobile must be a mainland China mobile number", (*path, "mobile"))
    stored["mobile"] = mobile
    return stored


def address_of(stored: dict[str, Any]) -> ShippingAddress:
    return ShippingAddress(**{name: stored[name] for name in asdict(ShippingAddress("", "", "", "", "", ""))})

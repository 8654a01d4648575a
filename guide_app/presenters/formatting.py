"""Dates, statuses and event types as the guide reads them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..api.tokens import parse_instant
from ..i18n import N_, _

TASK_STATUS = {
    "OPEN": N_("New"),
    "ACKNOWLEDGED": N_("Acknowledged"),
    "IN_PROGRESS": N_("In reception"),
    "DONE": N_("Done"),
    "CANCELLED": N_("Cancelled"),
}
EVENT_TYPE = {
    "LIVESTREAM_JOIN": N_("Watched a livestream"),
    "LIVESTREAM_PRODUCT_CLICK": N_("Clicked a product in a livestream"),
    "LIVESTREAM_BOOK_CLICK": N_("Booked a visit from a livestream"),
    "PRODUCT_VIEW": N_("Viewed a product"),
    "CART_ADD": N_("Added to cart"),
    "COMMUNITY_JOIN": N_("Joined a community"),
    "POS_PURCHASE": N_("Bought in store"),
    "STORE_VISIT": N_("Visited a store"),
    "COUPON_CLAIM": N_("Claimed a coupon"),
    "UGC_POST": N_("Shared a post"),
    "PROFILE_UPDATE": N_("Profile updated"),
    "CONSENT_UPDATE": N_("Consent updated"),
    "CUSTOMER_LOGIN": N_("Signed in"),
}


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "Asia/Shanghai")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def local(instant: str | datetime, timezone: str | None) -> datetime:
    moment = parse_instant(instant) if isinstance(instant, str) else instant
    return moment.astimezone(zone(timezone))


def day_and_time(instant: str | None, timezone: str | None) -> str:
    if not instant:
        return ""
    moment = local(instant, timezone)
    return _("{month}/{day} {time}").format(month=moment.month, day=moment.day, time=moment.strftime("%H:%M"))


def day_and_time_in(instant: str | None, timezone: str | None, now: datetime) -> str:
    """As :func:`day_and_time`, with the year when it is not this year's (an old timeline entry)."""
    if not instant:
        return ""
    moment = local(instant, timezone)
    if moment.year == local(now, timezone).year:
        return day_and_time(instant, timezone)
    return _("{year}/{month}/{day} {time}").format(
        year=moment.year, month=moment.month, day=moment.day, time=moment.strftime("%H:%M")
    )


BOOKING_STATUS = {
    "CONFIRMED": N_("Booked"),
    "CHECKED_IN": N_("Checked in"),
    "COMPLETED": N_("Visited"),
    "CANCELLED": N_("Cancelled"),
    "NO_SHOW": N_("Did not come"),
}


def booking_status(status: str) -> str:
    return _(BOOKING_STATUS.get(status, status))


def task_status(status: str) -> str:
    return _(TASK_STATUS.get(status, status))


def event_type(kind: str) -> str:
    return _(EVENT_TYPE.get(kind, kind))


def money(amount: int, currency: str) -> str:
    symbol = "¥" if currency == "CNY" else f"{currency} "
    return f"{symbol}{amount // 100:,}.{amount % 100:02d}"


def shown_money(value: dict | None) -> str:
    """A GraphQL ``Money`` ({amount, currency}) as :func:`money` shows it (nothing given: ¥0.00)."""
    value = value or {}
    return money(value.get("amount", 0), value.get("currency") or "CNY")


ROLE = {
    "HQ_ADMIN": N_("HQ administrator"),
    "STORE_MANAGER": N_("Store manager"),
    "GUIDE": N_("Store guide"),
    "LIVESTREAM_OPS": N_("Livestream operations"),
    "ANALYST": N_("Analyst"),
}


def role(name: str | None) -> str:
    return _(ROLE[name]) if name in ROLE else name or ""  # gettext("") would be the catalog's header


def phone(number: str | None) -> str:
    """A mainland mobile as it is read aloud, ``139 0000 1111`` (3-4-4), masked digits included
    (``138 **** 5678``); the +86 country code is dropped, other numbers are shown as they come."""
    if not number:
        return ""
    digits = number.replace(" ", "").replace("-", "")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
    if len(digits) == 11 and digits[0] == "1":
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    return number


def listing(items: list[str]) -> str:
    """Items of a list in one line: 、 between them in Chinese, a comma in English."""
    return _(", ").join(item for item in items if item)


def countdown(due: str | datetime | None, now: datetime) -> tuple[str, bool]:
    """What is left until ``due`` (``09:52``, ``1:05:00``) or how late it is, and whether it is late."""
    if due is None:
        return "", False
    moment = parse_instant(due) if isinstance(due, str) else due
    seconds = int((moment - now).total_seconds())
    if seconds < 0:
        minutes = max(1, -seconds // 60)
        return _("Acknowledge overdue by {minutes} min").format(minutes=minutes), True
    hours, rest = divmod(seconds, 3600)
    left = f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"
    return _("Acknowledge within {left}").format(left=left), seconds < 120


def distance(meters: int | None) -> str:
    """How far another store or a warehouse is: ``850 m`` under a kilometre, else ``3.2 km`` (``1,067 km``)."""
    if meters is None:
        return ""
    if meters < 1000:
        return _("{meters} m").format(meters=meters)
    kilometres = meters / 1000
    shown = f"{kilometres:.1f}" if kilometres < 100 else f"{round(kilometres):,}"
    return _("{km} km").format(km=shown)


FULFILLMENT = {
    "TAKE_NOW": N_("Take now"),
    "PICKUP_IN_STORE": N_("Pick up in store"),
    "SHIP_TO_HOME": N_("Ship to her"),
}
PAYMENT_METHOD = {
    "CASH": N_("Cash"),
    "CARD_TERMINAL": N_("Card"),
    "WECHAT_PAY": N_("WeChat Pay"),
    "ALIPAY": N_("Alipay"),
}


def fulfillment(kind: str) -> str:
    return _(FULFILLMENT.get(kind, kind))


def payment_method(kind: str) -> str:
    return _(PAYMENT_METHOD.get(kind, kind))


def coupon_terms(discount: dict | None) -> str:
    """What a coupon takes off, as printed on it: ¥20.00 off, 15% off (at most ¥50.00), ¥50.00 off ¥500.00."""
    discount = discount or {}
    kind = discount.get("kind")

    def shown(key: str) -> str:
        value = discount.get(key) or {}
        return money(value["amount"], value.get("currency") or "CNY") if "amount" in value else ""

    if kind == "FIXED":
        return _("{amount} off").format(amount=shown("amountOff"))
    if kind == "THRESHOLD":
        return _("{amount} off when you spend {minimum}").format(amount=shown("amountOff"), minimum=shown("minSpend"))
    if kind == "PERCENT":
        terms = _("{percent}% off").format(percent=discount.get("percentOff"))
        if discount.get("maxDiscount"):
            terms += _(" (at most {amount})").format(amount=shown("maxDiscount"))
        return terms
    return ""

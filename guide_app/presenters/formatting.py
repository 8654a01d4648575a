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


def phone_number(phone: str) -> str:
    """A mainland mobile as guides read it aloud, ``139 0000 1111`` (masked: ``138 **** 5678``); others as given."""
    local_part = phone.removeprefix("+86")
    if len(local_part) == 11 and local_part[0] == "1":
        return f"{local_part[:3]} {local_part[3:7]} {local_part[7:]}"
    return phone


def task_status(status: str) -> str:
    return _(TASK_STATUS.get(status, status))


def event_type(kind: str) -> str:
    return _(EVENT_TYPE.get(kind, kind))


def money(amount: int, currency: str) -> str:
    symbol = "¥" if currency == "CNY" else f"{currency} "
    return f"{symbol}{amount // 100:,}.{amount % 100:02d}"

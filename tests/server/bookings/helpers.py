"""Shared steps of the booking tests: shifts for the world's guides, customers, booking calls."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server.domains.schedule.models import ShiftPattern
from server.domains.staff.models import StaffUser
from tests.world import gid

SHANGHAI = ZoneInfo("Asia/Shanghai")

CUSTOMER_LOGIN = """mutation($phone: String!) { customerLogin(input: {phone: $phone, smsCode: "000000"}) {
  session { accessToken viewer { ... on Customer { id } } } errors { code } } }"""

BOOK = """mutation($input: BookingCreateInput!) { bookingCreate(input: $input) {
  booking { id status source channel slotStart slotEnd note store { code } livestream { title }
            products { sku } service { code } }
  errors { code field message } } }"""

CANCEL = """mutation($input: BookingCancelInput!) { bookingCancel(input: $input) {
  booking { id status cancelReason } errors { code field } } }"""

SLOTS = """query($store: ID!, $from: Date!, $to: Date!, $service: ID) {
  availableSlots(storeId: $store, from: $from, to: $to, serviceId: $service) {
    start end localDate localTime capacity remaining } }"""


async def customer(api, phone: str = "13812345678") -> tuple[str, str]:
    """(access token, Customer global id) of a customer signed in by SMS (development code)."""
    payload = (await api.data(CUSTOMER_LOGIN, {"phone": phone}))["customerLogin"]
    assert payload["errors"] == [], payload
    return payload["session"]["accessToken"], payload["session"]["viewer"]["id"]


async def give_shifts(
    db, world, username: str = "sh.guide", starts: str = "10:00", ends: str = "22:00", weekdays=range(7)
) -> None:
    async with db.writer() as session:
        session.add_all(
            ShiftPattern(
                staff_id=world.ids[username],
                store_id=world.ids[_store_of(username)],
                weekday=day,
                starts=starts,
                ends=ends,
            )
            for day in weekdays
        )
        await session.commit()


async def add_shanghai_guide(db, world, username: str, display_name: str) -> None:
    """Another guide at Shanghai (no password: dispatch is what the tests watch), on shift all day."""
    async with db.writer() as session:
        guide = StaffUser(
            username=username,
            display_name=display_name,
            role="GUIDE",
            store_id=world.ids["shanghai"],
            password_hash="x",
        )
        session.add(guide)
        await session.commit()
        world.ids[username] = guide.id
    await give_shifts(db, world, username)


def _store_of(username: str) -> str:
    return {"sh": "shanghai", "bj": "beijing"}[username.split(".")[0]]


def next_local(clock, weekday: int, hour: int, minute: int = 0) -> datetime:
    """The next store-local weekday at hour:minute (at least a day ahead), in UTC."""
    today = clock.now().astimezone(SHANGHAI).date()
    day = today + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return datetime.combine(day, time(hour, minute), SHANGHAI).astimezone(UTC)


def arrive(clock, slot: datetime) -> None:
    """Move the clock to ten minutes before ``slot``: her check-in is open (from 60 minutes before).
    Access tokens issued earlier have expired by then: sign in again (``token_for`` does)."""
    clock.current = slot - timedelta(minutes=10)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def booking_input(world, slot: datetime, **extra) -> dict:
    return {"storeId": world.gid("Store", "shanghai"), "slotStart": iso(slot), **extra}


async def book(api, token: str, world, slot: datetime, **extra) -> dict:
    return (await api.data(BOOK, {"input": booking_input(world, slot, **extra)}, token))["bookingCreate"]


def local_gid(type_name: str, row_id: int) -> str:
    return gid(type_name, row_id)

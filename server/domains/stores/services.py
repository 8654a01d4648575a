"""Store use cases: create, update, look up, list, and find the nearest."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlmodel import col, delete, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from ...clock import utcnow
from ...unit_of_work import use_case
from ..catalog.services import services_by_ids
from ..common.actor import Actor, Role
from ..common.errors import CommonErrorCode as Common
from ..common.errors import DomainError
from ..common.idempotency import create_once
from ..common.lookup import links_by_owner, rows_by_id
from ..common.rows import saved_id
from ..common.validation import Validator, not_found
from . import hooks
from .errors import StoreErrorCode as Code
from .geo import EARTH_RADIUS_M, bounding_box
from .models import Store, StoreService
from .opening_hours import opening_interval

# Scopes of idempotency keys, stored with each key's record: renaming one forgets the keys given.
STORE_KEY_SCOPE = "storeCreate"

STORE_CODE_PATTERN = r"[A-Z0-9-]{2,16}"
SLOT_GRID_MINUTES = 30


@dataclass(frozen=True)
class DayHours:
    weekday: int  # Monday = 0
    opens: time
    closes: time


@dataclass(frozen=True)
class StoreDraft:
    code: str
    name: str
    city: str
    address: str
    latitude: float
    longitude: float
    timezone: str
    opening_hours: Sequence[DayHours]
    service_ids: Sequence[int] = field(default_factory=tuple)
    active: bool = True


@dataclass(frozen=True)
class StoreChanges:
    name: str | None = None
    city: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    timezone: str | None = None
    opening_hours: Sequence[DayHours] | None = None
    service_ids: Sequence[int] | None = None
    active: bool | None = None


MAX_TIMEZONE_LENGTH = 64  # the longest IANA name is 32 characters


def is_valid_timezone(name: str) -> bool:
    if len(name) > MAX_TIMEZONE_LENGTH:
        return False  # ZoneInfo would look for such a file and fail with "File name too long"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _on_grid(moment: time) -> bool:
    return moment.second == 0 and moment.microsecond == 0 and moment.minute % SLOT_GRID_MINUTES == 0


def _check_opening_hours(check: Validator, hours: Sequence[DayHours] | None) -> None:
    if hours is None:
        return
    seen: set[int] = set()
    for index, day in enumerate(hours):
        path = ("openingHours", str(index))
        if day.weekday in seen:
            check.add(Code.INVALID_OPENING_HOURS, "a weekday is listed twice", path)
        seen.add(day.weekday)
        if day.opens.tzinfo is not None or day.closes.tzinfo is not None:
            check.add(Code.INVALID_OPENING_HOURS, "opening hours are store-local times without an offset", path)
        elif not (_on_grid(day.opens) and _on_grid(day.closes)):
            check.add(Code.INVALID_OPENING_HOURS, "times must be on the 30-minute grid", path)
        elif day.opens >= day.closes:
            check.add(Code.INVALID_OPENING_HOURS, "opens must be before closes", path)


def _check_place(check: Validator, values: StoreDraft | StoreChanges, required: bool) -> None:
    check.text(("name",), values.name, max_length=100, required=required)
    check.text(("city",), values.city, max_length=50, required=required)
    check.text(("address",), values.address, max_length=200, required=required)
    check.number_range(("location", "latitude"), values.latitude, -90, 90)
    check.number_range(("location", "longitude"), values.longitude, -180, 180)
    if values.timezone is not None and not is_valid_timezone(values.timezone):
        check.add(Code.INVALID_TIMEZONE, "timezone must be an IANA time zone such as Asia/Shanghai", ("timezone",))
    _check_opening_hours(check, values.opening_hours)


async def _check_services(session: AsyncSession, check: Validator, ids: Sequence[int] | None):
    if not ids:
        return
    check.count(("serviceIds",), ids, 50)
    known = await services_by_ids(session, list(set(ids)))
    if len(known) != len(set(ids)):
        check.add(Common.NOT_FOUND, "a service was not found", ("serviceIds",))


def hours_to_json(hours: Sequence[DayHours]) -> list[dict]:
    return [
        {"weekday": d.weekday, "opens": d.opens.strftime("%H:%M"), "closes": d.closes.strftime("%H:%M")}
        for d in sorted(hours, key=lambda d: d.weekday)
    ]


def hours_from_json(rows: list[dict]) -> list[DayHours]:
    return [DayHours(r["weekday"], time.fromisoformat(r["opens"]), time.fromisoformat(r["closes"])) for r in rows]


async def _replace_services(session: AsyncSession, store_id: int, service_ids: Sequence[int]):
    await session.exec(delete(StoreService).where(col(StoreService.store_id) == store_id))
    session.add_all(StoreService(store_id=store_id, service_id=s) for s in set(service_ids))


@use_case
async def create_store(
    session: AsyncSession, actor: Actor, draft: StoreDraft, idempotency_key: str | None = None
) -> Store:
    actor.require_role(Role.HQ_ADMIN)
    check = Validator()
    code = check.text(
        ("code",),
        draft.code,
        max_length=16,
        pattern=STORE_CODE_PATTERN,
        pattern_hint="2-16 upper-case letters, digits or -",
    )
    _check_place(check, draft, required=True)
    await _check_services(session, check, draft.service_ids)
    check.raise_if_any()

    duplicate = DomainError.single(Code.DUPLICATE_CODE, f"store {code} exists", ("code",))

    async def create():
        taken = await session.exec(select(func.count()).where(Store.code == code))
        if taken.one():
            raise duplicate
        store = Store(
            code=code,
            name=draft.name.strip(),
            city=draft.city.strip(),
            address=draft.address.strip(),
            latitude=draft.latitude,
            longitude=draft.longitude,
            timezone=draft.timezone,
            opening_hours=hours_to_json(draft.opening_hours),
            active=draft.active,
        )
        session.add(store)
        await session.flush()
        await _replace_services(session, store.id, draft.service_ids)
        await hooks.store_saved(session, store)
        return store

    return await create_once(
        session,
        actor=actor.key,
        scope=STORE_KEY_SCOPE,
        key=idempotency_key,
        payload=asdict(draft),
        create=create,
        duplicate=duplicate,
        model=Store,
    )


@use_case
async def update_store(session: AsyncSession, actor: Actor, store_id: int, changes: StoreChanges) -> Store:
    actor.require_role(Role.HQ_ADMIN)
    store = await session.get(Store, store_id)
    if store is None:
        raise not_found("store", ("id",))
    check = Validator()
    _check_place(check, changes, required=False)
    await _check_services(session, check, changes.service_ids)
    check.raise_if_any()
    for name in ("name", "city", "address", "latitude", "longitude", "timezone", "active"):
        value = getattr(changes, name)
        if value is not None:
            setattr(store, name, value.strip() if isinstance(value, str) else value)
    if changes.opening_hours is not None:
        store.opening_hours = hours_to_json(changes.opening_hours)
    if changes.service_ids is not None:
        await _replace_services(session, saved_id(store), changes.service_ids)
    store.updated_at = utcnow()
    await hooks.store_saved(session, store)
    return store


async def stores_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Store]:
    return await rows_by_id(session, Store, ids)


async def service_ids_by_store(session: AsyncSession, store_ids: Sequence[int]) -> dict[int, list[int]]:
    return await links_by_owner(session, StoreService, "store_id", "service_id", store_ids)


def store_ids_in_city(city: str) -> SelectOfScalar[int | None]:
    """The ids of a city's stores (as a subquery of another domain's listing)."""
    return select(col(Store.id)).where(Store.city == city)


def store_listing(*, city: str | None = None, active: bool | None = None):
    statement = select(Store)
    if city is not None:
        statement = statement.where(Store.city == city)
    if active is not None:
        statement = statement.where(Store.active == active)
    return statement


# --- nearest stores ------------------------------------------------------------------------------

MAX_NEARBY = 50
MAX_NEARBY_PRODUCTS = 20
# Search radii, widened until enough stores are found; None is the whole world.
SEARCH_RADII_M = (50_000, 500_000, None)


@dataclass(frozen=True)
class NearbyStore:
    store: Store
    distance_m: float
    open_now: bool


def is_open(store: Store, now: datetime) -> bool:
    """Whether ``now`` falls in the store's opening hours of its local day."""
    local = now.astimezone(ZoneInfo(store.timezone))
    hours = opening_interval(store.opening_hours, local.date())
    return hours is not None and hours[0] <= local.time() < hours[1]


def distance_sql(session: AsyncSession, lat: float, lng: float):
    """Haversine distance in metres from (lat, lng) to each store, as a SQL expression."""
    lat_rad, lng_rad = func.radians(Store.latitude), func.radians(Store.longitude)
    phi, lam = math.radians(lat), math.radians(lng)
    h = func.power(func.sin((lat_rad - phi) / 2.0), 2) + math.cos(phi) * func.cos(lat_rad) * func.power(
        func.sin((lng_rad - lam) / 2.0), 2
    )
    # Rounding can push h a hair above 1 for antipodal points, out of asin's domain.
    at_most = func.least if session.get_bind().dialect.name == "postgresql" else func.min
    return 2 * EARTH_RADIUS_M * func.asin(func.sqrt(at_most(h, 1.0)))


def _nearby_query(
    session: AsyncSession, lat: float, lng: float, limit: int, service_id: int | None, radius_m: float | None
):
    distance = distance_sql(session, lat, lng)
    labelled = distance.label("distance")
    statement = select(Store, labelled).where(col(Store.active))
    if service_id is not None:
        statement = statement.where(
            sa.exists().where(col(StoreService.store_id) == Store.id, col(StoreService.service_id) == service_id)
        )
    if radius_m is not None:
        box = bounding_box(lat, lng, radius_m)
        statement = statement.where(
            col(Store.latitude).between(box.min_lat, box.max_lat),
            col(Store.longitude).between(box.min_lng, box.max_lng),
            distance <= radius_m,
        )
    return statement.order_by(labelled, col(Store.id)).limit(limit)


async def nearby_stores(
    session: AsyncSession,
    lat: float,
    lng: float,
    *,
    limit: int,
    service_id: int | None,
    now: datetime,
    product_ids: Sequence[int] = (),
) -> list[NearbyStore]:
    """The ``limit`` active stores nearest to a WGS-84 point (offering ``service_id`` if given).

    A bounding box on ix_store_lat_lng narrows each search; the box grows
    (50 km, 500 km, the world) until ``limit`` stores lie within its radius.
    ``product_ids`` are only checked here: inventory answers whether each store has them (productsInStock).
    """
    check = Validator()
    check.number_range(("location", "latitude"), lat, -90, 90)
    check.number_range(("location", "longitude"), lng, -180, 180)
    check.number_range(("first",), limit, 1, MAX_NEARBY)
    check.count(("productIds",), product_ids, MAX_NEARBY_PRODUCTS)
    check.raise_if_any()
    rows = []
    for radius_m in SEARCH_RADII_M:
        rows = (await session.exec(_nearby_query(session, lat, lng, limit, service_id, radius_m))).all()
        if len(rows) >= limit:
            break
    return [NearbyStore(store, distance, is_open(store, now)) for store, distance in rows]

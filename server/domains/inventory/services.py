"""Inventory use cases: locations, manager adjustments and transfers, and what is where."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from ...unit_of_work import use_case
from ..catalog.models import ProductSku
from ..common.actor import Actor, Role
from ..common.dialect import insert_ignore
from ..common.errors import CommonErrorCode as Common
from ..common.errors import DomainError
from ..common.idempotency import create_once
from ..common.lookup import rows_by_id
from ..common.rows import exec_any, saved_id
from ..common.validation import Validator, not_found
from ..stores.geo import haversine_m
from ..stores.hooks import on_store_saved
from ..stores.models import Store
from . import levels
from .errors import InventoryErrorCode as Code
from .models import LocationKind, MovementReason, StockLevel, StockLocation, StockMovement

ADJUST_KEY_SCOPE = "stockAdjust"
TRANSFER_KEY_SCOPE = "stockTransfer"
WAREHOUSE_KEY_SCOPE = "warehouseCreate"
MAX_ADJUSTMENT = 1_000_000
NEARBY_STORES = 5
INBOUND = frozenset({MovementReason.RECEIPT, MovementReason.TRANSFER_IN})
OUTBOUND = frozenset({MovementReason.DAMAGE, MovementReason.TRANSFER_OUT})
MANAGER_REASONS = INBOUND | OUTBOUND | {MovementReason.COUNT}


@dataclass(frozen=True)
class WarehouseDraft:
    code: str
    name: str
    city: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Adjustment:
    location_id: int
    sku_id: int
    reason: MovementReason
    quantity: int  # units moved; for COUNT, the units counted on hand
    note: str = ""


@dataclass(frozen=True)
class Transfer:
    from_location_id: int
    to_location_id: int
    sku_id: int
    quantity: int
    note: str = ""


@dataclass(frozen=True)
class Availability:
    location: StockLocation
    on_hand: int
    reserved: int
    distance_m: float | None = None

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class SkuAvailability:
    sku: ProductSku
    here: Availability | None
    nearby_stores: list[Availability]
    warehouses: list[Availability]


@on_store_saved("inventory")
async def keep_store_location(session: AsyncSession, store: Store) -> None:
    await store_location(session, store)


async def store_location(session: AsyncSession, store: Store) -> StockLocation:
    """The store's stock location, kept named and placed as the store is (stores know nothing of stock):
    made with the store, or the first time it is needed for a store made before."""
    found = (await session.exec(select(StockLocation).where(StockLocation.store_id == store.id))).first()
    if found is not None:
        found.name, found.city = store.name, store.city
        found.latitude, found.longitude, found.active = store.latitude, store.longitude, store.active
        return found
    await exec_any(
        session,
        insert_ignore(
            session,
            StockLocation,
            {
                "code": f"STORE-{store.code}",
                "name": store.name,
                "kind": LocationKind.STORE.value,
                "store_id": store.id,
                "city": store.city,
                "latitude": store.latitude,
                "longitude": store.longitude,
                "active": True,
                "created_at": store.created_at,
            },
        ),
    )
    return (await session.exec(select(StockLocation).where(StockLocation.store_id == store.id))).one()


async def find_store_location(session: AsyncSession, store_id: int) -> StockLocation | None:
    return (await session.exec(select(StockLocation).where(StockLocation.store_id == store_id))).first()


async def location_of_store(session: AsyncSession, store_id: int) -> StockLocation:
    store = await session.get(Store, store_id)
    if store is None:
        raise not_found("store", ("storeId",))
    return await store_location(session, store)


@use_case
async def create_warehouse(
    session: AsyncSession, actor: Actor, draft: WarehouseDraft, idempotency_key: str | None = None
) -> StockLocation:
    actor.require_role(Role.HQ_ADMIN)
    check = Validator()
    code = check.text(
        ("code",), draft.code, max_length=32, pattern=r"[A-Z0-9-]{2,32}", pattern_hint="2-32 A-Z, 0-9 or -"
    )
    check.text(("name",), draft.name, max_length=100)
    check.text(("city",), draft.city, max_length=50)
    check.number_range(("latitude",), draft.latitude, -90, 90)
    check.number_range(("longitude",), draft.longitude, -180, 180)
    check.raise_if_any()
    duplicate = DomainError.single(Code.DUPLICATE_CODE, f"location {code} exists", ("code",))

    async def create() -> StockLocation:
        if (await session.exec(select(StockLocation.id).where(StockLocation.code == code))).first() is not None:
            raise duplicate
        warehouse = StockLocation(
            code=code,
            name=draft.name.strip(),
            kind=LocationKind.WAREHOUSE.value,
            city=draft.city.strip(),
            latitude=draft.latitude,
            longitude=draft.longitude,
        )
        session.add(warehouse)
        await session.flush()
        return warehouse

    return await create_once(
        session,
        actor=actor.key,
        scope=WAREHOUSE_KEY_SCOPE,
        key=idempotency_key,
        payload=asdict(draft),
        create=create,
        duplicate=duplicate,
        model=StockLocation,
    )


def require_stock_keeper(actor: Actor, location: StockLocation) -> None:
    """Store managers keep their own store's stock; HQ admins every location's (warehouses only theirs)."""
    if actor.has_role(Role.HQ_ADMIN):
        return
    actor.require_role(Role.STORE_MANAGER)
    if location.store_id is None:
        actor.require_role(Role.HQ_ADMIN)
    actor.require_store(location.store_id)


async def _location(session: AsyncSession, location_id: int, path: tuple[str, ...]) -> StockLocation:
    location = await session.get(StockLocation, location_id)
    if location is None:
        raise not_found("stock location", path)
    return location


async def _sellable_sku(session: AsyncSession, sku_id: int, path: tuple[str, ...] = ("skuId",)) -> ProductSku:
    sku = await session.get(ProductSku, sku_id)
    if sku is None:
        raise not_found("SKU", path)
    return sku


def _check_adjustment(adjustment: Adjustment) -> None:
    check = Validator()
    if adjustment.reason not in MANAGER_REASONS:
        check.add(Common.INVALID_VALUE, "sales and returns are recorded by orders, not by hand", ("reason",))
    low = 0 if adjustment.reason is MovementReason.COUNT else 1
    check.number_range(("quantity",), adjustment.quantity, low, MAX_ADJUSTMENT)
    check.text(("note",), adjustment.note, max_length=200, min_length=0)
    check.raise_if_any()


@use_case
async def adjust_stock(
    session: AsyncSession, actor: Actor, adjustment: Adjustment, now: datetime, idempotency_key: str | None = None
) -> StockMovement:
    """A manager records stock arriving, leaving or counted; returns the movement (a count that found
    what was on record is a movement of 0: the count is on record too)."""
    location = await _location(session, adjustment.location_id, ("locationId",))
    require_stock_keeper(actor, location)
    _check_adjustment(adjustment)
    await _sellable_sku(session, adjustment.sku_id)
    reference = f"adjustment:{uuid.uuid4().hex[:16]}"

    async def apply() -> StockMovement:
        at, sku, quantity = adjustment.location_id, adjustment.sku_id, adjustment.quantity
        origin = levels.Origin(reference, actor.key, now, adjustment.note.strip())
        if adjustment.reason is MovementReason.COUNT:
            await levels.count(session, at, sku, quantity, origin, path=("quantity",))
        elif adjustment.reason in INBOUND:
            await levels.add(session, at, sku, quantity, adjustment.reason, origin)
        else:
            await levels.take(session, at, sku, quantity, adjustment.reason, origin, path=("quantity",))
        await session.flush()
        return await _movement(session, reference, adjustment.location_id)

    return await create_once(
        session,
        actor=actor.key,
        scope=ADJUST_KEY_SCOPE,
        key=idempotency_key,
        payload=asdict(adjustment),
        create=apply,
        model=StockMovement,
    )


async def _movement(session: AsyncSession, reference: str, location_id: int) -> StockMovement:
    """The movement just recorded under ``reference`` at ``location_id``."""
    statement = select(StockMovement).where(
        StockMovement.reference == reference, StockMovement.location_id == location_id
    )
    return (await session.exec(statement)).one()


@use_case
async def transfer_stock(
    session: AsyncSession, actor: Actor, transfer: Transfer, now: datetime, idempotency_key: str | None = None
) -> StockMovement:
    """Move available units from one location to another: a TRANSFER_OUT and a TRANSFER_IN, together."""
    source = await _location(session, transfer.from_location_id, ("fromLocationId",))
    target = await _location(session, transfer.to_location_id, ("toLocationId",))
    require_stock_keeper(actor, source)
    check = Validator()
    check.number_range(("quantity",), transfer.quantity, 1, MAX_ADJUSTMENT)
    check.text(("note",), transfer.note, max_length=200, min_length=0)
    if source.id == target.id:
        check.add(Code.SAME_LOCATION, "a transfer goes to another location", ("toLocationId",))
    if not target.active:
        check.add(Code.INACTIVE_LOCATION, "that location no longer takes stock", ("toLocationId",))
    check.raise_if_any()
    await _sellable_sku(session, transfer.sku_id)
    reference = f"transfer:{uuid.uuid4().hex[:16]}"

    async def move() -> StockMovement:
        origin = levels.Origin(reference, actor.key, now, transfer.note.strip())
        sku, quantity = transfer.sku_id, transfer.quantity
        out, into = MovementReason.TRANSFER_OUT, MovementReason.TRANSFER_IN
        await levels.take(session, transfer.from_location_id, sku, quantity, out, origin, path=("quantity",))
        await levels.add(session, transfer.to_location_id, sku, quantity, into, origin)
        await session.flush()
        return await _movement(session, reference, transfer.from_location_id)

    return await create_once(
        session,
        actor=actor.key,
        scope=TRANSFER_KEY_SCOPE,
        key=idempotency_key,
        payload=asdict(transfer),
        create=move,
        model=StockMovement,
    )


async def sku_availability(session: AsyncSession, sku_id: int, near_store_id: int | None) -> SkuAvailability:
    """This store's level of a SKU (0 when none was ever kept), the nearest other stores that have it
    available, and every warehouse."""
    sku = await _sellable_sku(session, sku_id)
    here_store = await session.get(Store, near_store_id) if near_store_id is not None else None
    if near_store_id is not None and here_store is None:
        raise not_found("store", ("near",))
    rows = (
        await session.exec(
            select(StockLocation, StockLevel)
            .join(StockLevel, col(StockLevel.location_id) == StockLocation.id, isouter=True)
            .where(
                col(StockLocation.active), sa.or_(col(StockLevel.sku_id) == sku_id, col(StockLevel.sku_id).is_(None))
            )
        )
    ).all()
    here, stores, warehouses = None, [], []
    for location, level in rows:
        on_hand, reserved = (level.on_hand, level.reserved) if level else (0, 0)
        distance = _distance(here_store, location)
        found = Availability(location, on_hand, reserved, distance)
        if here_store is not None and location.store_id == here_store.id:
            here = found
        elif location.kind == LocationKind.WAREHOUSE.value:
            warehouses.append(found)
        elif found.available > 0:
            stores.append(found)
    stores.sort(key=lambda a: (a.distance_m if a.distance_m is not None else 0.0, saved_id(a.location)))
    warehouses.sort(key=lambda a: (a.distance_m if a.distance_m is not None else 0.0, saved_id(a.location)))
    return SkuAvailability(sku, here, stores[:NEARBY_STORES], warehouses)


def _distance(origin: Store | None, location: StockLocation) -> float | None:
    if origin is None or location.latitude is None or location.longitude is None:
        return None
    return haversine_m(origin.latitude, origin.longitude, location.latitude, location.longitude)


async def nearest_stocked_warehouse(
    session: AsyncSession, from_location_id: int, sku_id: int, quantity: int
) -> int | None:
    """The active warehouse nearest to a location that has ``quantity`` units of a SKU available, if any."""
    origin = await session.get(StockLocation, from_location_id)
    statement = (
        select(StockLocation)
        .join(StockLevel, col(StockLevel.location_id) == StockLocation.id)
        .where(
            StockLocation.kind == LocationKind.WAREHOUSE.value,
            col(StockLocation.active),
            StockLevel.sku_id == sku_id,
            StockLevel.on_hand - StockLevel.reserved >= quantity,
        )
    )
    found = list((await session.exec(statement)).all())
    if not found:
        return None

    def distance(location: StockLocation) -> tuple[float, int]:
        located = origin is not None and origin.latitude is not None and origin.longitude is not None
        if not located or location.latitude is None or location.longitude is None:
            return (0.0, saved_id(location))
        assert origin is not None and origin.latitude is not None and origin.longitude is not None
        return (
            haversine_m(origin.latitude, origin.longitude, location.latitude, location.longitude),
            saved_id(location),
        )

    return saved_id(min(found, key=distance))


async def products_in_stock(
    session: AsyncSession, store_ids: Sequence[int], product_ids: Sequence[int]
) -> dict[int, set[int]]:
    """For each store, which of ``product_ids`` have a SKU with available units there. One statement."""
    if not store_ids or not product_ids:
        return {store_id: set() for store_id in store_ids}
    statement = (
        select(StockLocation.store_id, ProductSku.product_id)
        .join(StockLevel, col(StockLevel.location_id) == StockLocation.id)
        .join(ProductSku, col(ProductSku.id) == StockLevel.sku_id)
        .where(
            col(StockLocation.store_id).in_(list(store_ids)),
            col(ProductSku.product_id).in_(list(product_ids)),
            col(ProductSku.active),
            StockLevel.on_hand - StockLevel.reserved > 0,
        )
        .distinct()
    )
    found: dict[int, set[int]] = {store_id: set() for store_id in store_ids}
    for store_id, product_id in await session.exec(statement):
        if store_id is not None:
            found[store_id].add(product_id)
    return found


async def locations_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, StockLocation]:
    return await rows_by_id(session, StockLocation, ids)


async def level_of(session: AsyncSession, location_id: int, sku_id: int) -> StockLevel | None:
    return await session.get(StockLevel, (location_id, sku_id))


def location_listing(kind: LocationKind | None = None) -> SelectOfScalar[StockLocation]:
    statement = select(StockLocation)
    if kind is not None:
        statement = statement.where(StockLocation.kind == kind.value)
    return statement


def movement_listing(location_id: int, sku_id: int | None = None) -> SelectOfScalar[StockMovement]:
    statement = select(StockMovement).where(StockMovement.location_id == location_id)
    if sku_id is not None:
        statement = statement.where(StockMovement.sku_id == sku_id)
    return statement


async def movement_sum(session: AsyncSession, location_id: int, sku_id: int) -> int:
    """What the movement ledger says is on hand (it must equal the level's on hand)."""
    total = await session.exec(
        select(sa.func.coalesce(sa.func.sum(StockMovement.quantity), 0)).where(
            StockMovement.location_id == location_id, StockMovement.sku_id == sku_id
        )
    )
    return int(total.one())

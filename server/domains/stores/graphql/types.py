"""GraphQL types of stores."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING

import strawberry
from strawberry import relay

from ....api.errors import UserError, user_error_type
from ....api.nodes import load_nodes
from ...catalog.graphql.types import Service
from ...catalog.services import services_by_ids
from ...common.rows import saved_id
from .. import services
from ..errors import StoreErrorCode
from ..models import Store as StoreRow

if TYPE_CHECKING:  # user_error_type builds the class at run time: mypy knows it by its interface
    StoreUserError = UserError
else:
    StoreUserError = user_error_type(
        "Store",
        StoreErrorCode,
        {
            StoreErrorCode.DUPLICATE_CODE: "A store with this code exists.",
            StoreErrorCode.INVALID_TIMEZONE: "Not an IANA time zone such as Asia/Shanghai.",
            StoreErrorCode.INVALID_OPENING_HOURS: "A weekday listed twice, a time off the 30-minute grid or with an "
            "offset, or opens not before closes.",
        },
    )


@strawberry.enum(description="Day of the week, in the store's local time.")
class Weekday(Enum):
    _value_: int  # strawberry.enum unwraps each enum_value to its int
    MONDAY = strawberry.enum_value(0, description="Monday.")
    TUESDAY = strawberry.enum_value(1, description="Tuesday.")
    WEDNESDAY = strawberry.enum_value(2, description="Wednesday.")
    THURSDAY = strawberry.enum_value(3, description="Thursday.")
    FRIDAY = strawberry.enum_value(4, description="Friday.")
    SATURDAY = strawberry.enum_value(5, description="Saturday.")
    SUNDAY = strawberry.enum_value(6, description="Sunday.")


@strawberry.type(description="Opening hours on one weekday, in store-local time. Days not listed are closed.")
class OpeningHours:
    weekday: Weekday = strawberry.field(description="The weekday these hours apply to.")
    opens: dt.time = strawberry.field(description="Opening time, store-local.")
    closes: dt.time = strawberry.field(description="Closing time, store-local; the last slot ends by then.")


@strawberry.type(description="A point on Earth, WGS-84.")
class GeoPoint:
    latitude: float = strawberry.field(description="Degrees, -90 to 90.")
    longitude: float = strawberry.field(description="Degrees, -180 to 180.")


def _parsed_opening_hours(root: Store) -> list[OpeningHours]:
    """Parsed from the row's JSON only for an operation that asks for them (most ask a store's code or name)."""
    return [
        OpeningHours(weekday=Weekday(d.weekday), opens=d.opens, closes=d.closes)
        for d in services.hours_from_json(root._opening_hours)
    ]


@strawberry.type(description="A physical store (counter) customers visit.")
class Store(relay.Node):
    id: relay.NodeID[int]
    code: str = strawberry.field(description="Unique code, e.g. S001.")
    name: str = strawberry.field(description="Display name.")
    city: str = strawberry.field(description="City, as stores(city:) matches it.")
    address: str = strawberry.field(description="Street address.")
    location: GeoPoint = strawberry.field(
        description="Where it is, WGS-84 (convert to GCJ-02 for maps in mainland China)."
    )
    timezone: str = strawberry.field(description="IANA time zone; slots and hours are in this zone.")
    opening_hours: list[OpeningHours] = strawberry.field(
        resolver=_parsed_opening_hours,
        description="Hours of each open weekday, Monday first; weekdays not listed are closed.",
    )
    active: bool = strawberry.field(description="Inactive stores are not offered in nearbyStores.")
    created_at: dt.datetime = strawberry.field(description="When it was created (UTC).")
    updated_at: dt.datetime = strawberry.field(description="When it last changed (UTC).")
    _opening_hours: strawberry.Private[list[dict]]  # as stored (see the field's resolver)

    @strawberry.field(description="Services the store offers.")
    async def services(self, info: strawberry.Info) -> list[Service]:
        service_ids = await info.context.loader(services.service_ids_by_store, default=[]).load(self.id)
        rows = await info.context.loader(services_by_ids).load_many(service_ids)
        return [Service.from_row(row) for row in rows if row is not None]

    @classmethod
    def from_row(cls, row: StoreRow) -> Store:
        return cls(
            id=saved_id(row),
            code=row.code,
            name=row.name,
            city=row.city,
            address=row.address,
            location=GeoPoint(latitude=row.latitude, longitude=row.longitude),
            timezone=row.timezone,
            active=row.active,
            created_at=row.created_at,
            updated_at=row.updated_at,
            _opening_hours=row.opening_hours,
        )

    @classmethod
    async def resolve_nodes(cls, *, info, node_ids, required=False):
        return await load_nodes(info, services.stores_by_ids, node_ids, cls.from_row)


@strawberry.type(description="A store near a location, with what a customer choosing where to go needs.")
class NearbyStore:
    store: Store = strawberry.field(description="The store.")
    distance_meters: int = strawberry.field(description="Great-circle distance from the location, in metres.")
    open_now: bool = strawberry.field(description="Whether the store is open now, by its local opening hours.")
    _service_id: strawberry.Private[int | None] = None
    # The products asked about (nearbyStores' productIds), for inventory's productsInStock.
    _product_ids: strawberry.Private[tuple[int, ...]] = ()
    # Held so the session's identity map (weakly referencing) still has the row when
    # nextFreeSlot looks the stores up: no statement to read them again.
    _row: strawberry.Private[StoreRow | None] = None

    @classmethod
    def from_result(
        cls, found: services.NearbyStore, service_id: int | None, product_ids: tuple[int, ...] = ()
    ) -> NearbyStore:
        return cls(
            store=Store.from_row(found.store),
            distance_meters=round(found.distance_m),
            open_now=found.open_now,
            _service_id=service_id,
            _product_ids=product_ids,
            _row=found.store,
        )

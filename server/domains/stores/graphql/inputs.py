"""GraphQL inputs of stores."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from ....api.nodes import local_id, local_ids
from .. import services
from ..geo import gcj02_to_wgs84
from .types import Weekday


@strawberry.input(description="Opening hours on one weekday; times on the 30-minute grid, opens < closes.")
class OpeningHoursInput:
    weekday: Weekday = strawberry.field(description="Each weekday at most once.")
    opens: dt.time = strawberry.field(description="Store-local opening time, on the 30-minute grid.")
    closes: dt.time = strawberry.field(description="Store-local closing time, on the 30-minute grid; after opens.")


@strawberry.input(description="A WGS-84 point.")
class GeoPointInput:
    latitude: float = strawberry.field(description="Degrees, -90 to 90.")
    longitude: float = strawberry.field(description="Degrees, -180 to 180.")


@strawberry.enum(description="The datum of a coordinate.")
class CoordSystem(Enum):
    WGS84 = strawberry.enum_value("WGS84", description="GPS, and maps outside mainland China.")
    GCJ02 = strawberry.enum_value(
        "GCJ02", description="Maps in mainland China (WeChat, Amap, Tencent): WGS-84 shifted by 100-700 m."
    )


@strawberry.input(
    description="Where the customer is. GCJ-02 is converted to WGS-84; outside mainland China "
    "(Hong Kong, Macau, Taiwan, abroad) the two are the same point."
)
class LocationInput:
    latitude: float = strawberry.field(description="Degrees, -90 to 90.")
    longitude: float = strawberry.field(description="Degrees, -180 to 180.")
    coord_system: CoordSystem = strawberry.field(
        default=CoordSystem.WGS84, description="The datum of latitude and longitude (see CoordSystem)."
    )


def to_wgs84(location: LocationInput) -> tuple[float, float]:
    if location.coord_system is CoordSystem.GCJ02:
        return gcj02_to_wgs84(location.latitude, location.longitude)
    return location.latitude, location.longitude


@strawberry.input(description="A new store.")
class StoreCreateInput:
    code: str = strawberry.field(description="Unique, 2-16 upper-case letters, digits or -, e.g. S001.")
    name: str = strawberry.field(description="1-100 characters.")
    city: str = strawberry.field(description="1-50 characters; the stores(city:) filter matches it exactly.")
    address: str = strawberry.field(description="1-200 characters.")
    location: GeoPointInput = strawberry.field(description="Where it is, WGS-84.")
    timezone: str = strawberry.field(default="Asia/Shanghai", description="IANA time zone, e.g. Asia/Shanghai.")
    opening_hours: list[OpeningHoursInput] = strawberry.field(
        description="One entry per open weekday; weekdays left out are closed days."
    )
    service_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Services it offers: at most 50 Service ids."
    )
    active: bool = strawberry.field(default=True, description="Inactive stores are not offered in nearbyStores.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="1-128 characters: a retry with the same key by you returns the first result and writes nothing.",
    )


@strawberry.input(description="Fields left out (or null) stay as they are.")
class StoreUpdateInput:
    id: strawberry.ID = strawberry.field(description="The Store to change.")
    name: str | None = strawberry.field(default=None, description="1-100 characters.")
    city: str | None = strawberry.field(default=None, description="1-50 characters.")
    address: str | None = strawberry.field(default=None, description="1-200 characters.")
    location: GeoPointInput | None = strawberry.field(default=None, description="Where it is, WGS-84.")
    timezone: str | None = strawberry.field(default=None, description="IANA time zone, e.g. Asia/Shanghai.")
    opening_hours: list[OpeningHoursInput] | None = strawberry.field(
        default=None, description="Replaces every weekday's hours; weekdays left out become closed days."
    )
    service_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Replaces the services it offers: at most 50 Service ids."
    )
    active: bool | None = strawberry.field(default=None, description="Inactive stores are not offered in nearbyStores.")


def to_day_hours(hours: list[OpeningHoursInput]) -> list[services.DayHours]:
    return [services.DayHours(h.weekday.value, h.opens, h.closes) for h in hours]


def to_draft(data: StoreCreateInput) -> services.StoreDraft:
    return services.StoreDraft(
        code=data.code,
        name=data.name,
        city=data.city,
        address=data.address,
        latitude=data.location.latitude,
        longitude=data.location.longitude,
        timezone=data.timezone,
        opening_hours=to_day_hours(data.opening_hours),
        service_ids=[local_id(s, "Service") for s in data.service_ids],
        active=data.active,
    )


def to_changes(data: StoreUpdateInput) -> services.StoreChanges:
    return services.StoreChanges(
        name=data.name,
        city=data.city,
        address=data.address,
        latitude=data.location.latitude if data.location else None,
        longitude=data.location.longitude if data.location else None,
        timezone=data.timezone,
        opening_hours=None if data.opening_hours is None else to_day_hours(data.opening_hours),
        service_ids=local_ids(data.service_ids, "Service"),
        active=data.active,
    )

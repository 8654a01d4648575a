"""GraphQL inputs of stores."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from ....api.nodes import local_ids
from .. import services
from ..geo import gcj02_to_wgs84
from .types import Weekday


@strawberry.input(description="Opening hours on one weekday; times on the 30-minute grid, opens < closes.")
class OpeningHoursInput:
    weekday: Weekday
    opens: dt.time
    closes: dt.time


@strawberry.input(description="A WGS-84 point.")
class GeoPointInput:
    latitude: float
    longitude: float


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
    latitude: float = strawberry.field(description="-90 to 90.")
    longitude: float = strawberry.field(description="-180 to 180.")
    coord_system: CoordSystem = CoordSystem.WGS84


def to_wgs84(location: LocationInput) -> tuple[float, float]:
    if location.coord_system is CoordSystem.GCJ02:
        return gcj02_to_wgs84(location.latitude, location.longitude)
    return location.latitude, location.longitude


@strawberry.input
class StoreCreateInput:
    code: str = strawberry.field(description="Unique code, e.g. S001.")
    name: str
    city: str
    address: str
    location: GeoPointInput
    timezone: str = strawberry.field(default="Asia/Shanghai", description="IANA time zone.")
    opening_hours: list[OpeningHoursInput] = strawberry.field(
        description="One entry per open weekday; weekdays left out are closed days."
    )
    service_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    active: bool = True
    idempotency_key: str | None = None


@strawberry.input(description="Fields left out (or null) stay as they are.")
class StoreUpdateInput:
    id: strawberry.ID
    name: str | None = None
    city: str | None = None
    address: str | None = None
    location: GeoPointInput | None = None
    timezone: str | None = None
    opening_hours: list[OpeningHoursInput] | None = None
    service_ids: list[strawberry.ID] | None = None
    active: bool | None = None


def to_day_hours(hours: list[OpeningHoursInput] | None) -> list[services.DayHours] | None:
    if hours is None:
        return None
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
        service_ids=local_ids(data.service_ids, "Service"),
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
        opening_hours=to_day_hours(data.opening_hours),
        service_ids=local_ids(data.service_ids, "Service"),
        active=data.active,
    )

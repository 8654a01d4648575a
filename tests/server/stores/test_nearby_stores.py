"""nearbyStores: distance order, GCJ-02 input, filters, opening hours, the next free slot, bad input."""

from __future__ import annotations

import math
from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from server.domains.bookings.models import SlotLedger
from server.domains.bookings.slots import FreeSlotAsked, next_free_slots
from server.domains.common.actor import Role
from server.domains.schedule.models import CapacityOverride, ShiftException, ShiftPattern
from server.domains.staff.models import StaffUser
from server.domains.stores import geo
from server.domains.stores.models import Store, StoreService
from server.domains.stores.services import DayHours, hours_to_json
from tests.conftest import answered_nothing, count_rows
from tests.server.bookings.helpers import SHANGHAI, SLOTS, customer, give_shifts
from tests.world import gid

NEARBY = """query($location: LocationInput!, $first: Int! = 10, $service: ID, $products: [ID!]) {
  nearbyStores(location: $location, first: $first, serviceId: $service, productIds: $products) {
    store { code } distanceMeters openNow productsInStock } }"""

WITH_SLOT = """query($location: LocationInput!, $first: Int! = 10, $service: ID) {
  nearbyStores(location: $location, first: $first, serviceId: $service) {
    store { code } nextFreeSlot { start localDate localTime capacity remaining } } }"""

PEOPLES_SQUARE = (31.2304, 121.4737)  # WGS-84
MONDAY_NOON = datetime(2030, 1, 7, 12, 0, tzinfo=SHANGHAI)  # the world's stores open 10:00-22:00, Mon-Sat
WEDNESDAY = 2
SLOT_FIELDS = ("start", "localDate", "localTime", "capacity", "remaining")  # WITH_SLOT's


def where(lat: float, lng: float, system: str = "WGS84") -> dict:
    return {"latitude": lat, "longitude": lng, "coordSystem": system}


def moved(lat: float, lng: float, north_m: float, east_m: float) -> tuple[float, float]:
    """A point some metres north and east (small distances)."""
    return (
        lat + math.degrees(north_m / geo.EARTH_RADIUS_M),
        lng + math.degrees(east_m / (geo.EARTH_RADIUS_M * math.cos(math.radians(lat)))),
    )


async def add_store(db, code: str, lat: float, lng: float, *, active: bool = True, service_ids=()) -> int:
    hours = hours_to_json([DayHours(day, time(10), time(22)) for day in range(7)])
    async with db.writer() as session:
        store = Store(
            code=code,
            name=code,
            city="测试",
            address="1 号",
            latitude=lat,
            longitude=lng,
            timezone="Asia/Shanghai",
            opening_hours=hours,
            active=active,
        )
        session.add(store)
        await session.flush()
        session.add_all(StoreService(store_id=store.id, service_id=s) for s in service_ids)
        await session.commit()
        return store.id


async def nearby(api, token: str, location: dict, **variables) -> list[dict]:
    return (await api.data(NEARBY, {"location": location, **variables}, token))["nearbyStores"]


def codes(found: list[dict]) -> list[str]:
    return [f["store"]["code"] for f in found]


def bad_input(body: dict) -> dict:
    assert answered_nothing(body), body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    return error["extensions"]


# --- geo: the transform and where it applies -----------------------------------------------------


def test_forward_transform_matches_the_published_pair():
    # WGS-84 (39.915, 116.404) in Beijing, as published with the reference implementation.
    lat, lng = geo.wgs84_to_gcj02(39.915, 116.404)
    assert lat == pytest.approx(39.91640428150164, abs=1e-9)
    assert lng == pytest.approx(116.41024449916938, abs=1e-9)


@pytest.mark.parametrize(
    "point",
    [
        (39.915, 116.404),
        PEOPLES_SQUARE,
        (22.543, 114.058),
        (45.80, 126.53),
        (43.80, 87.60),
        (18.25, 109.51),
        (29.65, 91.10),
    ],
)
def test_gcj02_round_trip_is_within_a_metre(point):
    gcj = geo.wgs84_to_gcj02(*point)
    assert 100 < geo.haversine_m(*point, *gcj) < 1000  # the published offset is 100-700 m
    assert geo.haversine_m(*point, *geo.gcj02_to_wgs84(*gcj)) < 1.0


@pytest.mark.parametrize(
    "point",
    [
        (22.282, 114.158),
        (22.391, 113.974),
        (22.501, 114.128),  # Hong Kong: Central, Tuen Mun, Sheung Shui
        (22.193, 113.539),
        (22.147, 113.560),  # Macau: the peninsula, Cotai
        (25.033, 121.565),
        (22.620, 120.300),
        (23.570, 119.570),  # Taipei, Kaohsiung, Penghu
        (24.430, 118.320),
        (24.430, 118.240),
        (26.160, 119.950),
        (26.220, 119.990),
        (25.970, 119.950),
        (26.370, 120.490),  # Kinmen, Lieyu, Matsu: Nangan, Beigan, Juguang, Dongyin
        (37.570, 126.980),
        (35.700, 139.700),
        (43.100, 131.900),
        (47.900, 106.900),
        (21.030, 105.850),  # neighbours
        (48.860, 2.350),
        (-33.870, 151.200),
        (90.0, 0.0),
    ],
)
def test_no_shift_outside_mainland_china(point):
    assert not geo.in_mainland_china(*point)
    assert geo.gcj02_to_wgs84(*point) == point
    assert geo.wgs84_to_gcj02(*point) == point


@pytest.mark.parametrize(
    "point",
    [
        (22.535, 114.055),
        (22.530, 113.930),
        (22.580, 114.270),  # Shenzhen: Futian, Nanshan, Yantian (facing HK)
        (22.222, 113.550),
        (22.130, 113.530),  # Zhuhai: Gongbei and Hengqin (facing Macau)
        (24.480, 118.090),
        (26.070, 119.300),  # Xiamen, Fuzhou (facing Taiwan)
        (24.500, 118.190),
        (24.560, 118.330),
        (26.330, 119.890),  # facing Kinmen and Matsu: Huangcuo, Dadeng, Huangqi
        (20.030, 110.330),
        (52.970, 122.530),
        (39.470, 75.990),
        (49.600, 117.430),
        (27.480, 88.930),
    ],
)
def test_mainland_points_next_to_the_borders_are_shifted(point):
    assert geo.in_mainland_china(*point)


def test_bounding_box_holds_the_circle():
    box = geo.bounding_box(*PEOPLES_SQUARE, 50_000)
    for bearing in range(0, 360, 15):
        north, east = 50_000 * math.cos(math.radians(bearing)), 50_000 * math.sin(math.radians(bearing))
        lat, lng = moved(*PEOPLES_SQUARE, north * 0.999, east * 0.999)
        assert box.min_lat <= lat <= box.max_lat and box.min_lng <= lng <= box.max_lng
    assert geo.bounding_box(89.9, 0, 50_000).min_lng == -180
    assert geo.bounding_box(0, 179.9, 50_000).max_lng == 180


# --- the query -----------------------------------------------------------------------------------


async def test_stores_come_nearest_first_with_their_distance(api, db, world, token_for):
    near = moved(*PEOPLES_SQUARE, 0, -50)
    await add_store(db, "NEAR", *near)
    await add_store(db, "CLOSED", *moved(*PEOPLES_SQUARE, 10, 10), active=False)
    await add_store(db, "HANGZHOU", 30.2741, 120.1551)
    found = await nearby(api, await token_for("admin"), where(*PEOPLES_SQUARE))
    assert codes(found) == ["NEAR", "S001", "HANGZHOU", "S002"]  # Beijing is over 1,000 km away
    expected = [
        geo.haversine_m(*PEOPLES_SQUARE, *point)
        for point in (near, (31.23, 121.47), (30.2741, 120.1551), (39.90, 116.40))
    ]
    assert [f["distanceMeters"] for f in found] == [round(d) for d in expected]
    assert [f["productsInStock"] for f in found] == [None] * 4


async def test_first_limits_the_list(api, db, world, token_for):
    found = await nearby(api, await token_for("admin"), where(39.9042, 116.4074), first=1)
    assert codes(found) == ["S002"]


async def test_a_store_in_the_box_corner_but_beyond_the_radius_is_not_taken_for_the_nearest(api, db, world, token_for):
    origin = (35.0, 100.0)  # far from the world's stores
    diagonal = moved(*origin, 60_000 / math.sqrt(2), 60_000 / math.sqrt(2))  # in the 50 km box, 60 km away
    await add_store(db, "CORNER", *diagonal)
    await add_store(db, "NORTH", *moved(*origin, 55_000, 0))
    token = await token_for("admin")
    assert codes(await nearby(api, token, where(*origin), first=1)) == ["NORTH"]
    assert codes(await nearby(api, token, where(*origin), first=2)) == ["NORTH", "CORNER"]


async def test_gcj02_input_finds_the_store_of_the_wgs84_point_it_came_from(api, db, world, token_for):
    gcj = geo.wgs84_to_gcj02(*PEOPLES_SQUARE)
    await add_store(db, "TRUE", *moved(*PEOPLES_SQUARE, 0, -20))
    await add_store(db, "DECOY", *gcj)  # where the GCJ-02 point would land if taken as WGS-84
    token = await token_for("admin")
    converted = await nearby(api, token, where(*gcj, "GCJ02"), first=1)
    direct = await nearby(api, token, where(*PEOPLES_SQUARE), first=1)
    assert codes(converted) == codes(direct) == ["TRUE"]
    assert converted[0]["distanceMeters"] == direct[0]["distanceMeters"] == 20
    assert codes(await nearby(api, token, where(*gcj), first=1)) == ["DECOY"]


@pytest.mark.parametrize(
    "point", [(22.2810, 114.1590), (25.0330, 121.5654), (35.6812, 139.7671)], ids=["hong-kong", "taipei", "tokyo"]
)
async def test_gcj02_outside_the_mainland_is_not_shifted(api, db, world, token_for, point):
    await add_store(db, "HERE", *point)
    found = await nearby(api, await token_for("admin"), where(*point, "GCJ02"), first=1)
    assert found == [
        {"store": {"code": "HERE"}, "distanceMeters": 0, "openNow": found[0]["openNow"], "productsInStock": None}
    ]


async def test_service_filter_keeps_the_stores_offering_it(api, db, world, token_for):
    token = await token_for("admin")
    beijing = where(39.9042, 116.4074)
    assert codes(await nearby(api, token, beijing)) == ["S002", "S001"]
    trial = world.gid("Service", "trial")
    assert codes(await nearby(api, token, beijing, service=trial)) == ["S001"]
    assert await nearby(api, token, beijing, service=gid("Service", 999_999)) == []


@pytest.mark.parametrize(
    ("local", "open_now"),
    [
        (MONDAY_NOON, True),
        (MONDAY_NOON.replace(hour=9, minute=59), False),
        (MONDAY_NOON.replace(hour=21, minute=59), True),
        (MONDAY_NOON.replace(hour=22), False),  # closing time
        (MONDAY_NOON.replace(day=13), False),  # Sunday: the world's stores are closed
    ],
)
async def test_open_now_follows_store_local_hours(api, db, world, token_for, clock, local, open_now):
    clock.current = local.astimezone(UTC)
    found = await nearby(api, await token_for("admin"), where(*PEOPLES_SQUARE))
    assert [(f["store"]["code"], f["openNow"]) for f in found] == [("S001", open_now), ("S002", open_now)]


async def test_customers_may_ask(api, world):
    token, _ = await customer(api)
    assert codes(await nearby(api, token, where(*PEOPLES_SQUARE))) == ["S001", "S002"]


async def test_anonymous_callers_are_refused(api, world):
    body = await api(NEARBY, {"location": where(*PEOPLES_SQUARE)})
    assert answered_nothing(body) and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# --- next free slot ------------------------------------------------------------------------------


async def test_next_free_slot_is_the_first_with_a_seat_once_the_lead_time_has_passed(api, db, world, token_for, clock):
    await give_shifts(db, world)  # the Shanghai guide, every day 10:00-22:00; nobody in Beijing
    clock.current = MONDAY_NOON.astimezone(UTC)
    async with db.writer() as session:  # the 12:30 slot is taken (one guide, one seat)
        session.add(
            SlotLedger(
                store_id=world.ids["shanghai"], booked=1, slot_start=MONDAY_NOON.replace(minute=30).astimezone(UTC)
            )
        )
        await session.commit()
    data = await api.data(WITH_SLOT, {"location": where(*PEOPLES_SQUARE)}, await token_for("admin"))
    shanghai, beijing = data["nearbyStores"]
    assert shanghai["nextFreeSlot"] == {
        "start": "2030-01-07T05:00:00Z",
        "localDate": "2030-01-07",
        "localTime": "13:00:00",
        "capacity": 1,
        "remaining": 1,
    }
    assert beijing == {"store": {"code": "S002"}, "nextFreeSlot": None}


async def test_next_free_slot_looks_past_a_closed_day(api, db, world, token_for, clock):
    await give_shifts(db, world)
    clock.current = MONDAY_NOON.replace(day=12, hour=21, minute=45).astimezone(UTC)  # Saturday, too late to book
    data = await api.data(WITH_SLOT, {"location": where(*PEOPLES_SQUARE), "first": 1}, await token_for("admin"))
    slot = data["nearbyStores"][0]["nextFreeSlot"]  # Sunday is closed
    assert (slot["localDate"], slot["localTime"]) == ("2030-01-14", "10:00:00")


async def test_next_free_slot_is_null_without_guides_on_shift(api, db, world, token_for):
    data = await api.data(WITH_SLOT, {"location": where(*PEOPLES_SQUARE)}, await token_for("admin"))
    assert [s["nextFreeSlot"] for s in data["nearbyStores"]] == [None, None]


async def add_guide(
    db,
    store_id: int,
    username: str,
    weekdays=range(7),
    starts: str = "10:00",
    ends: str = "22:00",
    shift_store_id: int | None = None,
) -> int:
    """A guide of the store with a weekly shift on these weekdays (kept at ``shift_store_id`` if given)."""
    async with db.writer() as session:
        guide = StaffUser(
            username=username, display_name=username, role=Role.GUIDE.value, store_id=store_id, password_hash="!"
        )
        session.add(guide)
        await session.flush()
        session.add_all(
            ShiftPattern(staff_id=guide.id, store_id=shift_store_id or store_id, weekday=day, starts=starts, ends=ends)
            for day in weekdays
        )
        await session.commit()
        return guide.id


def local_slots(found: list[dict]) -> dict[str, tuple[str, str] | None]:
    """Store code -> (local date, local time) of its next free slot."""
    return {
        f["store"]["code"]: f["nextFreeSlot"] and (f["nextFreeSlot"]["localDate"], f["nextFreeSlot"]["localTime"])
        for f in found
    }


class StatementCounter:
    """Counts the SQL statements the app's engine runs while active."""

    def __init__(self, api) -> None:
        self.engine = api.app.state.runtime.db.engine.sync_engine
        self.count = 0

    def _seen(self, *_args) -> None:
        self.count += 1

    def __enter__(self) -> StatementCounter:
        sa.event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._seen)


@pytest.mark.parametrize("service", [None, "trial"])
async def test_next_free_slot_statements_do_not_grow_with_the_stores(api, db, world, token_for, clock, service):
    await give_shifts(db, world)  # S001, the nearest, has a free slot today
    clock.current = MONDAY_NOON.astimezone(UTC)
    for n in range(7):  # half with a guide on Wednesdays only, half with nobody: the week's two windows run
        store_id = await add_store(
            db, f"EXTRA{n}", *moved(*PEOPLES_SQUARE, 1000 * (n + 1), 0), service_ids=[world.ids["trial"]]
        )
        if n % 2 == 0:
            await add_guide(db, store_id, f"extra{n}.guide", weekdays=[WEDNESDAY])
    token = await token_for("admin")
    await api.data("{ me { displayName } }", token=token)  # her account is confirmed once, then kept: not counted
    variables = {"location": where(*PEOPLES_SQUARE), "service": world.gid("Service", service) if service else None}
    costs = {}
    for first in (2, 5, 8):
        with StatementCounter(api) as statements:
            found = (await api.data(WITH_SLOT, {**variables, "first": first}, token))["nearbyStores"]
        costs[first] = statements.count
        assert len(found) == first
    assert len(set(costs.values())) == 1, costs
    assert local_slots(found) == {
        "S001": ("2030-01-07", "12:30:00"),
        **{f"EXTRA{n}": ("2030-01-09", "10:00:00") if n % 2 == 0 else None for n in range(7)},
    }


async def test_next_free_slot_of_each_store_is_the_first_free_of_its_available_slots(api, db, world, token_for, clock):
    await give_shifts(db, world)  # every day 10:00-22:00 at S001, whose 12:30 slot is taken
    clock.current = MONDAY_NOON.astimezone(UTC)
    shanghai, monday = world.ids["shanghai"], MONDAY_NOON.date()
    stores = {
        code: await add_store(db, code, *moved(*PEOPLES_SQUARE, 1000 * (n + 1), 0))
        for n, code in enumerate(["FULL", "LEAVE", "EXTRA", "NOBODY"])
    }
    for code in ("FULL", "LEAVE"):
        await add_guide(db, stores[code], f"{code.lower()}.guide")
    extra_guide = await add_guide(db, stores["EXTRA"], "extra.guide", weekdays=[])
    # A guide moved to FULL: his old shifts at NOBODY count nowhere.
    await add_guide(db, stores["FULL"], "moved.guide", shift_store_id=stores["NOBODY"])
    async with db.writer() as session:
        session.add(SlotLedger(store_id=shanghai, booked=1, slot_start=MONDAY_NOON.replace(minute=30).astimezone(UTC)))
        session.add_all(
            CapacityOverride(store_id=stores["FULL"], day=monday + timedelta(days=n), capacity=0) for n in (0, 1)
        )  # FULL takes nobody today and tomorrow
        session.add(
            ShiftException(
                staff_id=await _guide_id(session, "leave.guide"),
                store_id=stores["LEAVE"],
                day=monday,
                kind="LEAVE",
                starts="12:00",
                ends="18:00",
            )
        )
        session.add(
            ShiftException(
                staff_id=extra_guide,
                store_id=stores["EXTRA"],
                day=monday + timedelta(days=3),
                kind="EXTRA",
                starts="14:00",
                ends="16:00",
            )
        )
        await session.commit()
    token = await token_for("admin")
    found = (await api.data(WITH_SLOT, {"location": where(*PEOPLES_SQUARE), "first": 5}, token))["nearbyStores"]
    assert local_slots(found) == {
        "S001": ("2030-01-07", "13:00:00"),
        "FULL": ("2030-01-09", "10:00:00"),
        "LEAVE": ("2030-01-07", "18:00:00"),
        "EXTRA": ("2030-01-10", "14:00:00"),
        "NOBODY": None,
    }
    for store_code, store_id in {"S001": shanghai, **stores}.items():
        week = {"store": gid("Store", store_id), "from": str(monday), "to": str(monday + timedelta(days=6))}
        slots = (await api.data(SLOTS, week, token))["availableSlots"]
        first_free = next(({k: s[k] for k in SLOT_FIELDS} for s in slots if s["remaining"] > 0), None)
        assert next(f["nextFreeSlot"] for f in found if f["store"]["code"] == store_code) == first_free, store_code


async def _guide_id(session, username: str) -> int:
    return (await session.exec(select(StaffUser.id).where(StaffUser.username == username))).one()


async def test_next_free_slots_refuses_as_available_slots_does(db, world, clock):
    clock.current = MONDAY_NOON.astimezone(UTC)
    closed = await add_store(db, "GONE", *PEOPLES_SQUARE, active=False)
    trial, now = world.ids["trial"], clock.now()
    asks = [
        FreeSlotAsked(world.ids["shanghai"], trial, now),
        FreeSlotAsked(world.ids["beijing"], trial, now),
        FreeSlotAsked(closed, None, now),
        FreeSlotAsked(999_999, None, now),
    ]
    async with db.reader() as session:
        found = await next_free_slots(session, asks)
    assert found[asks[0]] is None  # offered, but nobody on shift
    assert [[p.code.name for p in found[ask].problems] for ask in asks[1:]] == [
        ["SERVICE_NOT_OFFERED"],
        ["NOT_FOUND"],
        ["NOT_FOUND"],
    ]


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "field"),
    [
        (where(90.5, 121.0), ["location", "latitude"]),
        (where(-91.0, 121.0), ["location", "latitude"]),
        (where(31.0, 180.5), ["location", "longitude"]),
        (where(31.0, -181.0, "GCJ02"), ["location", "longitude"]),
    ],
)
async def test_out_of_range_coordinates_are_bad_user_input(api, db, world, token_for, location, field):
    before = await count_rows(db, "store")
    extensions = bad_input(await api(NEARBY, {"location": location}, await token_for("admin")))
    assert extensions["reason"] == "OUT_OF_RANGE" and extensions["field"] == field
    assert await count_rows(db, "store") == before


@pytest.mark.parametrize("first", [51, 0, -1])
async def test_first_outside_1_to_50_is_bad_user_input(api, world, token_for, first):
    body = await api(NEARBY, {"location": where(*PEOPLES_SQUARE), "first": first}, await token_for("admin"))
    assert bad_input(body)["field"] == ["first"]


async def test_first_50_is_allowed(api, world, token_for):
    assert len(await nearby(api, await token_for("admin"), where(*PEOPLES_SQUARE), first=50)) == 2


async def test_more_than_20_products_is_bad_user_input(api, world, token_for):
    products = [gid("Product", n) for n in range(1, 22)]
    body = await api(NEARBY, {"location": where(*PEOPLES_SQUARE), "products": products}, await token_for("admin"))
    assert bad_input(body)["field"] == ["productIds"]

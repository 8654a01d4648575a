"""Inventory over GraphQL: adjustments, transfers, the movement ledger, what is where, productsInStock."""

from __future__ import annotations

import pytest

from server.domains.inventory import levels
from server.domains.inventory.models import StockLevel, StockLocation, StockMovement
from server.domains.inventory.services import movement_sum, store_location
from server.domains.stores.models import Store
from tests.server.assertions import assert_forbidden, assert_user_error, count_tables, fetch
from tests.server.bookings.helpers import customer
from tests.server.stores.test_nearby_stores import PEOPLES_SQUARE, StatementCounter, add_store, moved, where
from tests.world import gid

ERRORS = "errors { code field message }"
LEVEL = "onHand reserved available location { code kind } distanceMeters sku { code }"
ADJUST = f"""mutation($input: StockAdjustInput!) {{
  stockAdjust(input: $input) {{ movement {{ quantity reason note reference }} level {{ {LEVEL} }} {ERRORS} }} }}"""
TRANSFER = f"""mutation($input: StockTransferInput!) {{
  stockTransfer(input: $input) {{ movement {{ quantity reason }} level {{ {LEVEL} }} {ERRORS} }} }}"""
INVENTORY = f"""query($sku: ID!, $near: ID) {{ inventory(skuId: $sku, near: $near) {{
  sku {{ code }} here {{ {LEVEL} }} nearbyStores {{ {LEVEL} }} warehouses {{ {LEVEL} }} }} }}"""
MOVEMENTS = """query($location: ID!, $sku: ID) { stockMovements(locationId: $location, skuId: $sku) {
  totalCount edges { node { quantity reason sku { code } location { code } } } } }"""
WAREHOUSE = f"""mutation($input: WarehouseCreateInput!) {{
  warehouseCreate(input: $input) {{
    location {{ code kind city location {{ latitude }} store {{ code }} }} {ERRORS} }} }}"""
NEARBY = """query($location: LocationInput!, $products: [ID!], $first: Int! = 10) {
  nearbyStores(location: $location, productIds: $products, first: $first) { store { code } productsInStock } }"""
TABLES = ("stock_level", "stock_movement", "stock_location", "idempotency_record")


def adjustment(world, reason: str, quantity: int, *, sku="sku:serum", location="loc:shanghai", **more) -> dict:
    return {
        "locationId": world.gid("StockLocation", location),
        "skuId": world.gid("Sku", sku),
        "reason": reason,
        "quantity": quantity,
        **more,
    }


async def adjust(api, token, world, reason: str, quantity: int, **more) -> dict:
    return (await api.data(ADJUST, {"input": adjustment(world, reason, quantity, **more)}, token))["stockAdjust"]


async def level(db, world, sku="sku:serum", location="loc:shanghai") -> tuple[int, int]:
    rows = await fetch(db, StockLevel, sku_id=world.ids[sku], location_id=world.ids[location])
    return (rows[0].on_hand, rows[0].reserved) if rows else (0, 0)


async def ledger_matches(db, world, sku="sku:serum", location="loc:shanghai") -> bool:
    async with db.reader() as session:
        total = await movement_sum(session, world.ids[location], world.ids[sku])
    return total == (await level(db, world, sku, location))[0]


async def test_a_manager_receives_damages_and_counts_stock_and_the_ledger_sums_to_on_hand(api, world, token_for, db):
    token = await token_for("sh.manager")
    received = await adjust(api, token, world, "RECEIPT", 12, note="到货")
    assert received["errors"] == []
    assert received["movement"] == {
        "quantity": 12,
        "reason": "RECEIPT",
        "note": "到货",
        "reference": received["movement"]["reference"],
    }
    assert received["level"]["onHand"] == 12 and received["level"]["available"] == 12
    damaged = await adjust(api, token, world, "DAMAGE", 2)
    assert (damaged["movement"]["quantity"], damaged["level"]["onHand"]) == (-2, 10)
    counted = await adjust(api, token, world, "COUNT", 7)
    assert (counted["movement"]["quantity"], counted["level"]["onHand"]) == (-3, 7)
    agreed = await adjust(api, token, world, "COUNT", 7)
    assert agreed["movement"]["quantity"] == 0  # the count is on record, nothing changed
    assert await level(db, world) == (7, 0)
    assert await ledger_matches(db, world)
    movements = (await api.data(MOVEMENTS, {"location": world.gid("StockLocation", "loc:shanghai")}, token))[
        "stockMovements"
    ]
    assert [edge["node"]["quantity"] for edge in movements["edges"]] == [0, -3, -2, 12]  # newest first


async def test_an_adjustment_is_recorded_once_per_key(api, world, token_for, db):
    token = await token_for("sh.manager")
    first = await adjust(api, token, world, "RECEIPT", 5, idempotencyKey="delivery-1")
    again = await adjust(api, token, world, "RECEIPT", 5, idempotencyKey="delivery-1")
    assert first["movement"] == again["movement"]
    assert await level(db, world) == (5, 0)
    assert len(await fetch(db, StockMovement)) == 1


@pytest.mark.parametrize(
    ("reason", "quantity", "code", "field"),
    [
        ("DAMAGE", 4, "INSUFFICIENT_STOCK", ["input", "quantity"]),  # 3 on hand
        ("TRANSFER_OUT", 4, "INSUFFICIENT_STOCK", ["input", "quantity"]),
        ("SALE", 1, "INVALID_VALUE", ["input", "reason"]),
        ("RETURN", 1, "INVALID_VALUE", ["input", "reason"]),
        ("RECEIPT", 0, "OUT_OF_RANGE", ["input", "quantity"]),
        ("RECEIPT", -5, "OUT_OF_RANGE", ["input", "quantity"]),
        ("RECEIPT", 1_000_001, "OUT_OF_RANGE", ["input", "quantity"]),
        ("COUNT", -1, "OUT_OF_RANGE", ["input", "quantity"]),
    ],
)
async def test_bad_adjustments_are_refused_and_write_nothing(api, world, token_for, db, reason, quantity, code, field):
    token = await token_for("sh.manager")
    await adjust(api, token, world, "RECEIPT", 3)
    before = await count_tables(db, TABLES)
    payload = await adjust(api, token, world, reason, quantity)
    assert_user_error(payload, code, field, "movement")
    assert await count_tables(db, TABLES) == before and await level(db, world) == (3, 0)


async def test_a_note_with_control_characters_and_unknown_ids_are_refused(api, world, token_for, db):
    token = await token_for("sh.manager")
    payload = await adjust(api, token, world, "RECEIPT", 3, note="a\x1bb")
    assert_user_error(payload, "INVALID_FORMAT", ["input", "note"], "movement")
    payload = (
        await api.data(ADJUST, {"input": {**adjustment(world, "RECEIPT", 1), "skuId": gid("Sku", 999999)}}, token)
    )["stockAdjust"]
    assert_user_error(payload, "NOT_FOUND", ["input", "skuId"], "movement")
    payload = (
        await api.data(
            ADJUST, {"input": {**adjustment(world, "RECEIPT", 1), "locationId": gid("StockLocation", 999999)}}, token
        )
    )["stockAdjust"]
    assert_user_error(payload, "NOT_FOUND", ["input", "locationId"], "movement")
    assert await fetch(db, StockMovement) == []


@pytest.mark.parametrize(
    ("username", "location"),
    [
        ("sh.guide", "loc:shanghai"),  # guides sell; managers keep stock
        ("bj.manager", "loc:shanghai"),  # another store's
        ("sh.manager", "warehouse"),  # warehouses are HQ's
        ("analyst", "loc:shanghai"),
        ("ops", "loc:shanghai"),
    ],
)
async def test_only_the_stores_manager_or_hq_admin_adjust_stock(api, world, token_for, db, username, location):
    token = await token_for(username)
    await assert_forbidden(api, ADJUST, {"input": adjustment(world, "RECEIPT", 1, location=location)}, token)
    assert await fetch(db, StockMovement) == []


async def test_hq_admin_keeps_warehouse_stock(api, world, token_for, db):
    payload = await adjust(api, await token_for("admin"), world, "RECEIPT", 50, location="warehouse")
    assert payload["level"]["location"] == {"code": "WH-EAST", "kind": "WAREHOUSE"}
    assert await level(db, world, location="warehouse") == (50, 0)


async def test_a_transfer_moves_available_units_both_ways_at_once(api, world, token_for, db):
    admin = await token_for("admin")
    await adjust(api, admin, world, "RECEIPT", 20, location="warehouse")
    given = {
        "fromLocationId": world.gid("StockLocation", "warehouse"),
        "toLocationId": world.gid("StockLocation", "loc:beijing"),
        "skuId": world.gid("Sku", "sku:serum"),
        "quantity": 8,
    }
    payload = (await api.data(TRANSFER, {"input": given}, admin))["stockTransfer"]
    assert payload["errors"] == [] and payload["movement"] == {"quantity": -8, "reason": "TRANSFER_OUT"}
    assert await level(db, world, location="warehouse") == (12, 0)
    assert await level(db, world, location="loc:beijing") == (8, 0)
    assert await ledger_matches(db, world, location="warehouse")
    assert await ledger_matches(db, world, location="loc:beijing")
    before = await count_tables(db, TABLES)
    too_many = (await api.data(TRANSFER, {"input": {**given, "quantity": 13}}, admin))["stockTransfer"]
    assert_user_error(too_many, "INSUFFICIENT_STOCK", ["input", "quantity"], "movement")
    same = {**given, "toLocationId": given["fromLocationId"]}
    assert_user_error(
        (await api.data(TRANSFER, {"input": same}, admin))["stockTransfer"],
        "SAME_LOCATION",
        ["input", "toLocationId"],
        "movement",
    )
    assert await count_tables(db, TABLES) == before


async def test_a_manager_transfers_only_from_her_own_store(api, world, token_for, db):
    given = {
        "fromLocationId": world.gid("StockLocation", "loc:beijing"),
        "toLocationId": world.gid("StockLocation", "loc:shanghai"),
        "skuId": world.gid("Sku", "sku:serum"),
        "quantity": 1,
    }
    await assert_forbidden(api, TRANSFER, {"input": given}, await token_for("sh.manager"))


async def test_inventory_answers_here_the_nearest_stores_that_have_it_and_the_warehouses(api, world, token_for, db):
    admin = await token_for("admin")
    near_store = await add_store(db, "NEAR", *moved(31.23, 121.47, 0, 3000))  # 3 km from Shanghai
    empty_store = await add_store(db, "EMPTY", *moved(31.23, 121.47, 0, 1000))
    async with db.writer() as session:
        near_location = await store_location(session, await session.get(Store, near_store))
        await store_location(session, await session.get(Store, empty_store))
        await session.commit()
    await adjust(api, admin, world, "RECEIPT", 2, location="loc:shanghai")
    await adjust(api, admin, world, "RECEIPT", 4, location="loc:beijing")
    await adjust(api, admin, world, "RECEIPT", 30, location="warehouse")
    await api.data(
        ADJUST,
        {"input": {**adjustment(world, "RECEIPT", 1), "locationId": gid("StockLocation", near_location.id)}},
        admin,
    )
    guide = await token_for("sh.guide")
    found = (
        await api.data(INVENTORY, {"sku": world.gid("Sku", "sku:serum"), "near": world.gid("Store", "shanghai")}, guide)
    )["inventory"]
    assert found["here"]["onHand"] == 2 and found["here"]["distanceMeters"] == 0
    assert [(s["location"]["code"], s["available"]) for s in found["nearbyStores"]] == [
        ("STORE-NEAR", 1),
        ("STORE-S002", 4),
    ]  # EMPTY, nearer, has none
    assert 2900 < found["nearbyStores"][0]["distanceMeters"] < 3100
    assert [(w["location"]["code"], w["onHand"]) for w in found["warehouses"]] == [("WH-EAST", 30)]
    assert 80_000 < found["warehouses"][0]["distanceMeters"] < 100_000  # Suzhou


async def test_inventory_of_a_sku_never_stocked_here_is_zero_and_unknown_ids_are_bad_input(api, world, token_for):
    guide = await token_for("sh.guide")
    found = (
        await api.data(
            INVENTORY, {"sku": world.gid("Sku", "sku:lip-nude"), "near": world.gid("Store", "shanghai")}, guide
        )
    )["inventory"]
    assert (found["here"]["onHand"], found["nearbyStores"]) == (0, [])
    body = await api(INVENTORY, {"sku": gid("Sku", 999999)}, guide)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_customers_cannot_read_inventory(api, world, token_for):
    token, _customer_id = await customer(api, "13800000001")
    await assert_forbidden(api, INVENTORY, {"sku": world.gid("Sku", "sku:serum")}, token)


async def test_a_warehouse_is_created_by_hq_admin_once_per_code(api, world, token_for, db):
    admin = await token_for("admin")
    given = {"code": "WH-NORTH", "name": "华北仓", "city": "天津", "latitude": 39.08, "longitude": 117.2}
    payload = (await api.data(WAREHOUSE, {"input": given}, admin))["warehouseCreate"]
    assert payload["location"] == {
        "code": "WH-NORTH",
        "kind": "WAREHOUSE",
        "city": "天津",
        "location": {"latitude": 39.08},
        "store": None,
    }
    again = (await api.data(WAREHOUSE, {"input": given}, admin))["warehouseCreate"]
    assert_user_error(again, "DUPLICATE_CODE", ["input", "code"], "location")
    bad = (await api.data(WAREHOUSE, {"input": {**given, "code": "X", "latitude": 91}}, admin))["warehouseCreate"]
    assert {e["field"][-1] for e in bad["errors"]} == {"code", "latitude"}
    await assert_forbidden(api, WAREHOUSE, {"input": {**given, "code": "WH-2"}}, await token_for("sh.manager"))
    assert len(await fetch(db, StockLocation, kind="WAREHOUSE")) == 2


async def test_a_store_created_through_the_api_gets_its_stock_location(api, world, token_for, db):
    create = """mutation($input: StoreCreateInput!) { storeCreate(input: $input) { store { id } errors { code } } }"""
    given = {
        "code": "S009",
        "name": "杭州店",
        "city": "杭州",
        "address": "西湖 1 号",
        "location": {"latitude": 30.27, "longitude": 120.15},
        "timezone": "Asia/Shanghai",
        "openingHours": [{"weekday": "MONDAY", "opens": "10:00:00", "closes": "22:00:00"}],
    }
    body = await api(create, {"input": given}, await token_for("admin"))
    assert body.get("data", {}).get("storeCreate", {}).get("errors") == [], body
    (location,) = await fetch(db, StockLocation, code="STORE-S009")
    assert (location.kind, location.city, round(location.latitude, 2)) == ("STORE", "杭州", 30.27)


async def test_products_in_stock_answers_per_store_in_one_batch(api, world, token_for, db):
    admin = await token_for("admin")
    await adjust(api, admin, world, "RECEIPT", 1, location="loc:shanghai")  # serum in Shanghai
    await adjust(api, admin, world, "RECEIPT", 1, sku="sku:lip-red", location="loc:shanghai")
    await adjust(api, admin, world, "RECEIPT", 3, sku="sku:lip-nude", location="loc:beijing")  # lipstick in Beijing
    both = [world.gid("Product", "serum"), world.gid("Product", "lipstick")]
    variables = {"location": where(*PEOPLES_SQUARE), "products": both}
    found = (await api.data(NEARBY, variables, admin))["nearbyStores"]
    assert [(f["store"]["code"], f["productsInStock"]) for f in found] == [("S001", True), ("S002", False)]
    lipstick_only = {**variables, "products": [world.gid("Product", "lipstick")]}
    found = (await api.data(NEARBY, lipstick_only, admin))["nearbyStores"]
    assert [f["productsInStock"] for f in found] == [True, True]
    assert [
        f["productsInStock"] for f in (await api.data(NEARBY, {**variables, "products": None}, admin))["nearbyStores"]
    ] == [None, None]
    for n in range(6):
        await add_store(db, f"X{n}", *moved(*PEOPLES_SQUARE, 500 * (n + 1), 0))
    costs = {}
    for first in (2, 4, 7):  # all within the first search box
        with StatementCounter(api) as statements:
            await api.data(NEARBY, {**variables, "first": first}, admin)
        costs[first] = statements.count
    assert len(set(costs.values())) == 1, costs


async def test_reserved_units_cannot_be_damaged_or_counted_away(api, world, token_for, db):
    token = await token_for("sh.manager")
    await adjust(api, token, world, "RECEIPT", 5)
    async with db.writer() as session:
        await levels.reserve(session, world.ids["loc:shanghai"], world.ids["sku:serum"], 4)
        await session.commit()
    assert_user_error(
        await adjust(api, token, world, "DAMAGE", 2), "INSUFFICIENT_STOCK", ["input", "quantity"], "movement"
    )
    assert_user_error(
        await adjust(api, token, world, "COUNT", 3), "INSUFFICIENT_STOCK", ["input", "quantity"], "movement"
    )
    assert (await adjust(api, token, world, "DAMAGE", 1))["errors"] == []
    assert await level(db, world) == (4, 4)

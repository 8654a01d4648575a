"""Finding the customer in front of you: a store's customers by name or phone, and the walk-in who
gives her phone number (her visit recorded, her 360° view opened)."""

from __future__ import annotations

from server.domains.identity.events import EventType
from tests.server.assertions import assert_forbidden
from tests.world import gid

from .helpers import event, scalar, send

SEARCH = """query($store: ID!, $search: String!) { storeCustomers(storeId: $store, search: $search) {
  totalCount edges { node { id displayName phone masked } } } }"""
WALK_IN = """mutation($i: CustomerWalkInInput!) { customerWalkIn(input: $i) {
  customer { id displayName phone masked } errors { code field } } }"""


async def customer(db, event_id: str, phone: str, name: str | None, **visit) -> str:
    events = [event(f"{event_id}-p", f"phone:{phone}", kind=EventType.PROFILE_UPDATE, properties={"name": name})]
    if not name:
        events = [event(f"{event_id}-p", f"phone:{phone}")]
    if visit:
        events.append(event(f"{event_id}-v", f"phone:{phone}", kind=EventType.STORE_VISIT, **visit))
    results = await send(db, *events)
    return gid("Customer", results[0].person_id)


async def found(api, token: str, store: str, search: str) -> list[str]:
    body = (await api.data(SEARCH, {"store": store, "search": search}, token))["storeCustomers"]
    return [edge["node"]["id"] for edge in body["edges"]]


async def test_a_guide_finds_her_stores_customers_by_name_or_phone_digits(api, db, world, token_for):
    shanghai, beijing = world.ids["shanghai"], world.ids["beijing"]
    ann = await customer(db, "ann", "13812345678", "王小美", store_id=shanghai)
    await customer(db, "bea", "13912345678", "王小丽", store_id=beijing)  # another store's customer
    await customer(db, "cat", "13712340000", "李娜")  # in no store's care
    guide, store = await token_for("sh.guide"), world.gid("Store", "shanghai")
    assert await found(api, guide, store, "王小") == [ann]
    assert await found(api, guide, store, "5678") == [ann]
    assert await found(api, guide, store, "138 1234 5678") == [ann]
    assert await found(api, guide, store, "李娜") == []
    assert await found(api, guide, store, "%%") == []  # wildcards are literal
    audited = await scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'customer.read_unmasked'")
    assert audited == 3  # each customer listed, each time


async def test_a_search_lists_her_unmasked_and_leaves_erased_and_merged_customers_out(api, db, world, token_for):
    ann = await customer(db, "ann", "13812345678", "王小美", store_id=world.ids["shanghai"])
    [listed] = (
        await api.data(SEARCH, {"store": world.gid("Store", "shanghai"), "search": "小美"}, await token_for("sh.guide"))
    )["storeCustomers"]["edges"]
    assert listed["node"] == {"id": ann, "displayName": "王小美", "phone": "+8613812345678", "masked": False}
    erase = "mutation($id: ID!) { personErase(input: {customerId: $id}) { errors { code } } }"
    assert (await api.data(erase, {"id": ann}, await token_for("admin")))["personErase"]["errors"] == []
    assert await found(api, await token_for("sh.guide"), world.gid("Store", "shanghai"), "5678") == []


async def test_only_the_stores_staff_and_hq_search_it_and_a_search_is_2_to_50_characters(api, world, token_for):
    store = world.gid("Store", "shanghai")
    await assert_forbidden(api, SEARCH, {"store": store, "search": "王小"}, await token_for("bj.guide"))
    await assert_forbidden(api, SEARCH, {"store": store, "search": "王小"}, await token_for("analyst"))
    assert await found(api, await token_for("admin"), store, "王小") == []
    for bad in ("王", "x" * 51, "王\u202e小"):
        body = await api(SEARCH, {"store": store, "search": bad}, await token_for("sh.guide"))
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", bad


async def test_a_walk_in_is_recorded_once_a_day_and_her_story_opens(api, db, world, token_for, clock):
    guide, store = await token_for("sh.guide"), world.gid("Store", "shanghai")
    walk_in = {"storeId": store, "phone": "139 0000 1111"}
    first = (await api.data(WALK_IN, {"i": walk_in}, guide))["customerWalkIn"]
    assert first["errors"] == [] and first["customer"]["phone"] == "+8613900001111"
    assert first["customer"]["masked"] is False
    again = (await api.data(WALK_IN, {"i": walk_in}, guide))["customerWalkIn"]
    assert again["customer"]["id"] == first["customer"]["id"]
    visits = "SELECT count(*) FROM customer_event WHERE type = 'STORE_VISIT' AND store_id = :s"
    assert await scalar(db, visits, s=world.ids["shanghai"]) == 1
    assert await found(api, guide, store, "1111") == [first["customer"]["id"]]  # in the store's care now


async def test_a_known_customer_walking_in_keeps_her_story(api, db, world, token_for):
    ann = await customer(db, "ann", "13812345678", "王小美")  # known to OneID, never at this store
    walked = (
        await api.data(
            WALK_IN,
            {"i": {"storeId": world.gid("Store", "shanghai"), "phone": "13812345678"}},
            await token_for("sh.guide"),
        )
    )["customerWalkIn"]
    assert walked["customer"]["id"] == ann and walked["customer"]["displayName"] == "王小美"


async def test_a_bad_walk_in_writes_nothing(api, db, world, token_for):
    guide = await token_for("sh.guide")
    bad_phone = {"storeId": world.gid("Store", "shanghai"), "phone": "12"}
    refused = (await api.data(WALK_IN, {"i": bad_phone}, guide))["customerWalkIn"]
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID_PHONE", ["input", "phone"])]
    await assert_forbidden(
        api, WALK_IN, {"i": {"storeId": world.gid("Store", "beijing"), "phone": "13900001111"}}, guide
    )
    unknown = {"storeId": gid("Store", 9999), "phone": "13900001111"}
    missing = (await api.data(WALK_IN, {"i": unknown}, await token_for("admin")))["customerWalkIn"]
    assert [(e["code"], e["field"]) for e in missing["errors"]] == [("NOT_FOUND", ["input", "storeId"])]
    assert await scalar(db, "SELECT count(*) FROM customer_event") == 0
    assert await scalar(db, "SELECT count(*) FROM person") == 0

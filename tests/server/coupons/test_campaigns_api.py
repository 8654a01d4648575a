"""Coupon campaigns through the API: creation, every refused input (nothing written), changes, reads."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.domains.coupons.models import CouponCampaign
from server.domains.livestreams.models import LivestreamStatus
from server.outbox import OutboxMessage
from tests.conftest import answered_nothing, count_rows
from tests.server.assertions import assert_forbidden, assert_user_error, fetch
from tests.server.bookings.helpers import customer
from tests.world import gid

from .helpers import CREATE, UPDATE, add_livestream, campaign_input, claim, create_campaign, iso

pytestmark = pytest.mark.usefixtures("world")

CAMPAIGNS = """query($livestream: ID, $first: Int, $after: String) {
  couponCampaigns(livestreamId: $livestream, first: $first, after: $after) {
    totalCount edges { node { name remaining } } pageInfo { hasNextPage endCursor } } }"""
ONE = """query($id: ID!) { couponCampaign(id: $id) { name active } }"""
NODE = """query($id: ID!) { node(id: $id) { __typename ... on CouponCampaign { name } } }"""
LIVESTREAM_CAMPAIGNS = """query($id: ID!) { node(id: $id) { ... on Livestream {
  couponCampaigns { totalCount edges { node { name remaining claimable } } } } } }"""


@pytest.fixture
async def live(db, world, clock) -> int:
    return await add_livestream(db, world, clock)


async def test_livestream_ops_start_a_fixed_campaign(api, db, world, clock, token_for, live):
    ops = await token_for("ops")
    extra = {
        "perCustomerLimit": 2,
        "channel": "IN_STORE_ONLY",
        "productIds": [world.gid("Product", "serum")],
        "categoryIds": [world.gid("ProductCategory", "makeup")],
        "storeIds": [world.gid("Store", "shanghai")],
        "idempotencyKey": "k1",
    }
    campaign = await create_campaign(api, ops, world, live, clock, **extra)
    assert campaign["discount"] == {
        "kind": "FIXED",
        "amountOff": {"amount": 2000, "currency": "CNY"},
        "percentOff": None,
        "maxDiscount": None,
        "minSpend": None,
    }
    assert (campaign["totalStock"], campaign["claimed"], campaign["remaining"]) == (100, 0, 100)
    assert (campaign["perCustomerLimit"], campaign["channel"], campaign["active"]) == (2, "IN_STORE_ONLY", True)
    assert campaign["products"] == [{"sku": "SERUM-01"}] and campaign["categories"] == [{"code": "MAKEUP"}]
    assert campaign["stores"] == [{"code": "S001"}] and campaign["claimable"] is True
    [row] = await fetch(db, CouponCampaign)
    assert (row.discount_kind, row.amount_off, row.currency, row.created_by) == (
        "FIXED",
        2000,
        "CNY",
        f"staff:{world.ids['ops']}",
    )
    assert (row.product_ids, row.category_ids, row.store_ids) == (
        [world.ids["serum"]],
        [world.ids["makeup"]],
        [world.ids["shanghai"]],
    )


async def test_percent_and_threshold_campaigns_keep_their_own_values(api, db, world, clock, token_for, live):
    admin = await token_for("admin")
    percent = {"kind": "PERCENT", "percentOff": 15, "maxDiscount": {"amount": 5000}}
    threshold = {"kind": "THRESHOLD", "minSpend": {"amount": 30000}, "amountOff": {"amount": 5000}}
    made = [await create_campaign(api, admin, world, live, clock, discount=d) for d in (percent, threshold)]
    assert made[0]["discount"] == {
        "kind": "PERCENT",
        "amountOff": None,
        "percentOff": 15,
        "maxDiscount": {"amount": 5000},
        "minSpend": None,
    }
    assert made[1]["discount"]["minSpend"] == {"amount": 30000}
    assert made[1]["discount"]["amountOff"] == {"amount": 5000, "currency": "CNY"}
    rows = sorted(await fetch(db, CouponCampaign), key=lambda r: r.id)
    assert [(r.discount_kind, r.amount_off, r.percent_off, r.max_discount, r.min_spend) for r in rows] == [
        ("PERCENT", 0, 15, 5000, 0),
        ("THRESHOLD", 5000, 0, 0, 30000),
    ]


async def test_a_retry_with_the_same_key_returns_the_first_campaign(api, db, world, clock, token_for, live):
    ops = await token_for("ops")
    first = await create_campaign(api, ops, world, live, clock, idempotencyKey="same")
    again = await create_campaign(api, ops, world, live, clock, idempotencyKey="same")
    assert again["id"] == first["id"] and await count_rows(db, "coupon_campaign") == 1
    other = campaign_input(world, live, clock, idempotencyKey="same", totalStock=5)
    payload = (await api.data(CREATE, {"input": other}, ops))["couponCampaignCreate"]
    assert_user_error(payload, "IDEMPOTENCY_KEY_REUSED", ["input", "idempotencyKey"], "campaign")
    assert await count_rows(db, "coupon_campaign") == 1


@pytest.mark.parametrize("username", ["sh.guide", "sh.manager", "analyst"])
async def test_other_staff_may_not_start_a_campaign(api, db, world, clock, token_for, live, username):
    await assert_forbidden(api, CREATE, {"input": campaign_input(world, live, clock)}, await token_for(username))
    assert await count_rows(db, "coupon_campaign") == 0


async def test_a_customer_may_not_start_a_campaign(api, db, world, clock, live):
    token, _ = await customer(api)
    await assert_forbidden(api, CREATE, {"input": campaign_input(world, live, clock)}, token)
    assert await count_rows(db, "coupon_campaign") == 0


def _fixed(amount=2000, currency="CNY", **extra):
    return {"kind": "FIXED", "amountOff": {"amount": amount, "currency": currency}, **extra}


BAD_INPUTS = {
    "blank name": ({"name": "  "}, "REQUIRED", ["name"]),
    "long name": ({"name": "券" * 65}, "TOO_LONG", ["name"]),
    "escape in name": ({"name": "\x1b[31m红\x1b[0m"}, "INVALID_FORMAT", ["name"]),
    "bidi override in name": ({"name": "\u202eevil"}, "INVALID_FORMAT", ["name"]),
    "unknown livestream": ({"livestreamId": gid("Livestream", 999)}, "NOT_FOUND", ["livestreamId"]),
    "livestream id of another type": ({"livestreamId": gid("Store", 1)}, "NOT_FOUND", ["livestreamId"]),
    "fixed without amountOff": ({"discount": {"kind": "FIXED"}}, "REQUIRED", ["discount", "amountOff"]),
    "fixed with percentOff": ({"discount": _fixed(percentOff=10)}, "INVALID_DISCOUNT", ["discount", "percentOff"]),
    "fixed with minSpend": (
        {"discount": _fixed(minSpend={"amount": 9000})},
        "INVALID_DISCOUNT",
        ["discount", "minSpend"],
    ),
    "amountOff 0": ({"discount": _fixed(0)}, "OUT_OF_RANGE", ["discount", "amountOff", "amount"]),
    "negative amountOff": ({"discount": _fixed(-100)}, "OUT_OF_RANGE", ["discount", "amountOff", "amount"]),
    "amountOff beyond 100 million yuan": (
        {"discount": _fixed(10_000_000_001)},
        "OUT_OF_RANGE",
        ["discount", "amountOff", "amount"],
    ),
    "amountOff in dollars": (
        {"discount": _fixed(currency="USD")},
        "INVALID_CURRENCY",
        ["discount", "amountOff", "currency"],
    ),
    "percent 0": (
        {"discount": {"kind": "PERCENT", "percentOff": 0, "maxDiscount": {"amount": 100}}},
        "OUT_OF_RANGE",
        ["discount", "percentOff"],
    ),
    "percent 91": (
        {"discount": {"kind": "PERCENT", "percentOff": 91, "maxDiscount": {"amount": 100}}},
        "OUT_OF_RANGE",
        ["discount", "percentOff"],
    ),
    "percent without cap": (
        {"discount": {"kind": "PERCENT", "percentOff": 10}},
        "REQUIRED",
        ["discount", "maxDiscount"],
    ),
    "percent without percentOff": (
        {"discount": {"kind": "PERCENT", "maxDiscount": {"amount": 100}}},
        "REQUIRED",
        ["discount", "percentOff"],
    ),
    "percent with amountOff": (
        {"discount": {"kind": "PERCENT", "percentOff": 10, "maxDiscount": {"amount": 100}, "amountOff": {"amount": 1}}},
        "INVALID_DISCOUNT",
        ["discount", "amountOff"],
    ),
    "cap in dollars": (
        {"discount": {"kind": "PERCENT", "percentOff": 10, "maxDiscount": {"amount": 100, "currency": "USD"}}},
        "INVALID_CURRENCY",
        ["discount", "maxDiscount", "currency"],
    ),
    "threshold not above amountOff": (
        {"discount": {"kind": "THRESHOLD", "minSpend": {"amount": 5000}, "amountOff": {"amount": 5000}}},
        "INVALID_DISCOUNT",
        ["discount", "amountOff"],
    ),
    "threshold without minSpend": (
        {"discount": {"kind": "THRESHOLD", "amountOff": {"amount": 5000}}},
        "REQUIRED",
        ["discount", "minSpend"],
    ),
    "threshold minSpend 0": (
        {"discount": {"kind": "THRESHOLD", "minSpend": {"amount": 0}, "amountOff": {"amount": 5000}}},
        "OUT_OF_RANGE",
        ["discount", "minSpend", "amount"],
    ),
    "no stock": ({"totalStock": 0}, "OUT_OF_RANGE", ["totalStock"]),
    "too much stock": ({"totalStock": 1_000_001}, "OUT_OF_RANGE", ["totalStock"]),
    "per-customer limit 0": ({"perCustomerLimit": 0}, "OUT_OF_RANGE", ["perCustomerLimit"]),
    "per-customer limit 11": ({"perCustomerLimit": 11}, "OUT_OF_RANGE", ["perCustomerLimit"]),
    "unknown product": ({"productIds": [gid("Product", 999)]}, "NOT_FOUND", ["productIds", "0"]),
    "unknown category": ({"categoryIds": [gid("ProductCategory", 999)]}, "NOT_FOUND", ["categoryIds", "0"]),
    "unknown second store": ({"storeIds": ["STORE:shanghai", gid("Store", 999)]}, "NOT_FOUND", ["storeIds", "1"]),
    "a store twice": ({"storeIds": ["STORE:shanghai", "STORE:shanghai"]}, "INVALID_VALUE", ["storeIds", "1"]),
    "too many products": ({"productIds": [gid("Product", n) for n in range(1, 102)]}, "TOO_MANY", ["productIds"]),
    "blank idempotency key": ({"idempotencyKey": ""}, "INVALID_VALUE", ["idempotencyKey"]),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
async def test_each_bad_input_is_refused_on_its_field_and_nothing_is_written(
    api, db, world, clock, token_for, live, case
):
    overrides, code, field = BAD_INPUTS[case]
    overrides = {
        name: [world.gid("Store", "shanghai") if v == "STORE:shanghai" else v for v in value]
        if isinstance(value, list)
        else value
        for name, value in overrides.items()
    }
    payload = (
        await api.data(CREATE, {"input": campaign_input(world, live, clock, **overrides)}, await token_for("ops"))
    )["couponCampaignCreate"]
    assert_user_error(payload, code, ["input", *field], "campaign")
    assert await count_rows(db, "coupon_campaign") == 0
    assert await count_rows(db, "idempotency_record") == 0


async def test_validity_must_end_after_it_starts_and_in_the_future(api, db, world, clock, token_for, live):
    ops, now = await token_for("ops"), clock.now()
    for start, end in [(now, now), (now + timedelta(days=2), now + timedelta(days=1)), (now - timedelta(days=2), now)]:
        variables = {"input": campaign_input(world, live, clock, validFrom=iso(start), validUntil=iso(end))}
        payload = (await api.data(CREATE, variables, ops))["couponCampaignCreate"]
        assert_user_error(payload, "INVALID_VALIDITY", ["input", "validUntil"], "campaign")
    assert await count_rows(db, "coupon_campaign") == 0


@pytest.mark.parametrize("status", [LivestreamStatus.ENDED, LivestreamStatus.CANCELLED])
async def test_an_ended_or_cancelled_livestream_takes_no_campaign(api, db, world, clock, token_for, status):
    over = await add_livestream(db, world, clock, status)
    payload = (await api.data(CREATE, {"input": campaign_input(world, over, clock)}, await token_for("ops")))[
        "couponCampaignCreate"
    ]
    assert_user_error(payload, "LIVESTREAM_ENDED", ["input", "livestreamId"], "campaign")
    assert await count_rows(db, "coupon_campaign") == 0


async def test_every_problem_of_an_input_is_told_at_once(api, db, world, clock, token_for, live):
    bad = campaign_input(world, live, clock, name="", totalStock=0, perCustomerLimit=99, discount={"kind": "FIXED"})
    payload = (await api.data(CREATE, {"input": bad}, await token_for("ops")))["couponCampaignCreate"]
    assert sorted((e["code"], tuple(e["field"])) for e in payload["errors"]) == [
        ("OUT_OF_RANGE", ("input", "perCustomerLimit")),
        ("OUT_OF_RANGE", ("input", "totalStock")),
        ("REQUIRED", ("input", "discount", "amountOff")),
        ("REQUIRED", ("input", "name")),
    ]
    assert await count_rows(db, "coupon_campaign") == 0


@pytest.mark.parametrize(
    "overrides",
    [
        {"storeIds": [gid("Store", 99999999999999999999)]},
        {"livestreamId": "!!!"},
        {"validUntil": "9999-12-31T23:59:59Z"},
        {"validFrom": "2026-12-01T10:00:00"},
        {"totalStock": 2**31},
        {"discount": _fixed(2**53 + 1)},
    ],
)
async def test_hostile_values_are_bad_user_input_not_internal_errors(api, db, world, clock, token_for, live, overrides):
    body = await api(CREATE, {"input": campaign_input(world, live, clock, **overrides)}, await token_for("ops"))
    assert answered_nothing(body), body
    # A value the schema refuses (a variable that is no 32-bit Int) is GraphQL's own error, without a code.
    assert body["errors"][0].get("extensions", {"code": "BAD_USER_INPUT"})["code"] == "BAD_USER_INPUT", body
    assert "Internal error" not in str(body)
    assert await count_rows(db, "coupon_campaign") == 0


# --- changes --------------------------------------------------------------------------------------


async def test_ops_switch_a_campaign_off_move_its_validity_and_change_its_stock(api, db, world, clock, token_for, live):
    ops = await token_for("ops")
    campaign = await create_campaign(api, ops, world, live, clock)
    until = clock.now() + timedelta(days=3)
    changes = {"id": campaign["id"], "active": False, "validUntil": iso(until), "totalStock": 7, "name": "改名"}
    payload = (await api.data(UPDATE, {"input": changes}, ops))["couponCampaignUpdate"]
    assert payload["errors"] == []
    assert (payload["campaign"]["active"], payload["campaign"]["totalStock"], payload["campaign"]["name"]) == (
        False,
        7,
        "改名",
    )
    [row] = await fetch(db, CouponCampaign)
    assert (row.active, row.valid_until, row.total_stock) == (False, until, 7)
    [event] = await fetch(db, OutboxMessage, topic=f"coupons.campaign:{row.id}")
    assert (event.event, event.payload) == ("UPDATED", {"campaignId": row.id, "active": False, "remaining": 7})


async def test_stock_cannot_go_below_what_was_claimed(api, db, world, clock, token_for, live):
    ops = await token_for("ops")
    campaign = await create_campaign(api, ops, world, live, clock)
    for phone in ("13800000001", "13800000002"):
        token, _ = await customer(api, phone)
        assert (await claim(api, token, campaign["id"]))["errors"] == []
    payload = (await api.data(UPDATE, {"input": {"id": campaign["id"], "totalStock": 1}}, ops))["couponCampaignUpdate"]
    assert_user_error(payload, "STOCK_BELOW_CLAIMED", ["input", "totalStock"], "campaign")
    payload = (await api.data(UPDATE, {"input": {"id": campaign["id"], "totalStock": 2}}, ops))["couponCampaignUpdate"]
    assert payload["campaign"]["remaining"] == 0
    [row] = await fetch(db, CouponCampaign)
    assert (row.total_stock, row.claimed) == (2, 2)


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"totalStock": 0}, "OUT_OF_RANGE", ["totalStock"]),
        ({"totalStock": 1_000_001}, "OUT_OF_RANGE", ["totalStock"]),
        ({"validUntil": "2020-01-01T00:00:00Z"}, "INVALID_VALIDITY", ["validUntil"]),
        ({"name": "a\x07b"}, "INVALID_FORMAT", ["name"]),
    ],
)
async def test_a_bad_change_is_refused_and_nothing_changes(
    api, db, world, clock, token_for, live, changes, code, field
):
    ops = await token_for("ops")
    campaign = await create_campaign(api, ops, world, live, clock)
    payload = (await api.data(UPDATE, {"input": {"id": campaign["id"], "active": False, **changes}}, ops))[
        "couponCampaignUpdate"
    ]
    assert_user_error(payload, code, ["input", *field], "campaign")
    [row] = await fetch(db, CouponCampaign)
    assert (row.active, row.total_stock, row.name) == (True, 100, "直播专享 ¥20")
    assert await count_rows(db, "outbox") == 0


async def test_changing_an_unknown_campaign_is_not_found(api, world, token_for):
    payload = (
        await api.data(UPDATE, {"input": {"id": gid("CouponCampaign", 42), "active": False}}, await token_for("ops"))
    )["couponCampaignUpdate"]
    assert_user_error(payload, "NOT_FOUND", ["input", "id"], "campaign")


async def test_only_ops_and_hq_admins_change_campaigns(api, db, world, clock, token_for, live):
    campaign = await create_campaign(api, await token_for("ops"), world, live, clock)
    for username in ("sh.manager", "analyst"):
        variables = {"input": {"id": campaign["id"], "active": False}}
        await assert_forbidden(api, UPDATE, variables, await token_for(username))
    [row] = await fetch(db, CouponCampaign)
    assert row.active is True


# --- reads ----------------------------------------------------------------------------------------


async def test_staff_list_campaigns_by_livestream_page_by_page(api, db, world, clock, token_for, live):
    ops = await token_for("ops")
    other = await add_livestream(db, world, clock)
    for name in ("A", "B", "C"):
        await create_campaign(api, ops, world, live, clock, name=name)
    await create_campaign(api, ops, world, other, clock, name="other")
    first = (await api.data(CAMPAIGNS, {"livestream": gid("Livestream", live), "first": 2}, ops))["couponCampaigns"]
    assert [e["node"]["name"] for e in first["edges"]] == ["A", "B"] and first["totalCount"] == 3
    after = first["pageInfo"]["endCursor"]
    rest = (await api.data(CAMPAIGNS, {"livestream": gid("Livestream", live), "after": after}, ops))["couponCampaigns"]
    assert [e["node"]["name"] for e in rest["edges"]] == ["C"]
    every = (await api.data(CAMPAIGNS, {}, await token_for("sh.guide")))["couponCampaigns"]
    assert every["totalCount"] == 4


async def test_customers_do_not_list_every_campaign(api, world):
    token, _ = await customer(api)
    await assert_forbidden(api, CAMPAIGNS, {}, token)


async def test_customers_see_a_switched_off_campaign_as_null_staff_see_it(api, world, clock, token_for, live, db):
    ops = await token_for("ops")
    on = await create_campaign(api, ops, world, live, clock, name="on")
    off = await create_campaign(api, ops, world, live, clock, name="off")
    await api.data(UPDATE, {"input": {"id": off["id"], "active": False}}, ops)
    token, _ = await customer(api)
    assert (await api.data(ONE, {"id": on["id"]}, token))["couponCampaign"] == {"name": "on", "active": True}
    assert (await api.data(ONE, {"id": off["id"]}, token))["couponCampaign"] is None
    assert (await api.data(NODE, {"id": off["id"]}, token))["node"] is None
    assert (await api.data(NODE, {"id": off["id"]}, ops))["node"] == {"__typename": "CouponCampaign", "name": "off"}
    assert (await api.data(ONE, {"id": gid("CouponCampaign", 999)}, ops))["couponCampaign"] is None


async def test_a_livestream_shows_customers_its_open_campaigns_with_their_stock(api, db, world, clock, token_for, live):
    ops = await token_for("ops")
    open_one = await create_campaign(api, ops, world, live, clock, name="open", totalStock=3)
    off = await create_campaign(api, ops, world, live, clock, name="off")
    await api.data(UPDATE, {"input": {"id": off["id"], "active": False}}, ops)
    token, _ = await customer(api)
    assert (await claim(api, token, open_one["id"]))["errors"] == []
    seen = (await api.data(LIVESTREAM_CAMPAIGNS, {"id": gid("Livestream", live)}, token))["node"]["couponCampaigns"]
    assert seen["totalCount"] == 1
    assert [e["node"] for e in seen["edges"]] == [{"name": "open", "remaining": 2, "claimable": True}]
    staff = (await api.data(LIVESTREAM_CAMPAIGNS, {"id": gid("Livestream", live)}, ops))["node"]["couponCampaigns"]
    assert [e["node"]["name"] for e in staff["edges"]] == ["open", "off"]

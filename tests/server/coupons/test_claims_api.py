"""Claiming coupons through the API: the rules, what is written, her coupons and the guide's view of them."""

from __future__ import annotations

import re
from datetime import timedelta

import jwt
import pytest
import sqlalchemy as sa

from server.domains.coupons.models import Coupon, CouponCampaign, CouponClaimCount
from server.domains.coupons.services import AppliedCoupon, redeem
from server.domains.identity.models import CustomerEvent
from server.domains.livestreams.models import Livestream, LivestreamStatus
from server.outbox import OutboxMessage
from tests.conftest import TEST_SECRET, answered_nothing, count_rows
from tests.server.assertions import assert_forbidden, assert_user_error, fetch
from tests.server.bookings.helpers import customer
from tests.world import gid

from .helpers import (
    CLAIM,
    CUSTOMER_COUPONS,
    MY_COUPONS,
    UPDATE,
    add_livestream,
    claim,
    create_campaign,
    iso,
    row_id,
    visited,
)

pytestmark = pytest.mark.usefixtures("world")

WRITTEN = ("coupon", "coupon_claim_count", "customer_event", "outbox", "idempotency_record")
NODE = """query($id: ID!) { node(id: $id) { ... on Coupon { code status } } }"""


@pytest.fixture
async def live(db, world, clock) -> int:
    return await add_livestream(db, world, clock)


@pytest.fixture
async def campaign(api, world, clock, token_for, live) -> dict:
    return await create_campaign(api, await token_for("ops"), world, live, clock)


async def written(db) -> dict[str, int]:
    return {table: await count_rows(db, table) for table in WRITTEN}


async def claimed(db) -> int:
    [row] = await fetch(db, CouponCampaign)
    return row.claimed


async def test_a_customer_claims_a_coupon_on_her_timeline_and_the_campaign_topic(api, db, world, clock, campaign, live):
    token, customer_gid = await customer(api)
    person = row_id(customer_gid)
    payload = await claim(api, token, campaign["id"])
    assert payload["errors"] == []
    coupon = payload["coupon"]
    assert re.fullmatch(r"[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{10}", coupon["code"])
    assert (coupon["status"], coupon["usable"], coupon["redeemedAt"]) == ("ISSUED", True, None)
    assert coupon["campaign"]["remaining"] == 99
    claims = jwt.decode(coupon["qrToken"], TEST_SECRET, algorithms=["HS256"], audience="coupon")
    assert claims["sub"] == coupon["code"]
    [row] = await fetch(db, Coupon)
    assert (row.code, row.person_id, row.status, row.claimed_at) == (coupon["code"], person, "ISSUED", clock.now())
    [counter] = await fetch(db, CouponClaimCount)
    assert (counter.person_id, counter.claimed) == (person, 1)
    assert await claimed(db) == 1
    [event] = await fetch(db, CustomerEvent, type="COUPON_CLAIM")
    assert (event.person_id, event.event_key, event.source, event.livestream_id) == (
        person,
        f"coupon:{row.id}",
        "coupons",
        live,
    )
    [message] = await fetch(db, OutboxMessage, topic=f"coupons.campaign:{row.campaign_id}")
    assert message.event == "CLAIMED"
    assert message.payload == {
        "campaignId": row.campaign_id,
        "couponId": row.id,
        "livestreamId": live,
        "claimed": 1,
        "remaining": 99,
    }


@pytest.mark.parametrize("username", ["admin", "ops", "sh.guide"])
async def test_staff_may_not_claim(api, db, token_for, campaign, username):
    variables = {"input": {"campaignId": campaign["id"]}}
    await assert_forbidden(api, CLAIM, variables, await token_for(username))
    assert await count_rows(db, "coupon") == 0 and await claimed(db) == 0


async def test_claiming_needs_a_signed_in_customer(api, db, campaign):
    body = await api(CLAIM, {"input": {"campaignId": campaign["id"]}})
    assert answered_nothing(body) and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await count_rows(db, "coupon") == 0


async def test_a_retry_with_the_same_key_returns_the_same_coupon(api, db, campaign):
    token, _ = await customer(api)
    first = await claim(api, token, campaign["id"], key="tap-1")
    again = await claim(api, token, campaign["id"], key="tap-1")
    assert again["errors"] == [] and again["coupon"]["id"] == first["coupon"]["id"]
    assert again["coupon"]["code"] == first["coupon"]["code"]
    assert (await count_rows(db, "coupon"), await claimed(db)) == (1, 1)
    assert len(await fetch(db, CustomerEvent, type="COUPON_CLAIM")) == 1


async def test_a_key_used_for_another_campaign_is_refused(api, db, world, clock, token_for, live, campaign):
    other = await create_campaign(api, await token_for("ops"), world, live, clock, name="other")
    token, _ = await customer(api)
    await claim(api, token, campaign["id"], key="tap")
    payload = await claim(api, token, other["id"], key="tap")
    assert_user_error(payload, "IDEMPOTENCY_KEY_REUSED", ["input", "idempotencyKey"], "coupon")
    assert await count_rows(db, "coupon") == 1


async def test_she_claims_up_to_the_per_customer_limit(api, db, world, clock, token_for, live):
    limited = await create_campaign(api, await token_for("ops"), world, live, clock, perCustomerLimit=2)
    token, _ = await customer(api)
    assert [(await claim(api, token, limited["id"]))["errors"] for _ in range(2)] == [[], []]
    before = await written(db)
    payload = await claim(api, token, limited["id"])
    assert_user_error(payload, "CLAIM_LIMIT_REACHED", ["input", "campaignId"], "coupon")
    assert await written(db) == before and await claimed(db) == 2
    [counter] = await fetch(db, CouponClaimCount)
    assert counter.claimed == 2


async def test_the_last_coupon_goes_to_the_first_and_then_it_is_sold_out(api, db, world, clock, token_for, live):
    scarce = await create_campaign(api, await token_for("ops"), world, live, clock, totalStock=1)
    first, _ = await customer(api, "13800000001")
    second, _ = await customer(api, "13800000002")
    assert (await claim(api, first, scarce["id"]))["errors"] == []
    before = await written(db)
    payload = await claim(api, second, scarce["id"])
    assert_user_error(payload, "SOLD_OUT", ["input", "campaignId"], "coupon")
    assert await written(db) == before and await claimed(db) == 1


async def test_a_switched_off_campaign_gives_no_coupon(api, db, token_for, campaign):
    await api.data(UPDATE, {"input": {"id": campaign["id"], "active": False}}, await token_for("ops"))
    token, _ = await customer(api)
    before = await written(db)
    assert_user_error(await claim(api, token, campaign["id"]), "CAMPAIGN_INACTIVE", ["input", "campaignId"], "coupon")
    assert await written(db) == before


async def test_a_campaign_past_its_validity_gives_no_coupon(api, db, clock, token_for, campaign):
    past = {"validFrom": iso(clock.now() - timedelta(days=2)), "validUntil": iso(clock.now() - timedelta(days=1))}
    await api.data(UPDATE, {"input": {"id": campaign["id"], **past}}, await token_for("ops"))
    token, _ = await customer(api)
    before = await written(db)
    assert_user_error(await claim(api, token, campaign["id"]), "CAMPAIGN_ENDED", ["input", "campaignId"], "coupon")
    assert await written(db) == before


async def test_claims_open_within_the_scheduled_window_even_before_it_goes_live(api, db, world, clock, token_for):
    now = clock.now()
    window = await add_livestream(db, world, clock, LivestreamStatus.SCHEDULED)
    later = await add_livestream(
        db, world, clock, LivestreamStatus.SCHEDULED, start=now + timedelta(hours=1), end=now + timedelta(hours=3)
    )
    ops = await token_for("ops")
    in_window = await create_campaign(api, ops, world, window, clock, name="now")
    too_early = await create_campaign(api, ops, world, later, clock, name="later")
    token, _ = await customer(api)
    assert (await claim(api, token, in_window["id"]))["errors"] == []
    payload = await claim(api, token, too_early["id"])
    assert_user_error(payload, "LIVESTREAM_NOT_LIVE", ["input", "campaignId"], "coupon")
    assert await count_rows(db, "coupon") == 1


@pytest.mark.parametrize("status", [LivestreamStatus.ENDED, LivestreamStatus.CANCELLED])
async def test_an_ended_livestream_gives_no_coupon_even_within_its_window(api, db, live, campaign, status):
    async with db.writer() as session:
        await session.exec(sa.update(Livestream).where(Livestream.id == live).values(status=status.value))
        await session.commit()
    token, _ = await customer(api)
    before = await written(db)
    payload = await claim(api, token, campaign["id"])
    assert_user_error(payload, "LIVESTREAM_NOT_LIVE", ["input", "campaignId"], "coupon")
    assert await written(db) == before


async def test_an_unknown_campaign_is_not_found_and_a_malformed_id_bad_input(api, db):
    token, _ = await customer(api)
    payload = await claim(api, token, gid("CouponCampaign", 12345))
    assert_user_error(payload, "NOT_FOUND", ["input", "campaignId"], "coupon")
    payload = await claim(api, token, gid("Store", 1))
    assert_user_error(payload, "NOT_FOUND", ["input", "campaignId"], "coupon")
    for hostile in (gid("CouponCampaign", 99999999999999999999), "\u202e", "!!!"):
        body = await api(CLAIM, {"input": {"campaignId": hostile}}, token)
        assert answered_nothing(body) and body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    assert await count_rows(db, "coupon") == 0


# --- her coupons ----------------------------------------------------------------------------------


async def test_my_coupons_lists_hers_newest_first_with_codes_and_qr_tokens(api, db, world, clock, token_for, live):
    ops = await token_for("ops")
    first = await create_campaign(api, ops, world, live, clock, name="first")
    second = await create_campaign(api, ops, world, live, clock, name="second")
    token, _ = await customer(api, "13800000001")
    other, _ = await customer(api, "13800000002")
    mine = (await claim(api, token, first["id"]))["coupon"]
    clock.advance(seconds=1)
    newer = (await claim(api, token, second["id"]))["coupon"]
    await claim(api, other, first["id"])
    page = (await api.data(MY_COUPONS, {}, token))["myCoupons"]
    assert page["totalCount"] == 2
    assert [(e["node"]["code"], e["node"]["campaign"]["name"]) for e in page["edges"]] == [
        (newer["code"], "second"),
        (mine["code"], "first"),
    ]
    assert all(e["node"]["qrToken"] and e["node"]["usable"] for e in page["edges"])
    one = (await api.data(MY_COUPONS, {"first": 1}, token))["myCoupons"]
    rest = (await api.data(MY_COUPONS, {"after": one["pageInfo"]["endCursor"]}, token))["myCoupons"]
    assert [e["node"]["code"] for e in rest["edges"]] == [mine["code"]]
    assert (await api.data(MY_COUPONS, {"status": "REDEEMED"}, token))["myCoupons"]["totalCount"] == 0


async def test_staff_have_no_coupons_of_their_own(api, token_for):
    await assert_forbidden(api, MY_COUPONS, {}, await token_for("sh.guide"))


async def test_a_coupon_node_is_seen_by_its_owner_only(api, token_for, campaign):
    token, _ = await customer(api, "13800000001")
    other, _ = await customer(api, "13800000002")
    coupon = (await claim(api, token, campaign["id"]))["coupon"]
    assert (await api.data(NODE, {"id": coupon["id"]}, token))["node"] == {"code": coupon["code"], "status": "ISSUED"}
    assert (await api.data(NODE, {"id": coupon["id"]}, other))["node"] is None
    assert (await api.data(NODE, {"id": coupon["id"]}, await token_for("admin")))["node"] is None


async def test_a_redeemed_coupon_is_no_longer_usable(api, db, clock, campaign):
    token, _ = await customer(api)
    coupon = (await claim(api, token, campaign["id"]))["coupon"]
    [row] = await fetch(db, Coupon)
    async with db.writer() as session:
        applied = AppliedCoupon(row.id, row.campaign_id, row.code, 2000, {1: 2000})
        await redeem(session, [applied], order_id=7, store_id=1, now=clock.now())
        await session.commit()
    [node] = (await api.data(MY_COUPONS, {}, token))["myCoupons"]["edges"]
    assert (node["node"]["code"], node["node"]["status"], node["node"]["usable"]) == (coupon["code"], "REDEEMED", False)


# --- the guide's view -----------------------------------------------------------------------------


@pytest.fixture
async def held(api, db, world, clock, token_for, live) -> dict:
    """A customer who visited Shanghai, holding coupons of five campaigns: ANY at every store, IN_STORE_ONLY
    at Beijing only, ONLINE only, one switched off after she claimed it, one redeemed."""
    ops = await token_for("ops")
    beijing = [world.gid("Store", "beijing")]
    made = {
        "any": await create_campaign(api, ops, world, live, clock, name="any"),
        "beijing": await create_campaign(
            api, ops, world, live, clock, name="beijing", channel="IN_STORE_ONLY", storeIds=beijing
        ),
        "online": await create_campaign(api, ops, world, live, clock, name="online", channel="ONLINE"),
        "off": await create_campaign(api, ops, world, live, clock, name="off"),
        "redeemed": await create_campaign(api, ops, world, live, clock, name="redeemed"),
    }
    token, customer_gid = await customer(api)
    codes = {name: (await claim(api, token, c["id"]))["coupon"]["code"] for name, c in made.items()}
    await api.data(UPDATE, {"input": {"id": made["off"]["id"], "active": False}}, ops)
    [row] = await fetch(db, Coupon, code=codes["redeemed"])
    async with db.writer() as session:
        await redeem(
            session, [AppliedCoupon(row.id, row.campaign_id, row.code, 1, {})], order_id=1, store_id=1, now=clock.now()
        )
        await session.commit()
    await visited(db, row_id(customer_gid), world.ids["shanghai"], clock.now())
    return {"token": token, "id": customer_gid, "codes": codes}


def _names(answer: dict) -> list[str]:
    return sorted(e["node"]["campaign"]["name"] for e in answer["customer"]["coupons"]["edges"])


async def test_she_sees_her_usable_coupons_on_her_own_view(api, held):
    answer = await api.data(CUSTOMER_COUPONS, {"id": held["id"]}, held["token"])
    assert _names(answer) == ["any", "beijing", "online"]
    assert all(e["node"]["qrToken"] for e in answer["customer"]["coupons"]["edges"])


async def test_a_guide_sees_the_coupons_she_can_redeem_at_her_store(api, world, token_for, held):
    guide = await token_for("sh.guide")
    answer = await api.data(CUSTOMER_COUPONS, {"id": held["id"]}, guide)
    assert _names(answer) == ["any"]
    [edge] = answer["customer"]["coupons"]["edges"]
    assert (edge["node"]["code"], edge["node"]["qrToken"], edge["node"]["usable"]) == (held["codes"]["any"], None, True)
    same = await api.data(CUSTOMER_COUPONS, {"id": held["id"], "store": world.gid("Store", "shanghai")}, guide)
    assert _names(same) == ["any"]


async def test_a_guide_may_not_look_at_another_stores_coupons(api, world, token_for, held):
    variables = {"id": held["id"], "store": world.gid("Store", "beijing")}
    body = await api(CUSTOMER_COUPONS, variables, await token_for("sh.guide"))
    assert body["data"]["customer"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


async def test_staff_of_a_store_she_never_visited_see_nothing_of_her(api, token_for, held):
    await assert_forbidden(api, CUSTOMER_COUPONS, {"id": held["id"]}, await token_for("bj.guide"))


async def test_hq_sees_them_at_any_store_and_masked_viewers_without_codes(api, world, token_for, held):
    beijing = {"id": held["id"], "store": world.gid("Store", "beijing")}
    admin = await api.data(CUSTOMER_COUPONS, beijing, await token_for("admin"))
    assert _names(admin) == ["any", "beijing"]
    assert {e["node"]["code"] for e in admin["customer"]["coupons"]["edges"]} == {
        held["codes"]["any"],
        held["codes"]["beijing"],
    }
    for unknown in (gid("Store", 999), gid("Product", 1)):
        nowhere = await api.data(CUSTOMER_COUPONS, {"id": held["id"], "store": unknown}, await token_for("admin"))
        assert nowhere["customer"]["coupons"]["totalCount"] == 0
    everywhere = await api.data(CUSTOMER_COUPONS, {"id": held["id"]}, await token_for("admin"))
    assert _names(everywhere) == ["any", "beijing", "online"]
    analyst = await api.data(CUSTOMER_COUPONS, {"id": held["id"]}, await token_for("analyst"))
    assert analyst["customer"]["masked"] is True and _names(analyst) == ["any", "beijing", "online"]
    assert {(e["node"]["code"], e["node"]["qrToken"]) for e in analyst["customer"]["coupons"]["edges"]} == {
        (None, None)
    }

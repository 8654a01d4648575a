"""OneID merges two customers: her coupons and her claim counters follow the surviving person (counters of
one campaign are added up, not lost), so the per-customer limit holds for the one person she is."""

from __future__ import annotations

from server.domains.auth.tokens import TokenPolicy
from server.domains.coupons.models import Coupon, CouponClaimCount
from server.domains.coupons.services import CartLine, apply_coupons
from tests.conftest import TEST_SECRET
from tests.server.assertions import assert_user_error, fetch
from tests.server.bookings.helpers import customer
from tests.server.identity.helpers import event, send

from .helpers import MY_COUPONS, add_livestream, claim, create_campaign, row_id

ANN, BEA = "13800000001", "13800000002"


async def test_her_coupons_and_summed_claim_counters_follow_the_survivor(api, db, world, clock, token_for):
    live = await add_livestream(db, world, clock)
    ops = await token_for("ops")
    limited = await create_campaign(api, ops, world, live, clock, name="x", perCustomerLimit=3)
    other = await create_campaign(api, ops, world, live, clock, name="y")
    ann_token, ann_gid = await customer(api, ANN)
    bea_token, bea_gid = await customer(api, BEA)
    ann, bea = row_id(ann_gid), row_id(bea_gid)
    for token, campaign in [(ann_token, limited), (ann_token, limited), (bea_token, limited), (bea_token, other)]:
        assert (await claim(api, token, campaign["id"]))["errors"] == []

    await send(db, event("merge-1", f"phone:{ANN}", f"phone:{BEA}"))  # one event names both: one person

    assert {c.person_id for c in await fetch(db, Coupon)} == {ann}
    counters = {(c.campaign_id, c.person_id): c.claimed for c in await fetch(db, CouponClaimCount)}
    assert counters == {(row_id(limited["id"]), ann): 3, (row_id(other["id"]), ann): 1}  # none left under bea
    assert bea != ann
    # Signed in as either, she is one customer now: all four coupons, and the limit of 3 reached.
    for token in (ann_token, bea_token):
        assert (await api.data(MY_COUPONS, {}, token))["myCoupons"]["totalCount"] == 4
    payload = await claim(api, bea_token, limited["id"])
    assert_user_error(payload, "CLAIM_LIMIT_REACHED", ["input", "campaignId"], "coupon")
    assert len(await fetch(db, Coupon)) == 4


async def test_a_till_given_her_merged_id_still_finds_her_coupons(api, db, world, clock, token_for):
    live = await add_livestream(db, world, clock)
    campaign = await create_campaign(api, await token_for("ops"), world, live, clock)
    await customer(api, ANN)
    bea_token, bea_gid = await customer(api, BEA)
    code = (await claim(api, bea_token, campaign["id"]))["coupon"]["code"]
    await send(db, event("merge-1", f"phone:{ANN}", f"phone:{BEA}"))
    line = CartLine(key=1, product_id=world.ids["serum"], category_id=world.ids["skincare"], amount=89000)
    async with db.reader() as session:
        [applied] = await apply_coupons(
            session,
            person_id=row_id(bea_gid),  # merged away: she is the survivor now
            store_id=world.ids["shanghai"],
            online=False,
            lines=[line],
            codes=[code],
            now=clock.now(),
            tokens=TokenPolicy(secret=TEST_SECRET),
        )
    assert (applied.code, applied.discount) == (code, 2000)

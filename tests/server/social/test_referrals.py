"""Referral codes: a new customer who arrives through another's link and buys credits her referrer
(a REFERRER share and a reward coupon, per plan); her own code, an unknown one, a second referral or
a customer who has bought before are refused with nothing written."""

from __future__ import annotations

from server.domains.coupons.models import Coupon
from server.domains.ledger.models import LedgerEntry, OrderAttribution
from tests.server.assertions import count_tables, fetch
from tests.server.bookings.helpers import customer, give_shifts
from tests.server.coupons.helpers import add_livestream
from tests.server.ledger.helpers import create_plan, drain, plan_input, sell, shares
from tests.server.orders.conftest import stock
from tests.world import gid

MY_REFERRAL = "query { myReferral { code shareUrl referredCount } }"
ACCEPT = "mutation($c: String!) { referralAccept(input: {code: $c}) { accepted errors { code field } } }"
CAMPAIGN = """mutation($input: CouponCampaignCreateInput!) { couponCampaignCreate(input: $input) {
  campaign { id } errors { code } } }"""


async def test_a_referred_newcomer_buys_and_her_referrer_is_credited_and_rewarded(api, db, world, clock, token_for):
    await give_shifts(db, world)
    await stock(db, world, 5)
    livestream = await add_livestream(db, world, clock)
    reward = {
        "name": "推荐有礼",
        "livestreamId": gid("Livestream", livestream),
        "discount": {"kind": "FIXED", "amountOff": {"amount": 5000, "currency": "CNY"}},
        "validFrom": clock.now().isoformat(),
        "validUntil": (clock.now().replace(year=clock.now().year + 1)).isoformat(),
        "totalStock": 10,
    }
    ops = await token_for("ops")
    campaign = (await api.data(CAMPAIGN, {"input": reward}, ops))["couponCampaignCreate"]["campaign"]["id"]
    plan = plan_input(clock, shares=shares(GUIDE=9000, REFERRER=1000), referrerRewardCampaignId=campaign)
    assert (await create_plan(api, await token_for("admin"), plan))["errors"] == []

    referrer_token, referrer = await customer(api, "13900000001")
    mine = (await api.data(MY_REFERRAL, token=referrer_token))["myReferral"]
    assert len(mine["code"]) == 8 and mine["shareUrl"].endswith(f"?ref={mine['code']}")
    assert (await api.data(MY_REFERRAL, token=referrer_token))["myReferral"]["code"] == mine["code"]
    own = (await api.data(ACCEPT, {"c": mine["code"]}, referrer_token))["referralAccept"]
    assert own["errors"][0]["code"] == "REFERRAL_OWN_CODE"

    friend_token, friend = await customer(api, "13900000002")
    accepted = (await api.data(ACCEPT, {"c": mine["code"].lower()}, friend_token))["referralAccept"]
    assert accepted == {"accepted": True, "errors": []}
    again = (await api.data(ACCEPT, {"c": mine["code"]}, friend_token))["referralAccept"]
    assert again["errors"][0]["code"] == "ALREADY_REFERRED"
    assert (await api.data(MY_REFERRAL, token=referrer_token))["myReferral"]["referredCount"] == 1

    await sell(api, world, token_for, friend, 1)
    await drain(api)
    (attribution,) = await fetch(db, OrderAttribution)
    referrer_id = int(__import__("base64").b64decode(referrer).decode().split(":")[1])
    assert attribution.referrer_id == referrer_id
    by_kind = {(e.beneficiary_kind, e.beneficiary_id): e.revenue for e in await fetch(db, LedgerEntry)}
    assert by_kind == {("GUIDE", world.ids["sh.guide"]): 80100, ("REFERRER", referrer_id): 8900}
    (granted,) = await fetch(db, Coupon, person_id=referrer_id)
    assert granted.status == "ISSUED"


async def test_bad_referrals_are_refused_and_nothing_is_written(api, db, world, clock, token_for):
    referrer_token, _ = await customer(api, "13900000001")
    code = (await api.data(MY_REFERRAL, token=referrer_token))["myReferral"]["code"]
    await give_shifts(db, world)
    await stock(db, world, 1)
    buyer_token, buyer = await customer(api, "13900000003")
    await sell(api, world, token_for, buyer, 1)  # she has bought before: not new
    before = await count_tables(db, ("referral",))
    for token, given, expected in (
        (buyer_token, code, "NOT_A_NEW_CUSTOMER"),
        (buyer_token, "ZZZZZZZZ", "REFERRAL_CODE_UNKNOWN"),
        (buyer_token, "BAD CODE", "INVALID_FORMAT"),
        (buyer_token, "x" * 5000, "TOO_LONG"),
    ):
        payload = (await api.data(ACCEPT, {"c": given}, token))["referralAccept"]
        assert payload["errors"][0]["code"] == expected, (given, payload)
    assert await count_tables(db, ("referral",)) == before
    staff = await api(ACCEPT, {"c": code}, await token_for("sh.guide"))
    assert staff["errors"][0]["extensions"]["code"] == "FORBIDDEN"

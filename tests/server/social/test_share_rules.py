"""The share loop's rules beyond the happy path: who may do what, a post's share link carrying her
referral code, a visit not yet made, posts counted for performance, and OneID merges."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.domains.identity.models import Person
from server.domains.messaging.models import OutboundMessage
from server.domains.messaging.services import render
from server.domains.social.invitations import INVITE_WITHIN, invite_to_share
from server.domains.social.models import Referral, ReferralCode, UgcPost
from server.domains.social.referrals import referrer_of
from server.domains.social.services import count_posts
from tests.server.assertions import count_tables, fetch
from tests.server.bookings.helpers import book, customer, give_shifts, next_local
from tests.server.coupons.helpers import row_id
from tests.server.identity.helpers import event, send
from tests.world import gid

from .test_ugc import SUBMIT, TABLES, post_input, visited

MY_POSTS = "query { myUgcPosts(first: 10) { edges { node { id shareUrl customerId } } } }"
ALL_POSTS = "query { ugcPosts(first: 10) { edges { node { id shareUrl customerId } } } }"
MY_REFERRAL = "query { myReferral { code shareUrl referredCount } }"
ACCEPT = "mutation($c: String!) { referralAccept(input: {code: $c}) { accepted errors { code } } }"
MODERATE = """mutation($id: ID!) { ugcModerate(input: {postId: $id, decision: APPROVE}) { errors { code } } }"""
FEATURE = """mutation($id: ID!, $l: ID!) { ugcFeature(input: {postId: $id, livestreamId: $l}) { errors { code } } }"""

# Who may call what: OK (no top-level error), or the top-level error's code.
STAFF = ("sh.guide", "sh.manager", "ops", "admin", "analyst")
MODERATORS = {"ops", "admin"}
READERS = {"ops", "admin", "analyst"}


def expected(who: str, allowed: set[str]) -> str:
    if who == "anonymous":
        return "UNAUTHENTICATED"
    return "OK" if who in allowed else "FORBIDDEN"


async def outcome(api, document: str, variables: dict, token: str | None) -> str:
    body = await api(document, variables, token)
    return body["errors"][0]["extensions"]["code"] if body.get("errors") else "OK"


@pytest.mark.parametrize("who", ["anonymous", "customer", *STAFF])
async def test_each_role_reaches_only_its_operations(api, db, token_for, who):
    token = None if who == "anonymous" else (await customer(api))[0] if who == "customer" else await token_for(who)
    unknown_post = gid("UgcPost", 2**31 - 1)
    operations = [
        (ALL_POSTS, {}, READERS),
        (MY_POSTS, {}, {"customer"}),
        (MY_REFERRAL, {}, {"customer"}),
        (SUBMIT, {"input": post_input()}, {"customer"}),
        (ACCEPT, {"c": "ZZZZZZZZ"}, {"customer"}),
        (MODERATE, {"id": unknown_post}, MODERATORS),
        (FEATURE, {"id": unknown_post, "l": gid("Livestream", 2**31 - 1)}, MODERATORS),
    ]
    for document, variables, allowed in operations:
        assert await outcome(api, document, variables, token) == expected(who, allowed), document


async def test_her_post_carries_her_referral_code_and_analysts_see_neither(api, db, token_for):
    token, _ = await customer(api, "13900000005")
    post = (await api.data(SUBMIT, {"input": post_input()}, token))["ugcSubmit"]["post"]["id"]
    mine = (await api.data(MY_REFERRAL, token=token))["myReferral"]
    [node] = [e["node"] for e in (await api.data(MY_POSTS, token=token))["myUgcPosts"]["edges"]]
    assert node["shareUrl"] == mine["shareUrl"].replace("/share?", f"/share/ugc/{row_id(post)}?")
    assert node["shareUrl"].endswith(f"?ref={mine['code']}")
    [seen] = [e["node"] for e in (await api.data(ALL_POSTS, token=await token_for("analyst")))["ugcPosts"]["edges"]]
    assert seen == {"id": post, "shareUrl": None, "customerId": None}


async def test_a_visit_not_yet_made_is_refused_and_nothing_is_written(api, db, world, clock):
    await give_shifts(db, world)
    token, _ = await customer(api, "13900000006")
    booked = await book(api, token, world, next_local(clock, 0, 15))
    assert booked["errors"] == [], booked
    before = await count_tables(db, (*TABLES, "referral_code"))
    given = post_input(bookingId=booked["booking"]["id"])
    payload = (await api.data(SUBMIT, {"input": given}, token))["ugcSubmit"]
    assert payload["post"] is None and payload["errors"][0]["code"] == "WRONG_BOOKING"
    assert await count_tables(db, (*TABLES, "referral_code")) == before


async def test_posts_are_counted_by_livestream_store_and_window(api, db, world, clock, token_for):
    visit = await visited(api, db, world, clock, token_for)
    for index in range(2):
        given = post_input(bookingId=visit["booking"], idempotencyKey=f"k{index}")
        assert (await api.data(SUBMIT, {"input": given}, visit["token"]))["ugcSubmit"]["errors"] == []
    await api.data(SUBMIT, {"input": post_input()}, visit["token"])  # no visit named: no store, no livestream
    now = clock.now()
    async with db.reader() as session:
        assert await count_posts(session) == 3
        assert await count_posts(session, livestream_id=visit["livestream"]) == 2
        assert await count_posts(session, store_ids=[world.ids["shanghai"]], since=now, until=now + timedelta(1)) == 2
        assert await count_posts(session, store_ids=[world.ids["beijing"]]) == 0
        assert await count_posts(session, livestream_id=visit["livestream"], until=now) == 0


async def test_a_merge_moves_posts_and_referrals_to_the_survivor_and_her_old_link_still_credits_her(api, db):
    ann_token, ann_gid = await customer(api, "13800000001")
    bea_token, bea_gid = await customer(api, "13800000002")
    cat_token, cat_gid = await customer(api, "13800000003")
    codes = {}
    for name, token in (("ann", ann_token), ("bea", bea_token)):
        codes[name] = (await api.data(MY_REFERRAL, token=token))["myReferral"]["code"]
    assert (await api.data(ACCEPT, {"c": codes["bea"]}, ann_token))["referralAccept"]["accepted"]  # ann by bea
    assert (await api.data(ACCEPT, {"c": codes["bea"]}, cat_token))["referralAccept"]["accepted"]  # cat by bea
    await api.data(SUBMIT, {"input": post_input()}, bea_token)

    await send(db, event("merge-1", "phone:13800000001", "phone:13800000002"))

    ann, bea = row_id(ann_gid), row_id(bea_gid)
    survivor = next(p.id for p in await fetch(db, Person) if p.id in (ann, bea) and p.merged_into_id is None)
    assert {p.person_id for p in await fetch(db, UgcPost)} == {survivor}
    # cat's referrer is the survivor; ann's referral by bea became one of herself, and is gone
    assert {(r.referred_id, r.referrer_id) for r in await fetch(db, Referral)} == {(row_id(cat_gid), survivor)}
    assert {c.code for c in await fetch(db, ReferralCode)} == set(codes.values())  # the other code is an alias
    dan_token, dan_gid = await customer(api, "13800000004")
    other_code = next(c.code for c in await fetch(db, ReferralCode) if c.person_id != survivor)
    assert (await api.data(ACCEPT, {"c": other_code}, dan_token))["referralAccept"] == {"accepted": True, "errors": []}
    async with db.reader() as session:
        assert await referrer_of(session, row_id(dan_gid)) == survivor
    survivor_token = ann_token if survivor == ann else bea_token
    own = (await api.data(ACCEPT, {"c": other_code}, survivor_token))["referralAccept"]["errors"]
    assert own[0]["code"] == "REFERRAL_OWN_CODE"


async def test_her_invitation_carries_her_share_link_and_an_old_visit_brings_none(api, db, world, clock, token_for):
    visit = await visited(api, db, world, clock, token_for)
    later = clock.now() + INVITE_WITHIN + timedelta(minutes=1)
    async with db.writer() as session:
        assert await invite_to_share(session, "https://irs.example.com/", "Elegance", later) == 0
    async with db.writer() as session:
        assert await invite_to_share(session, "https://irs.example.com/", "Elegance", clock.now()) == 1
    (message,) = await fetch(db, OutboundMessage, kind="SHARE_INVITATION")
    code = (await api.data(MY_REFERRAL, token=visit["token"]))["myReferral"]["code"]
    assert render(message).text.endswith(f"https://irs.example.com/share?ref={code}")

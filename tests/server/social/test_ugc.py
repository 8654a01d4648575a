"""UGC posts: customers share their visits, ops moderate and feature them in a livestream; after a
completed visit she is invited to share, once."""

from __future__ import annotations

import asyncio

import pytest

from server.domains.identity.models import CustomerEvent
from server.domains.messaging.models import OutboundMessage
from server.domains.social.invitations import invite_to_share
from server.domains.social.models import ShareInvitation, UgcPost
from tests.server.assertions import ReadsOnly, count_tables, fetch
from tests.server.bookings.helpers import customer
from tests.server.ledger.helpers import livestream_sale, standard_plans
from tests.world import gid

SUBMIT = """mutation($input: UgcSubmitInput!) { ugcSubmit(input: $input) {
  post { id status platform storeId livestreamId customerId } errors { code field } } }"""
MODERATE = """mutation($id: ID!, $d: UgcDecision!, $r: String) {
  ugcModerate(input: {postId: $id, decision: $d, reason: $r}) {
    post { status rejectReason } errors { code field } } }"""
FEATURE = """mutation($id: ID!, $l: ID!) { ugcFeature(input: {postId: $id, livestreamId: $l}) {
  post { status featuredLivestreamId } errors { code field } } }"""
FEATURED = """query($id: ID!) { node(id: $id) { ... on Livestream { featuredUgc { id url customerId } } } }"""
POSTS = "query($s: UgcStatus) { ugcPosts(status: $s, first: 10) { edges { node { id status customerId } } } }"
TABLES = ("ugc_post", "customer_event", "outbox", "idempotency_record")


def post_input(**more) -> dict:
    return {"platform": "XIAOHONGSHU", "url": "https://www.xiaohongshu.com/explore/abc", "text": "好物分享", **more}


async def visited(api, db, world, clock, token_for) -> dict:
    """She booked from the livestream and bought at the store: her visit is COMPLETED."""
    await standard_plans(api, token_for, clock)
    sale = await livestream_sale(api, db, world, clock, token_for)
    token, _ = await customer(api, "13900000001")  # the same customer, signed in again
    return {**sale, "token": token}


async def test_she_shares_her_visit_and_ops_moderate_and_feature_it(api, db, world, clock, token_for):
    visit = await visited(api, db, world, clock, token_for)
    given = post_input(bookingId=visit["booking"], imageUrls=["https://img.example.com/1.jpg"], idempotencyKey="p1")
    payload = (await api.data(SUBMIT, {"input": given}, visit["token"]))["ugcSubmit"]
    assert payload["errors"] == [] and payload["post"]["status"] == "PENDING"
    assert payload["post"]["storeId"] == world.gid("Store", "shanghai")
    assert payload["post"]["livestreamId"] == gid("Livestream", visit["livestream"])
    again = (await api.data(SUBMIT, {"input": given}, visit["token"]))["ugcSubmit"]
    assert again["post"]["id"] == payload["post"]["id"] and len(await fetch(db, UgcPost)) == 1
    (event,) = await fetch(db, CustomerEvent, type="UGC_POST")
    assert event.store_id == world.ids["shanghai"]

    ops = await token_for("ops")
    post = payload["post"]["id"]
    livestream = gid("Livestream", visit["livestream"])
    early = (await api.data(FEATURE, {"id": post, "l": livestream}, ops))["ugcFeature"]
    assert early["errors"][0]["code"] == "NOT_MODERATED"
    no_reason = (await api.data(MODERATE, {"id": post, "d": "REJECT"}, ops))["ugcModerate"]
    assert no_reason["errors"][0]["code"] == "REQUIRED"
    approved = (await api.data(MODERATE, {"id": post, "d": "APPROVE"}, ops))["ugcModerate"]
    assert approved["post"]["status"] == "APPROVED"
    twice = (await api.data(MODERATE, {"id": post, "d": "REJECT", "r": "x"}, ops))["ugcModerate"]
    assert twice["errors"][0]["code"] == "ALREADY_MODERATED"
    featured = (await api.data(FEATURE, {"id": post, "l": livestream}, ops))["ugcFeature"]
    assert featured["post"] == {"status": "FEATURED", "featuredLivestreamId": livestream}
    shown = (await api.data(FEATURED, {"id": livestream}, ops))["node"]["featuredUgc"]
    assert [p["id"] for p in shown] == [post] and shown[0]["customerId"] is not None
    analyst = (await api.data(POSTS, {"s": "FEATURED"}, await token_for("analyst")))["ugcPosts"]["edges"]
    assert analyst[0]["node"]["customerId"] is None
    guide = await api(MODERATE, {"id": post, "d": "APPROVE"}, await token_for("sh.guide"))
    assert guide["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"url": "javascript:alert(1)"}, "INVALID_URL", ["input", "url"]),
        ({"url": "ftp://example.com/x"}, "INVALID_URL", ["input", "url"]),
        ({"url": "https://example.com/" + "a" * 2000}, "INVALID_URL", ["input", "url"]),
        ({"url": "https://exa mple.com/"}, "INVALID_URL", ["input", "url"]),
        ({"imageUrls": ["https://img.example.com/x.jpg"] * 10}, "TOO_MANY", ["input", "imageUrls"]),
        ({"imageUrls": ["data:image/png;base64,AAAA"]}, "INVALID_URL", ["input", "imageUrls", "0"]),
        ({"text": "x" * 1001}, "TOO_LONG", ["input", "text"]),
        ({"bookingId": gid("Booking", 2**31 - 1)}, "WRONG_BOOKING", ["input", "bookingId"]),
    ],
)
async def test_bad_posts_are_refused_and_nothing_is_written(api, db, change, code, field):
    token, _ = await customer(api, "13900000007")
    before = await count_tables(db, TABLES)
    payload = (await api.data(SUBMIT, {"input": post_input(**change)}, token))["ugcSubmit"]
    assert payload["post"] is None and (payload["errors"][0]["code"], payload["errors"][0]["field"]) == (code, field)
    assert await count_tables(db, TABLES) == before


async def test_staff_do_not_post_and_another_customers_booking_is_refused(api, db, world, clock, token_for):
    visit = await visited(api, db, world, clock, token_for)
    staff = await api(SUBMIT, {"input": post_input()}, await token_for("sh.guide"))
    assert staff["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    stranger, _ = await customer(api, "13900000008")
    payload = (await api.data(SUBMIT, {"input": post_input(bookingId=visit["booking"])}, stranger))["ugcSubmit"]
    assert payload["errors"][0]["code"] == "WRONG_BOOKING"


async def test_featured_posts_cost_the_same_statements_for_one_or_many(api, db, world, clock, token_for):
    visit = await visited(api, db, world, clock, token_for)
    ops = await token_for("ops")
    livestream = gid("Livestream", visit["livestream"])
    counts = []
    for n in (1, 4):
        while len(await fetch(db, UgcPost)) < n:
            post = (await api.data(SUBMIT, {"input": post_input()}, visit["token"]))["ugcSubmit"]["post"]["id"]
            await api.data(MODERATE, {"id": post, "d": "APPROVE"}, ops)
            await api.data(FEATURE, {"id": post, "l": livestream}, ops)
        seen = []
        for _ in range(3):  # the least of three: background work can only add statements
            with ReadsOnly(api) as counter:
                shown = (await api.data(FEATURED, {"id": livestream}, ops))["node"]["featuredUgc"]
            seen.append(counter.count)
        assert len(shown) == n
        counts.append(min(seen))
    assert counts[0] == counts[1], counts


async def test_a_completed_visit_brings_one_share_invitation_however_many_replicas_run(
    api, db, world, clock, token_for
):
    visit = await visited(api, db, world, clock, token_for)

    async def run() -> int:
        async with db.writer() as session:
            return await invite_to_share(session, "https://irs.example.com", "Elegance", clock.now())

    assert sum(await asyncio.gather(run(), run(), run())) == 1
    assert await run() == 0
    (invitation,) = await fetch(db, ShareInvitation)
    assert invitation.booking_id == int(__import__("base64").b64decode(visit["booking"]).decode().split(":")[1])
    (message,) = await fetch(db, OutboundMessage, kind="SHARE_INVITATION")
    assert message.params["shareUrl"].startswith("https://irs.example.com/share?ref=")

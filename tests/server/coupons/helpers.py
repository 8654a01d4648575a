"""Shared steps of the coupon tests: livestreams, campaigns, customers, and the GraphQL documents."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

from server.domains.common.actor import Actor, ActorKind, Role
from server.domains.common.errors import DomainError
from server.domains.coupons import campaigns
from server.domains.coupons.claims import claim_coupon
from server.domains.coupons.models import DiscountKind, RedemptionChannel
from server.domains.identity.events import EventType, RawEvent
from server.domains.identity.models import Person
from server.domains.identity.services import record_person_event
from server.domains.livestreams.models import Livestream, LivestreamStatus
from tests.world import gid

CAMPAIGN_FIELDS = """id name validFrom validUntil totalStock claimed remaining perCustomerLimit channel active claimable
  discount { kind amountOff { amount currency } percentOff maxDiscount { amount } minSpend { amount } }
  livestream { title } products { sku } categories { code } stores { code }"""

CREATE = f"""mutation($input: CouponCampaignCreateInput!) {{ couponCampaignCreate(input: $input) {{
  campaign {{ {CAMPAIGN_FIELDS} }} errors {{ code field message }} }} }}"""
UPDATE = f"""mutation($input: CouponCampaignUpdateInput!) {{ couponCampaignUpdate(input: $input) {{
  campaign {{ {CAMPAIGN_FIELDS} }} errors {{ code field message }} }} }}"""
CLAIM = """mutation($input: CouponClaimInput!) { couponClaim(input: $input) {
  coupon { id code qrToken status claimedAt redeemedAt usable campaign { id name remaining } }
  errors { code field message } } }"""
MY_COUPONS = """query($status: CouponStatus, $first: Int, $after: String) {
  myCoupons(status: $status, first: $first, after: $after) {
    totalCount edges { node { id code qrToken status usable campaign { name } } }
    pageInfo { hasNextPage endCursor } } }"""
CUSTOMER_COUPONS = """query($id: ID!, $store: ID) { customer(id: $id) { masked
  coupons(usableAtStoreId: $store) { totalCount edges { node { code qrToken usable campaign { name } } } } } }"""


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def row_id(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().split(":")[1])


async def add_livestream(db, world, clock, status: LivestreamStatus = LivestreamStatus.LIVE, **times) -> int:
    """A livestream of the world's team: by default LIVE, scheduled from an hour ago for three hours."""
    now = clock.now()
    async with db.writer() as session:
        livestream = Livestream(
            title=f"Live {status.value}",
            host_name="Host",
            team_id=world.ids["team"],
            channel="DOUYIN",
            status=status.value,
            scheduled_start=times.get("start", now - timedelta(hours=1)),
            scheduled_end=times.get("end", now + timedelta(hours=2)),
        )
        session.add(livestream)
        await session.commit()
        return livestream.id


def campaign_input(world, livestream_id: int, clock, **overrides) -> dict:
    """A valid FIXED ¥20 campaign of 100 coupons, valid from now for a week (GraphQL input)."""
    now = clock.now()
    values = {
        "name": "直播专享 ¥20",
        "livestreamId": gid("Livestream", livestream_id),
        "discount": {"kind": "FIXED", "amountOff": {"amount": 2000, "currency": "CNY"}},
        "validFrom": iso(now),
        "validUntil": iso(now + timedelta(days=7)),
        "totalStock": 100,
    }
    values.update(overrides)
    return values


async def create_campaign(api, token: str, world, livestream_id: int, clock, **overrides) -> dict:
    body = await api.data(CREATE, {"input": campaign_input(world, livestream_id, clock, **overrides)}, token)
    payload = body["couponCampaignCreate"]
    assert payload["errors"] == [], payload
    return payload["campaign"]


async def claim(api, token: str, campaign_gid: str, key: str | None = None) -> dict:
    variables = {"input": {"campaignId": campaign_gid, "idempotencyKey": key}}
    return (await api.data(CLAIM, variables, token))["couponClaim"]


async def persons(db, n: int) -> list[int]:
    async with db.writer() as session:
        rows = [Person() for _ in range(n)]
        session.add_all(rows)
        await session.commit()
        return [row.id for row in rows]


async def stored_campaign(
    db,
    world,
    livestream_id: int,
    now: datetime,
    *,
    kind: DiscountKind = DiscountKind.FIXED,
    amount_off: int | None = 2000,
    percent_off: int | None = None,
    max_discount: int | None = None,
    min_spend: int | None = None,
    total_stock: int = 100,
    per_customer_limit: int = 1,
    channel: RedemptionChannel = RedemptionChannel.ANY,
    product_ids=(),
    category_ids=(),
    store_ids=(),
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> int:
    """A campaign made through the service (as the HQ admin), for the service-level tests."""

    def amount(value: int | None) -> campaigns.Amount | None:
        return None if value is None else campaigns.Amount(value, "CNY")

    draft = campaigns.CampaignDraft(
        name=f"{kind.value} campaign",
        livestream_id=livestream_id,
        discount=campaigns.DiscountDraft(
            kind=kind,
            amount_off=amount(amount_off) if kind is not DiscountKind.PERCENT else None,
            percent_off=percent_off,
            max_discount=amount(max_discount),
            min_spend=amount(min_spend),
        ),
        valid_from=valid_from or now - timedelta(hours=1),
        valid_until=valid_until or now + timedelta(days=7),
        total_stock=total_stock,
        per_customer_limit=per_customer_limit,
        channel=channel,
        product_ids=list(product_ids),
        category_ids=list(category_ids),
        store_ids=list(store_ids),
    )
    admin = Actor(kind=ActorKind.STAFF, id=world.ids["admin"], role=Role.HQ_ADMIN)
    async with db.writer() as session:
        campaign = await campaigns.create_campaign(session, admin, draft, brand_currency="CNY", now=now)
        return campaign.id


async def claim_as(db, person_id: int, campaign_id: int, now: datetime, key: str | None = None):
    """Claim through the service as the customer: the coupon, or the refusal's code name."""
    async with db.writer() as session:
        try:
            return await claim_coupon(
                session, Actor(kind=ActorKind.CUSTOMER, id=person_id), campaign_id, now=now, idempotency_key=key
            )
        except DomainError as error:
            return error.problems[0].code.name


async def visited(db, person_id: int, store_id: int, now: datetime) -> None:
    """She visited the store (a STORE_VISIT on her timeline): its staff may open her 360° view."""
    async with db.writer() as session:
        await record_person_event(
            session,
            person_id,
            "test",
            RawEvent(
                event_id=f"visit:{person_id}:{store_id}",
                type=EventType.STORE_VISIT,
                occurred_at=now,
                identifiers=[],
                store_id=store_id,
            ),
            now,
        )
        await session.commit()

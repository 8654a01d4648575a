"""What the day starts from, read through the API: the stores in play, the catalogue, the staff signed in,
and the livestream LIVE with its coupon campaign."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..demo import data
from . import operations as ops
from .client import Account, Api
from .plan import COUPON_MIN_SPEND, StorePlace

GUIDE_NUMBERS = (1, 2, 3)


@dataclass(frozen=True)
class Sku:
    id: str
    code: str
    price: int


@dataclass
class Crew:
    """A store's staff, signed in: its manager and guides (guide1..3, by number)."""

    manager: Account
    guides: dict[int, Account]


@dataclass(frozen=True)
class Live:
    livestream_id: str
    campaign_id: str


async def pages(api: Api, account: Account, query: str, root: str) -> list[dict]:
    """Every node of a connection, page by page."""
    nodes, after = [], None
    while True:
        connection = (await api.as_account(account, query, {"after": after}))[root]
        nodes += [edge["node"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return nodes
        after = connection["pageInfo"]["endCursor"]


async def stores_in_play(api: Api, account: Account, count: int) -> list[StorePlace]:
    """The first ``count`` demo stores by code (S001, S002…: a different city each, up to 24)."""
    nodes = sorted(await pages(api, account, ops.STORES, "stores"), key=lambda node: node["code"])
    return [
        StorePlace(node["id"], node["code"], node["location"]["latitude"], node["location"]["longitude"])
        for node in nodes[:count]
    ]


async def catalogue(api: Api, account: Account) -> dict[str, Sku]:
    products = await pages(api, account, ops.PRODUCTS, "products")
    skus = [sku for product in products for sku in product["skus"] if sku["active"]]
    return {sku["code"]: Sku(sku["id"], sku["code"], int(sku["price"]["amount"])) for sku in skus}


def featured_skus() -> set[str]:
    return set(data.LIVESTREAM_SKUS)


async def sign_in_crews(api: Api, stores: list[StorePlace], on_signed_in) -> dict[str, Crew]:
    """Each store's manager and guides, as the seed names them (s001.manager, s001.guide1…)."""

    async def login(username: str) -> Account:
        account = await api.staff_login(username, data.DEMO_PASSWORD)
        on_signed_in()
        return account

    async def crew(store: StorePlace) -> Crew:
        prefix = store.code.lower()
        manager = await login(f"{prefix}.manager")
        guides = {n: await login(f"{prefix}.guide{n}") for n in GUIDE_NUMBERS}
        return Crew(manager, guides)

    crews = await asyncio.gather(*(crew(store) for store in stores))
    return {store.code: c for store, c in zip(stores, crews, strict=True)}


async def go_live(api: Api, ops_account: Account, now: datetime, viewers: int) -> Live:
    """The demo livestream LIVE, with its coupon campaign; a new one when it was already run."""
    found = await _scheduled_with_campaign(api, ops_account)
    livestream_id, campaign_id = found or await _new_livestream(api, ops_account, now, viewers)
    variables = {"input": {"id": livestream_id, "status": "LIVE"}}
    await api.mutate(ops_account, ops.LIVESTREAM_UPDATE, variables, "livestreamUpdate")
    return Live(livestream_id, campaign_id)


async def end_live(api: Api, ops_account: Account, live: Live) -> None:
    variables = {"input": {"id": live.livestream_id, "status": "ENDED"}}
    await api.mutate(ops_account, ops.LIVESTREAM_UPDATE, variables, "livestreamUpdate")


async def _scheduled_with_campaign(api: Api, account: Account) -> tuple[str, str] | None:
    listing = (await api.as_account(account, ops.LIVESTREAMS, {"status": "SCHEDULED"}))["livestreams"]
    for livestream in (edge["node"] for edge in listing["edges"]):
        campaigns = [edge["node"] for edge in livestream["couponCampaigns"]["edges"]]
        usable = [c for c in campaigns if c["active"] and c["remaining"] > 0]
        if usable:
            return livestream["id"], usable[0]["id"]
    return None


async def _new_livestream(api: Api, account: Account, now: datetime, viewers: int) -> tuple[str, str]:
    team = (await api.as_account(account, ops.TEAMS))["teams"]["edges"][0]["node"]["id"]
    livestream = {
        "title": f"{data.LIVESTREAM_TITLE} (模拟 {now:%Y-%m-%d %H:%M})",
        "hostName": data.LIVESTREAM_HOST,
        "teamId": team,
        "channel": "WECHAT_CHANNELS",
        "scheduledStart": _iso(now + timedelta(minutes=5)),
        "scheduledEnd": _iso(now + timedelta(hours=2)),
        "talkingPoints": data.TALKING_POINTS,
    }
    created = await api.mutate(account, ops.LIVESTREAM_CREATE, {"input": livestream}, "livestreamCreate")
    livestream_id = created["livestream"]["id"]
    money = {"currency": "CNY"}
    campaign = {
        "name": data.COUPON_NAME,
        "livestreamId": livestream_id,
        "discount": {
            "kind": "THRESHOLD",
            "amountOff": {**money, "amount": 10000},
            "minSpend": {**money, "amount": COUPON_MIN_SPEND},
        },
        "validFrom": _iso(now),
        "validUntil": _iso(now + timedelta(days=14)),
        "totalStock": max(1000, viewers),
        "perCustomerLimit": 1,
        "channel": "IN_STORE_ONLY",
    }
    made = await api.mutate(account, ops.CAMPAIGN_CREATE, {"input": campaign}, "couponCampaignCreate")
    return livestream_id, made["campaign"]["id"]


def _iso(moment: datetime) -> str:
    return moment.isoformat()

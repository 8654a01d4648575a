"""The livestream day, phase by phase, through the public API.

Stores run side by side; within a store, shoppers are served one after the other in the plan's order, so
the same seed books the same seats, gives the same guides the same customers and sells the same baskets.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import partial
from typing import Protocol

from ..demo import data
from ..demo.seed import DEMO_SHIFTS
from . import operations as ops
from .client import Account, Api, ApiError
from .plan import DayPlan, Options, StorePlace, Viewer, WalkIn, draw_day
from .servers import DayServer
from .world import Crew, Live, Sku, catalogue, end_live, featured_skus, go_live, sign_in_crews, stores_in_play

SMS_CODE = "000000"  # the development verifier's code
ARRIVE_BEFORE = timedelta(minutes=10)
CHECK_IN_OPENS = timedelta(minutes=60)
NO_SHOW_AFTER = timedelta(minutes=31)
FIRST_SLOT, LAST_SLOT, SLOT = time(10, 0), time(21, 30), timedelta(minutes=30)
FEATURED_POSTS = 3  # the best posts feed the next livestream

Tick = Callable[[], None]


@dataclass
class Tally:
    """What the simulation did (its own count; the KPIs are read back from the server)."""

    viewers: int = 0
    coupons: int = 0
    bookings: int = 0
    without_seat: int = 0
    acknowledged: int = 0
    check_ins: int = 0
    booked_sales: int = 0
    walk_in_sales: int = 0
    refunds: int = 0
    ugc_posts: int = 0
    featured: int = 0
    failures: list[str] = field(default_factory=list)


@dataclass
class Visit:
    viewer: Viewer
    account: Account
    coupon: str | None
    booking_id: str
    store: StorePlace
    slot_start: datetime
    host: Account | None = None  # the guide whose task it is (else the manager)


@dataclass(frozen=True)
class Sale:
    store: str
    order_id: str
    line_id: str


class Progress(Protocol):
    """Phases for the progress bar: ``phase(name, total)`` gives the tick of that phase."""

    def phase(self, name: str, total: int) -> Tick: ...


class Unseen:
    """No progress shown."""

    def phase(self, name: str, total: int) -> Tick:
        return lambda: None


@dataclass
class Day:
    api: Api
    server: DayServer
    options: Options
    progress: Progress = field(default_factory=Unseen)
    tally: Tally = field(default_factory=Tally)
    live: Live | None = None
    day_start: datetime | None = None
    buyers: list[Visit] = field(default_factory=list)

    async def run(self) -> None:
        ops_account = await self.api.staff_login("ops1", data.DEMO_PASSWORD)
        stores = await stores_in_play(self.api, ops_account, self.options.stores)
        skus = await catalogue(self.api, ops_account)
        plan = draw_day(self.options, stores, {c: s.price for c, s in skus.items()}, featured_skus())
        crews = await sign_in_crews(self.api, stores, self.progress.phase("staff sign in", 4 * len(stores)))
        self.day_start = self.server.now()
        self.live = await go_live(self.api, ops_account, self.server.now(), self.options.viewers)
        visits = await self.viewers_join(plan, stores)
        await end_live(self.api, ops_account, self.live)
        await self.server.advance_to(self.server.now() + timedelta(minutes=5))
        await self.guides_acknowledge(crews, visits)
        sales = await self.open_the_stores(plan, visits, crews, {s.code: s for s in stores}, skus)
        await self.close_the_day(sales, crews)
        await self.customers_share(ops_account)
        await self.server.settle_ledger()

    @property
    def local_date(self):
        assert self.day_start is not None
        return self.day_start.astimezone(self.server.zone).date()

    # Viewers: sign in, claim the coupon, find the nearest store in play, book a free slot.

    async def viewers_join(self, plan: DayPlan, stores: list[StorePlace]) -> list[Visit]:
        tick = self.progress.phase("viewers join, claim, book", len(plan.viewers))
        by_store = {s.id: s for s in stores}
        groups = _grouped(plan.viewers, lambda v: v.home)

        async def queue(viewers: list[Viewer]) -> list[Visit]:
            visits = []
            for viewer in viewers:
                if (visit := await self._guarded(self.viewer_joins(viewer, by_store))) is not None:
                    visits.append(visit)
                tick()
            return visits

        return [v for visits in await asyncio.gather(*(queue(g) for g in groups)) for v in visits]

    async def viewer_joins(self, viewer: Viewer, stores: dict[str, StorePlace]) -> Visit | None:
        assert self.live is not None
        account = await self.api.customer_login(viewer.phone, SMS_CODE)
        self.tally.viewers += 1
        claim = {"input": {"campaignId": self.live.campaign_id}}
        coupon = (await self.api.mutate(account, ops.COUPON_CLAIM, claim, "couponClaim"))["coupon"]["code"]
        self.tally.coupons += 1
        location = {"latitude": viewer.latitude, "longitude": viewer.longitude}
        nearby = (await self.api.as_account(account, ops.NEARBY_STORES, {"location": location}))["nearbyStores"]
        store = next((stores[n["store"]["id"]] for n in nearby if n["store"]["id"] in stores), None)
        slot = await self._free_slot(account, store, viewer.slot_pick) if store else None
        if store is None or slot is None:
            self.tally.without_seat += 1
            return None
        booking = {"storeId": store.id, "slotStart": slot, "livestreamId": self.live.livestream_id}
        made = (await self.api.mutate(account, ops.BOOKING_CREATE, {"input": booking}, "bookingCreate"))["booking"]
        self.tally.bookings += 1
        return Visit(viewer, account, coupon, made["id"], store, _utc(made["slotStart"]))

    async def _free_slot(self, account: Account, store: StorePlace, pick: float) -> str | None:
        day = self.local_date.isoformat()
        variables = {"store": store.id, "from": day, "to": day}
        slots = (await self.api.as_account(account, ops.AVAILABLE_SLOTS, variables))["availableSlots"]
        horizon = self._check_in_horizon()
        free = [s["start"] for s in slots if s["remaining"] > 0 and _utc(s["start"]) <= horizon]
        return free[int(pick * len(free))] if free else None

    def _check_in_horizon(self) -> datetime:
        """The last slot start worth booking: any today when the clock moves, else one she can check in to now."""
        if self.server.moves_time:
            return datetime.max.replace(tzinfo=UTC)
        return self.server.now() + CHECK_IN_OPENS

    # Guides: their new tasks, acknowledged.

    async def guides_acknowledge(self, crews: dict[str, Crew], visits: list[Visit]) -> None:
        staff = [(code, a) for code, crew in crews.items() for a in (*crew.guides.values(), crew.manager)]
        tick = self.progress.phase("guides acknowledge tasks", len(staff))
        hosts: dict[str, Account] = {}

        async def acknowledge(account: Account) -> None:
            for task in await self._open_tasks(account):
                await self.api.mutate(account, ops.TASK_ACKNOWLEDGE, {"id": task["id"]}, "taskAcknowledge")
                self.tally.acknowledged += 1
                if task["booking"]:
                    hosts[task["booking"]["id"]] = account
            tick()

        await asyncio.gather(*(self._guarded(acknowledge(account)) for _, account in staff))
        for visit in visits:
            visit.host = hosts.get(visit.booking_id) or crews[visit.store.code].manager

    async def _open_tasks(self, account: Account) -> list[dict]:
        tasks, after = [], None
        while True:
            listing = (await self.api.as_account(account, ops.MY_TASKS, {"after": after}))["myTaskList"]
            tasks += [edge["node"] for edge in listing["edges"]]
            if not listing["pageInfo"]["hasNextPage"]:
                return tasks
            after = listing["pageInfo"]["endCursor"]

    # The stores' day: slot by slot, booked customers arrive (or not), are checked in and buy; walk-ins buy.

    async def open_the_stores(self, plan: DayPlan, visits: list[Visit], crews, stores, skus) -> list[Sale]:
        walk_ins: dict[datetime, list[WalkIn]] = defaultdict(list)
        for walk_in in plan.walk_ins:
            walk_ins[self._walk_in_time(walk_in)].append(walk_in)
        arrivals: dict[datetime, list[Visit]] = defaultdict(list)
        for visit in visits:
            arrivals[visit.slot_start].append(visit)
        moments = sorted(set(arrivals) | set(walk_ins))
        tick = self.progress.phase("the stores' day, slot by slot", len(moments))
        sales: list[Sale] = []
        for moment in moments:
            await self.server.advance_to(moment - ARRIVE_BEFORE)
            work: list[tuple[str, Callable[[], Awaitable[Sale | None]]]] = [
                (v.store.code, partial(self.receive, v, skus)) for v in arrivals[moment]
            ]
            work += [
                (w.store, partial(self.serve_walk_in, w, crews[w.store], stores[w.store], skus))
                for w in walk_ins[moment]
            ]
            sales += [sale for sale in await self._per_store(work) if sale]
            tick()
        return sales

    def _walk_in_time(self, walk_in: WalkIn) -> datetime:
        """A half hour of the opening hours (when the clock moves); now otherwise."""
        if not self.server.moves_time:
            return self.server.now()
        count = (_minutes(LAST_SLOT) - _minutes(FIRST_SLOT)) // 30 + 1
        opening = datetime.combine(self.local_date, FIRST_SLOT, self.server.zone).astimezone(UTC)
        return opening + SLOT * int(walk_in.hour_pick * count)

    async def _per_store(self, work) -> list[Sale | None]:
        """Each store's customers one after the other (in plan order), the stores side by side."""
        queues: dict[str, list] = defaultdict(list)
        for store_code, step in work:
            queues[store_code].append(step)

        async def run(steps) -> list[Sale | None]:
            return [await self._guarded(step()) for step in steps]

        return [sale for result in await asyncio.gather(*(run(q) for q in queues.values())) for sale in result]

    async def receive(self, visit: Visit, skus: dict[str, Sku]) -> Sale | None:
        """She comes (or not), her guide checks her in, and she may buy with her coupon."""
        if not visit.viewer.arrives:
            return None
        host = visit.host
        assert host is not None
        await self.api.mutate(host, ops.BOOKING_CHECK_IN, {"id": visit.booking_id}, "bookingCheckIn")
        self.tally.check_ins += 1
        if not visit.viewer.buys:
            return None
        order = {
            "storeId": visit.store.id,
            "customerId": visit.account.viewer_id,
            "bookingId": visit.booking_id,
            "couponCodes": [visit.coupon] if visit.coupon else [],
        }
        sale = await self._sell(host, visit.store.code, order, visit.viewer.basket, skus)
        self.tally.booked_sales += 1
        self.buyers.append(visit)
        return sale if visit.viewer.refunds else None

    async def serve_walk_in(self, walk_in: WalkIn, crew: Crew, store: StorePlace, skus) -> Sale | None:
        """A shopper who did not book: a guide on shift records her by phone and sells to her."""
        seller = crew.guides[_guide_on_shift(self.server.now().astimezone(self.server.zone).time(), walk_in)]
        variables = {"store": store.id, "phone": walk_in.phone}
        customer = (await self.api.mutate(seller, ops.CUSTOMER_WALK_IN, variables, "customerWalkIn"))["customer"]
        order = {"storeId": store.id, "customerId": customer["id"]}
        sale = await self._sell(seller, store.code, order, walk_in.basket, skus)
        self.tally.walk_in_sales += 1
        return sale if walk_in.refunds else None

    async def _sell(self, seller: Account, store_code: str, order: dict, basket, skus) -> Sale:
        """An order of one unit of each SKU in the basket, paid in cash at the counter."""
        lines = [{"skuId": skus[code].id, "quantity": 1} for code in basket]
        made = await self.api.mutate(seller, ops.ORDER_CREATE, {"input": {**order, "lines": lines}}, "orderCreate")
        order_id = made["order"]["id"]
        payment = {"orderId": order_id, "method": "CASH"}
        await self.api.mutate(seller, ops.ORDER_PAY, {"input": payment}, "orderPay")
        return Sale(store_code, order_id, made["order"]["lines"][0]["id"])

    # Closing time: the no-shows are marked, managers refund what came back.

    async def close_the_day(self, sales: list[Sale], crews: dict[str, Crew]) -> None:
        if self.server.moves_time:
            closing = datetime.combine(self.local_date, LAST_SLOT, self.server.zone).astimezone(UTC)
            await self.server.advance_to(closing + SLOT + NO_SHOW_AFTER)
        tick = self.progress.phase("managers refund", len(sales))

        async def refund(sale: Sale) -> None:
            variables = {
                "input": {
                    "orderId": sale.order_id,
                    "lines": [{"lineId": sale.line_id, "quantity": 1}],
                    "reason": "顾客退货",
                    "restock": True,
                }
            }
            await self.api.mutate(crews[sale.store].manager, ops.ORDER_REFUND, variables, "orderRefund")
            self.tally.refunds += 1
            tick()

        await asyncio.gather(*(self._guarded(refund(sale)) for sale in sales))

    # Evening: some buyers share their visit; ops approve the posts and feature the first few.

    async def customers_share(self, ops_account: Account) -> None:
        assert self.live is not None
        sharing = sorted((v for v in self.buyers if v.viewer.posts), key=lambda v: v.viewer.number)
        tick = self.progress.phase("customers share, ops feature", len(sharing))
        for number, visit in enumerate(sharing):
            post = {
                "platform": "XIAOHONGSHU",
                "url": f"https://www.xiaohongshu.com/explore/sim{self.options.seed}x{visit.viewer.number}",
                "text": "直播间约的到店体验，导购很专业",
                "bookingId": visit.booking_id,
            }
            made = await self._guarded(self.api.mutate(visit.account, ops.UGC_SUBMIT, {"input": post}, "ugcSubmit"))
            if made is not None:
                self.tally.ugc_posts += 1
                await self._feature(ops_account, made["post"]["id"], number < FEATURED_POSTS)
            tick()

    async def _feature(self, ops_account: Account, post_id: str, featured: bool) -> None:
        assert self.live is not None
        decision = {"input": {"postId": post_id, "decision": "APPROVE"}}
        await self._guarded(self.api.mutate(ops_account, ops.UGC_MODERATE, decision, "ugcModerate"))
        if featured:
            chosen = {"input": {"postId": post_id, "livestreamId": self.live.livestream_id}}
            if await self._guarded(self.api.mutate(ops_account, ops.UGC_FEATURE, chosen, "ugcFeature")) is not None:
                self.tally.featured += 1

    async def _guarded(self, step: Awaitable):
        """The step's result; a refusal is counted as a failure and the day goes on."""
        try:
            return await step
        except ApiError as error:
            self.tally.failures.append(str(error))
            return None


def _grouped(items: Iterable, key) -> list[list]:
    groups: dict[str, list] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return list(groups.values())


def _guide_on_shift(now: time, walk_in: WalkIn) -> int:
    """One of the guides whose demo shift covers ``now`` (the walk-in's number chooses which)."""
    on_shift = [n for n, (starts, ends) in sorted(DEMO_SHIFTS.items()) if starts <= f"{now:%H:%M}" < ends]
    choices = on_shift or sorted(DEMO_SHIFTS)
    return choices[walk_in.number % len(choices)]


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)

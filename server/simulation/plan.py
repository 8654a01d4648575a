"""Every choice of the simulated day, drawn up front from one seed: the same seed, the same day."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from ..demo.seed import offset_point

FEATURED_WEIGHT = 4  # the livestream's products sell more
COUPON_MIN_SPEND = 50000  # the demo coupon: spend ¥500, get ¥100 off


@dataclass(frozen=True)
class Options:
    viewers: int = 150
    stores: int = 12
    seed: int = 2026
    buy_share: float = 0.6
    arrival_share: float = 0.85
    walk_in_share: float = 0.3  # walk-ins, as a share of the viewers
    refund_share: float = 0.08
    post_share: float = 0.3  # buyers who share their visit (UGC)


@dataclass(frozen=True)
class StorePlace:
    id: str
    code: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Viewer:
    number: int
    phone: str
    home: str  # the store code she lives near
    latitude: float
    longitude: float
    slot_pick: float  # where in the store's free slots she books, 0 to 1
    arrives: bool
    buys: bool
    basket: tuple[str, ...]  # SKU codes, one unit each
    refunds: bool
    posts: bool = False  # she shares her visit afterwards


@dataclass(frozen=True)
class WalkIn:
    number: int
    phone: str
    store: str
    hour_pick: float  # when in the day she comes in, 0 to 1
    basket: tuple[str, ...]
    refunds: bool


@dataclass(frozen=True)
class DayPlan:
    viewers: list[Viewer]
    walk_ins: list[WalkIn]


def draw_day(options: Options, stores: list[StorePlace], prices: dict[str, int], featured: set[str]) -> DayPlan:
    rng = random.Random(options.seed)
    codes = sorted(prices)
    weights = [FEATURED_WEIGHT if code in featured else 1 for code in codes]

    def basket(items: int, reach: int = 0) -> tuple[str, ...]:
        chosen: list[str] = []
        while len(chosen) < items or sum(prices[c] for c in chosen) < reach:
            code = rng.choices(codes, weights)[0]
            if code not in chosen:
                chosen.append(code)
        return tuple(chosen)

    viewers = [_viewer(options, rng, n, rng.choice(stores), basket) for n in range(options.viewers)]
    walk_count = round(options.viewers * options.walk_in_share)
    walk_ins = [
        WalkIn(
            number=n,
            phone=_phone(options.seed, 5000 + n),
            store=rng.choice(stores).code,
            hour_pick=rng.random(),
            basket=basket(rng.randint(1, 2)),
            refunds=rng.random() < options.refund_share,
        )
        for n in range(walk_count)
    ]
    return DayPlan(viewers, walk_ins)


def _viewer(options: Options, rng: random.Random, number: int, home: StorePlace, basket) -> Viewer:
    latitude, longitude = offset_point(home.latitude, home.longitude, 0.3 * rng.random(), rng.uniform(0, 2 * math.pi))
    arrives = rng.random() < options.arrival_share
    buys = arrives and rng.random() < options.buy_share
    return Viewer(
        number=number,
        phone=_phone(options.seed, number),
        home=home.code,
        latitude=latitude,
        longitude=longitude,
        slot_pick=rng.random(),
        arrives=arrives,
        buys=buys,
        basket=basket(rng.randint(2, 3), COUPON_MIN_SPEND),
        refunds=rng.random() < options.refund_share,
        posts=buys and rng.random() < options.post_share,
    )


def _phone(seed: int, number: int) -> str:
    """A mobile number of its own for each shopper of a seed: 139, four digits of the seed, four of hers."""
    return f"139{seed % 10000:04d}{number % 10000:04d}"

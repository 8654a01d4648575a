"""``irs seed demo``: the Elegance brand, idempotent (what exists is left alone)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from stdnum import ean

from ..domains.catalog.models import Product, ProductCategory, ProductSku, Service
from ..domains.common.actor import Role
from ..domains.common.rows import saved_id
from ..domains.coupons.models import CouponCampaign, DiscountKind, RedemptionChannel
from ..domains.inventory.models import LocationKind, MovementReason, StockLevel, StockLocation, StockMovement
from ..domains.inventory.services import store_location
from ..domains.ledger.models import CommissionPlan, PlanScope
from ..domains.livestreams.models import Channel, Livestream, LivestreamProduct
from ..domains.schedule.models import ShiftPattern
from ..domains.staff.models import StaffSkillCategory, StaffSkillService, StaffUser, Team, TeamMember
from ..domains.staff.passwords import hash_password
from ..domains.stores.models import Store, StoreService
from ..domains.stores.services import DayHours, hours_to_json
from ..unit_of_work import use_case
from . import data

STORE_COUNT = 200
GUIDES_PER_STORE = 3
MAX_OFFSET_KM = 4.5
EARTH_RADIUS_KM = 6371.0088
SHANGHAI = ZoneInfo("Asia/Shanghai")


class SeedRefused(RuntimeError):
    pass


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, str]] = field(default_factory=list)

    def count(self, what: str, n: int) -> None:
        self.created[what] = self.created.get(what, 0) + n


def offset_point(lat: float, lng: float, distance_km: float, bearing: float) -> tuple[float, float]:
    """The point ``distance_km`` from (lat, lng) on ``bearing`` radians (great circle)."""
    d = distance_km / EARTH_RADIUS_KM
    lat1, lng1 = math.radians(lat), math.radians(lng)
    lat2 = math.asin(math.sin(lat1) * math.cos(d) + math.cos(lat1) * math.sin(d) * math.cos(bearing))
    lng2 = lng1 + math.atan2(
        math.sin(bearing) * math.sin(d) * math.cos(lat1), math.cos(d) - math.sin(lat1) * math.sin(lat2)
    )
    return round(math.degrees(lat2), 6), round(math.degrees(lng2), 6)


async def _existing(session: AsyncSession, column) -> set:
    return set((await session.exec(select(column))).all())


async def _seed_catalog(session: AsyncSession, report: SeedReport):
    known = await _existing(session, ProductCategory.code)
    new_categories = [ProductCategory(code=c, name=n) for c, n in data.CATEGORIES if c not in known]
    session.add_all(new_categories)
    report.count("categories", len(new_categories))
    known = await _existing(session, Service.code)
    new_services = [Service(code=c, name=n, duration_minutes=m) for c, n, m, _ in data.SERVICES if c not in known]
    session.add_all(new_services)
    report.count("services", len(new_services))
    await session.flush()
    categories = {c.code: c for c in (await session.exec(select(ProductCategory))).all()}
    services = {s.code: s for s in (await session.exec(select(Service))).all()}
    known = await _existing(session, Product.sku)
    new: list[Product] = []
    for code, items in data.PRODUCTS.items():
        for index, (name, yuan) in enumerate(items, start=1):
            sku = f"{code}-{index:02d}"
            if sku not in known:
                new.append(
                    Product(
                        sku=sku,
                        name=f"Elegance {name}",
                        category_id=saved_id(categories[code]),
                        price_amount=yuan * 100,
                        currency="CNY",
                    )
                )
    session.add_all(new)
    report.count("products", len(new))
    return categories, services


async def _seed_stores(session: AsyncSession, report: SeedReport, services) -> dict[str, Store]:
    rng = random.Random(2026)
    hours = hours_to_json([DayHours(day, time(10), time(22)) for day in range(7)])
    known = await _existing(session, Store.code)
    new = []
    for n in range(1, STORE_COUNT + 1):
        city, lat, lng = data.CITIES[(n - 1) % len(data.CITIES)]
        # Draw the point every time, so a partly seeded database gets the same places.
        point = offset_point(lat, lng, MAX_OFFSET_KM * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi))
        code = f"S{n:03d}"
        if code in known:
            continue
        mall = data.MALLS[n % len(data.MALLS)]
        new.append(
            Store(
                code=code,
                name=f"Elegance {city}{mall}专柜",
                city=city,
                address=f"{city}市{mall} 1 层 Elegance 专柜 ({code})",
                latitude=point[0],
                longitude=point[1],
                timezone="Asia/Shanghai",
                opening_hours=hours,
            )
        )
    session.add_all(new)
    await session.flush()
    session.add_all(StoreService(store_id=saved_id(s), service_id=v.id) for s in new for v in services.values())
    report.count("stores", len(new))
    return {s.code: s for s in (await session.exec(select(Store))).all()}


def _guide_skills(n: int) -> list[str]:
    """Spread skills so each store has every category covered."""
    codes = [c for c, _ in data.CATEGORIES]
    return [codes[(n + k) % len(codes)] for k in range(2)]


async def _seed_staff(session, report, stores, categories, services, password_hash) -> dict[str, StaffUser]:
    known = await _existing(session, StaffUser.username)
    rows: list[tuple[StaffUser, list[str]]] = []

    def add(username: str, name: str, role: Role, store_id: int | None = None, skills=()):
        if username not in known:
            rows.append(
                (
                    StaffUser(
                        username=username,
                        display_name=name,
                        role=role.value,
                        store_id=store_id,
                        password_hash=password_hash,
                    ),
                    list(skills),
                )
            )

    add("admin", "总部管理员", Role.HQ_ADMIN)
    add("analyst", "数据分析师", Role.ANALYST)
    add("ops1", "直播运营 小林", Role.LIVESTREAM_OPS)
    add("ops2", "直播运营 小周", Role.LIVESTREAM_OPS)
    for index, (code, store) in enumerate(sorted(stores.items())):
        prefix = code.lower()
        add(f"{prefix}.manager", f"{store.city}{code} 店长", Role.STORE_MANAGER, store.id)
        for g in range(1, GUIDES_PER_STORE + 1):
            add(
                f"{prefix}.guide{g}",
                f"{code} 美容顾问 {g}号",
                Role.GUIDE,
                store.id,
                _guide_skills(index * GUIDES_PER_STORE + g),
            )
    session.add_all(row for row, _ in rows)
    await session.flush()
    service_for = {cat: code for code, _, _, cat in data.SERVICES}
    for staff, skills in rows:
        staff_id = saved_id(staff)
        session.add_all(StaffSkillCategory(staff_id=staff_id, category_id=categories[c].id) for c in skills)
        session.add_all(
            StaffSkillService(staff_id=staff_id, service_id=services[service_for[c]].id)
            for c in skills
            if c in service_for
        )
    report.count("staff", len(rows))
    return {s.username: s for s in (await session.exec(select(StaffUser))).all()}


# Each demo guide's weekly shift (store-local) and her day off, so every store has guides on shift all day.
DEMO_SHIFTS = {1: ("10:00", "18:00"), 2: ("14:00", "22:00"), 3: ("12:00", "20:00")}


async def _seed_shifts(session, report, staff) -> None:
    has_shifts = set((await session.exec(select(ShiftPattern.staff_id).distinct())).all())
    rows = []
    for username, guide in staff.items():
        if guide.role != Role.GUIDE.value or guide.id in has_shifts:
            continue
        number = int(username.rsplit("guide", 1)[1])
        starts, ends = DEMO_SHIFTS[(number - 1) % len(DEMO_SHIFTS) + 1]
        rows += [
            ShiftPattern(staff_id=guide.id, store_id=guide.store_id, weekday=day, starts=starts, ends=ends)
            for day in range(7)
            if (day + number) % 7 != 0
        ]
    session.add_all(rows)
    report.count("weekly shifts", len(rows))


async def _seed_livestream(session, report, staff, now: datetime) -> None:
    team = (await session.exec(select(Team).where(Team.name == "Elegance Live"))).first()
    if team is None:
        team = Team(name="Elegance Live")
        session.add(team)
        await session.flush()
        session.add_all(TeamMember(team_id=saved_id(team), staff_id=staff[u].id) for u in ("ops1", "ops2"))
        report.count("teams", 1)
    exists = (await session.exec(select(Livestream).where(Livestream.title == data.LIVESTREAM_TITLE))).first()
    if exists:
        return
    local_start = datetime.combine(now.astimezone(SHANGHAI).date() + timedelta(days=1), time(20), SHANGHAI)
    livestream = Livestream(
        title=data.LIVESTREAM_TITLE,
        host_name=data.LIVESTREAM_HOST,
        team_id=team.id,
        channel=Channel.WECHAT_CHANNELS.value,
        scheduled_start=local_start,
        scheduled_end=local_start + timedelta(hours=2),
        talking_points=data.TALKING_POINTS,
    )
    session.add(livestream)
    await session.flush()
    products = {p.sku: p for p in (await session.exec(select(Product))).all()}
    session.add_all(
        LivestreamProduct(livestream_id=saved_id(livestream), product_id=products[sku].id, position=i)
        for i, sku in enumerate(data.LIVESTREAM_SKUS)
    )
    report.count("livestreams", 1)


def _barcode(n: int) -> str:
    """A valid EAN-13 in the 690-699 (China) range, one per demo SKU."""
    stem = f"69{n:010d}"
    return stem + ean.calc_check_digit(stem)


async def _seed_skus(session: AsyncSession, report: SeedReport) -> list[ProductSku]:
    """One SKU per product (its code and price), with a barcode, and two shades more of the lipstick."""
    known = await _existing(session, ProductSku.code)
    new: list[ProductSku] = []
    for product in (await session.exec(select(Product).order_by(col(Product.id)))).all():
        variants: list[tuple[str, dict[str, str]]] = [(product.sku, {})]
        if product.sku == data.SHADED_SKU:
            variants += [(f"{product.sku}-{shade}", {"shade": shade}) for shade in data.SHADES]
        for code, attributes in variants:
            if code not in known:
                number = len(known) + len(new) + 1
                new.append(
                    ProductSku(
                        product_id=saved_id(product),
                        code=code,
                        barcode=_barcode(number),
                        attributes=attributes,
                        price_amount=product.price_amount,
                        currency=product.currency,
                    )
                )
    session.add_all(new)
    await session.flush()
    report.count("SKUs", len(new))
    return list((await session.exec(select(ProductSku))).all())


async def _seed_stock(session: AsyncSession, report: SeedReport, stores: dict[str, Store], now: datetime) -> None:
    """Every store's stock location with units of every SKU (more of the livestream's), and two warehouses."""
    skus = await _seed_skus(session, report)
    featured = set(data.LIVESTREAM_SKUS)
    known = await _existing(session, StockLocation.code)
    locations = [await store_location(session, store) for store in stores.values()]
    for code, name, city, lat, lng in data.WAREHOUSES:
        if code not in known:
            warehouse = StockLocation(
                code=code, name=name, kind=LocationKind.WAREHOUSE.value, city=city, latitude=lat, longitude=lng
            )
            session.add(warehouse)
            await session.flush()
            locations.append(warehouse)
            report.count("warehouses", 1)
    stocked = set((await session.exec(select(StockLevel.location_id).distinct())).all())
    for location in locations:
        if location.id in stocked:
            continue
        for sku in skus:  # as levels.add would record a receipt, written in bulk
            units = 500 if location.kind == LocationKind.WAREHOUSE.value else (20 if sku.code in featured else 5)
            where = {"location_id": saved_id(location), "sku_id": saved_id(sku)}
            session.add(StockLevel(**where, on_hand=units, updated_at=now))
            session.add(
                StockMovement(
                    **where,
                    quantity=units,
                    reason=MovementReason.RECEIPT.value,
                    reference="seed:demo",
                    actor="seed",
                    note="demo stock",
                    created_at=now,
                )
            )
        report.count("stocked locations", 1)


async def _seed_coupons(session: AsyncSession, report: SeedReport, now: datetime) -> None:
    """The livestream's in-store coupon: spend ¥500, get ¥100 off, for two weeks."""
    livestream = (await session.exec(select(Livestream).where(Livestream.title == data.LIVESTREAM_TITLE))).one()
    exists = (await session.exec(select(CouponCampaign).where(CouponCampaign.livestream_id == livestream.id))).first()
    if exists:
        return
    session.add(
        CouponCampaign(
            name=data.COUPON_NAME,
            livestream_id=saved_id(livestream),
            discount_kind=DiscountKind.THRESHOLD.value,
            amount_off=10000,
            min_spend=50000,
            currency="CNY",
            valid_from=now,
            valid_until=now + timedelta(days=14),
            total_stock=1000,
            per_customer_limit=1,
            channel=RedemptionChannel.IN_STORE_ONLY.value,
            created_by="seed",
        )
    )
    report.count("coupon campaigns", 1)


async def _seed_commission_plans(session: AsyncSession, report: SeedReport, now: datetime) -> None:
    """The article's split: livestream-sourced sales 70 % guide / 30 % livestream team at 5 % commission;
    every other sale to the guide at 3 %; make-up at 8 % in both."""
    if (await session.exec(select(CommissionPlan).limit(1))).first() is not None:
        return
    makeup = (await session.exec(select(ProductCategory).where(ProductCategory.code == "MAKEUP"))).first()
    rates = {str(makeup.id): 800} if makeup else {}
    for scope, shares, rate in (
        (PlanScope.DEFAULT, {"GUIDE": 10000}, 300),
        (PlanScope.LIVESTREAM, {"GUIDE": 7000, "LIVESTREAM_TEAM": 3000}, 500),
    ):
        session.add(
            CommissionPlan(
                name=f"{scope.value.title()} plan",
                scope=scope.value,
                effective_from=now,
                shares=[{"participant": p, "basisPoints": v} for p, v in shares.items()],
                rate_basis_points=rate,
                category_rates=rates,
                created_by="seed",
                created_at=now,
                updated_at=now,
            )
        )
    report.count("commission plans", 2)


@use_case
async def seed_demo(session: AsyncSession, *, production: bool, now: datetime) -> SeedReport:
    if production:
        raise SeedRefused("the demo brand is never seeded when IRS_ENV=production")
    report = SeedReport()
    categories, services = await _seed_catalog(session, report)
    stores = await _seed_stores(session, report, services)
    # One hash for every demo account: argon2 is slow on purpose, 800 of them would take minutes.
    password_hash = await hash_password(data.DEMO_PASSWORD)
    staff = await _seed_staff(session, report, stores, categories, services, password_hash)
    await _seed_shifts(session, report, staff)
    await _seed_livestream(session, report, staff, now)
    await _seed_stock(session, report, stores, now)
    await _seed_coupons(session, report, now)
    await _seed_commission_plans(session, report, now)
    report.logins = [
        ("admin", "HQ admin"),
        ("analyst", "analyst"),
        ("ops1", "livestream ops (Elegance Live)"),
        ("s001.manager", "store manager, S001"),
        ("s001.guide1", "guide, S001 (also guide2, guide3)"),
    ]
    return report

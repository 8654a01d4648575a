"""A small brand for tests: two stores, a few staff of every role, a catalog."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import time

from server.domains.catalog.models import Product, ProductCategory, ProductSku, Service
from server.domains.common.actor import Role
from server.domains.inventory.models import StockLocation
from server.domains.inventory.services import store_location
from server.domains.staff.models import StaffUser, Team, TeamMember
from server.domains.staff.passwords import hash_password
from server.domains.stores.models import Store, StoreService
from server.domains.stores.services import DayHours, hours_to_json

PASSWORD = "correct horse battery"
_password_hash: str | None = None


def gid(type_name: str, row_id: int) -> str:
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


@dataclass
class World:
    ids: dict[str, int] = field(default_factory=dict)

    def gid(self, type_name: str, key: str) -> str:
        return gid(type_name, self.ids[key])


async def build_world(database) -> World:
    global _password_hash
    if _password_hash is None:
        _password_hash = await hash_password(PASSWORD)
    world = World()
    hours = hours_to_json([DayHours(day, time(10), time(22)) for day in range(6)])  # closed Sundays
    async with database.writer() as session:
        skincare = ProductCategory(code="SKINCARE", name="护肤")
        makeup = ProductCategory(code="MAKEUP", name="彩妆")
        trial = Service(code="MAKEUP_TRIAL", name="试妆", duration_minutes=45)
        session.add_all([skincare, makeup, trial])
        await session.flush()
        serum = Product(sku="SERUM-01", name="精华", category_id=skincare.id, price_amount=89000, currency="CNY")
        lipstick = Product(sku="LIP-01", name="唇膏", category_id=makeup.id, price_amount=32000, currency="CNY")
        shanghai = Store(
            code="S001",
            name="上海店",
            city="上海",
            address="南京西路 1 号",
            latitude=31.23,
            longitude=121.47,
            timezone="Asia/Shanghai",
            opening_hours=hours,
        )
        beijing = Store(
            code="S002",
            name="北京店",
            city="北京",
            address="王府井 1 号",
            latitude=39.90,
            longitude=116.40,
            timezone="Asia/Shanghai",
            opening_hours=hours,
        )
        session.add_all([serum, lipstick, shanghai, beijing])
        await session.flush()
        session.add(StoreService(store_id=shanghai.id, service_id=trial.id))
        # as stores.create_store makes them
        locations = {
            f"loc:{n}": await store_location(session, s) for n, s in (("shanghai", shanghai), ("beijing", beijing))
        }
        warehouse = StockLocation(
            code="WH-EAST", name="华东仓", kind="WAREHOUSE", city="苏州", latitude=31.30, longitude=120.58
        )
        session.add(warehouse)
        skus = {
            "sku:serum": ProductSku(
                product_id=serum.id, code="SERUM-01", barcode="6901234567892", price_amount=89000, currency="CNY"
            ),
            "sku:lip-red": ProductSku(
                product_id=lipstick.id,
                code="LIP-01-RED",
                barcode="6901234567908",
                attributes={"shade": "999"},
                price_amount=32000,
                currency="CNY",
            ),
            "sku:lip-nude": ProductSku(
                product_id=lipstick.id,
                code="LIP-01-NUDE",
                attributes={"shade": "101"},
                price_amount=32000,
                currency="CNY",
            ),
        }
        session.add_all(skus.values())
        staff = {
            "admin": (Role.HQ_ADMIN, None),
            "analyst": (Role.ANALYST, None),
            "ops": (Role.LIVESTREAM_OPS, None),
            "sh.manager": (Role.STORE_MANAGER, shanghai.id),
            "sh.guide": (Role.GUIDE, shanghai.id),
            "bj.manager": (Role.STORE_MANAGER, beijing.id),
            "bj.guide": (Role.GUIDE, beijing.id),
        }
        rows = {}
        for username, (role, store_id) in staff.items():
            rows[username] = StaffUser(
                username=username,
                display_name=username.title(),
                role=role.value,
                store_id=store_id,
                password_hash=_password_hash,
            )
        session.add_all(rows.values())
        await session.flush()
        team = Team(name="Live Team")
        session.add(team)
        await session.flush()
        session.add(TeamMember(team_id=team.id, staff_id=rows["ops"].id))
        await session.commit()
        world.ids.update(
            {
                "skincare": skincare.id,
                "makeup": makeup.id,
                "trial": trial.id,
                "serum": serum.id,
                "lipstick": lipstick.id,
                "shanghai": shanghai.id,
                "beijing": beijing.id,
                "team": team.id,
                "warehouse": warehouse.id,
                **{name: location.id for name, location in locations.items()},
                **{name: sku.id for name, sku in skus.items()},
                **{name: row.id for name, row in rows.items()},
            }
        )
    return world


LOGIN = """
mutation Login($u: String!, $p: String!) {
  staffLogin(username: $u, password: $p) {
    session { accessToken refreshToken accessTokenExpiresAt viewer { displayName } }
    errors { code field message }
  }
}"""


async def login(api, username: str, password: str = PASSWORD) -> str:
    data = await api.data(LOGIN, {"u": username, "p": password})
    assert data["staffLogin"]["errors"] == [], data
    return data["staffLogin"]["session"]["accessToken"]

"""GraphQL types of the catalog."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry import relay

from ....api.errors import UserError, user_error_type
from ....api.nodes import load_nodes
from ....api.scalars import Money, MoneyAmount
from ...common.rows import saved_id
from .. import services
from ..errors import CatalogErrorCode
from ..models import Product as ProductRow
from ..models import ProductCategory as CategoryRow
from ..models import Service as ServiceRow

if TYPE_CHECKING:  # user_error_type builds the class at run time: mypy knows it by its interface
    CatalogUserError = UserError
else:
    CatalogUserError = user_error_type(
        "Catalog",
        CatalogErrorCode,
        {
            CatalogErrorCode.DUPLICATE_CODE: "A category or service with this code exists.",
            CatalogErrorCode.DUPLICATE_SKU: "A product with this SKU exists.",
            CatalogErrorCode.INVALID_CURRENCY: "A price not in the brand's currency (CNY unless configured).",
        },
    )


@strawberry.type(description="A product category (skincare, makeup, ...).")
class ProductCategory(relay.Node):
    id: relay.NodeID[int]
    code: str = strawberry.field(description="Unique upper-case code, e.g. SKINCARE.")
    name: str = strawberry.field(description="Display name.")

    @classmethod
    def from_row(cls, row: CategoryRow) -> ProductCategory:
        return cls(id=saved_id(row), code=row.code, name=row.name)

    @classmethod
    async def resolve_nodes(cls, *, info, node_ids, required=False):
        return await load_nodes(info, services.categories_by_ids, node_ids, cls.from_row)


@strawberry.type(description="Something a store offers by appointment, such as a makeup trial.")
class Service(relay.Node):
    id: relay.NodeID[int]
    code: str = strawberry.field(description="Unique upper-case code, e.g. MAKEUP_TRIAL.")
    name: str = strawberry.field(description="Display name.")
    duration_minutes: int = strawberry.field(description="How long it takes, in minutes (5 to 480).")
    active: bool = strawberry.field(description="Whether it is offered.")

    @classmethod
    def from_row(cls, row: ServiceRow) -> Service:
        return cls(
            id=saved_id(row), code=row.code, name=row.name, duration_minutes=row.duration_minutes, active=row.active
        )

    @classmethod
    async def resolve_nodes(cls, *, info, node_ids, required=False):
        return await load_nodes(info, services.services_by_ids, node_ids, cls.from_row)


@strawberry.type(description="A product the brand sells.")
class Product(relay.Node):
    id: relay.NodeID[int]
    sku: str = strawberry.field(description="Unique stock-keeping code (upper-case letters, digits, -).")
    name: str = strawberry.field(description="Display name.")
    description: str = strawberry.field(description="Free text, possibly with line breaks; may be empty.")
    price: Money = strawberry.field(description="List price, in minor units of the brand's currency.")
    active: bool = strawberry.field(description="Whether it is on sale.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")
    category_id: strawberry.Private[int]

    @strawberry.field(description="Its category.")
    async def category(self, info: strawberry.Info) -> ProductCategory:
        row = await info.context.loader(services.categories_by_ids).load(self.category_id)
        return ProductCategory.from_row(row)

    @classmethod
    def from_row(cls, row: ProductRow) -> Product:
        return cls(
            id=saved_id(row),
            sku=row.sku,
            name=row.name,
            description=row.description,
            price=Money(amount=MoneyAmount(row.price_amount), currency=row.currency),
            active=row.active,
            created_at=row.created_at,
            updated_at=row.updated_at,
            category_id=row.category_id,
        )

    @classmethod
    async def resolve_nodes(cls, *, info, node_ids, required=False):
        return await load_nodes(info, services.products_by_ids, node_ids, cls.from_row)

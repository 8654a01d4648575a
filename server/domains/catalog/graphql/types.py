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
from .. import services, skus
from ..errors import CatalogErrorCode
from ..models import Product as ProductRow
from ..models import ProductCategory as CategoryRow
from ..models import ProductSku as SkuRow
from ..models import Service as ServiceRow

if TYPE_CHECKING:  # user_error_type builds the class at run time: mypy knows it by its interface
    CatalogUserError = UserError
else:
    CatalogUserError = user_error_type(
        "Catalog",
        CatalogErrorCode,
        {
            CatalogErrorCode.DUPLICATE_CODE: "A category or service with this code exists.",
            CatalogErrorCode.DUPLICATE_SKU: "A product or SKU with this code (or a SKU with this barcode) exists.",
            CatalogErrorCode.INVALID_BARCODE: "Not a valid EAN-13 or UPC-A barcode (length or check digit).",
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
    images: list[str] = strawberry.field(description="Picture URLs (https), the main one first; may be empty.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")
    category_id: strawberry.Private[int]

    @strawberry.field(description="Its sellable variants (shade, size), in the order they were added.")
    async def skus(self, info: strawberry.Info) -> list[Sku]:
        rows = await info.context.loader(skus.skus_by_product, default=[]).load(self.id)
        return [Sku.from_row(row) for row in rows]

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
            images=list(row.images),
            created_at=row.created_at,
            updated_at=row.updated_at,
            category_id=row.category_id,
        )

    @classmethod
    async def resolve_nodes(cls, *, info, node_ids, required=False):
        return await load_nodes(info, services.products_by_ids, node_ids, cls.from_row)


@strawberry.type(description="One variant attribute of a SKU, such as shade = 01 or size = 30ml.")
class SkuAttribute:
    name: str = strawberry.field(description="Lower-case name, e.g. shade, size.")
    value: str = strawberry.field(description="Its value for this SKU.")


@strawberry.type(description="A sellable variant of a product: what stock is counted by and orders sell.")
class Sku(relay.Node):
    id: relay.NodeID[int]
    code: str = strawberry.field(description="Unique code (upper-case letters, digits, -).")
    barcode: str | None = strawberry.field(
        description="EAN-13 digits (a UPC-A code with a leading 0); null when it has none."
    )
    attributes: list[SkuAttribute] = strawberry.field(description="What sets it apart: shade, size...")
    price: Money = strawberry.field(description="Unit price, in minor units of the brand's currency.")
    active: bool = strawberry.field(description="Whether it can be sold (its product must be active too).")
    product_id: strawberry.Private[int]

    @strawberry.field(description="The product it is a variant of.")
    async def product(self, info: strawberry.Info) -> Product:
        row = await info.context.loader(services.products_by_ids).load(self.product_id)
        return Product.from_row(row)

    @classmethod
    def from_row(cls, row: SkuRow) -> Sku:
        return cls(
            id=saved_id(row),
            code=row.code,
            barcode=row.barcode,
            attributes=[SkuAttribute(name=n, value=v) for n, v in sorted(row.attributes.items())],
            price=Money(amount=MoneyAmount(row.price_amount), currency=row.currency),
            active=row.active,
            product_id=row.product_id,
        )

    @classmethod
    async def resolve_nodes(cls, *, info, node_ids, required=False):
        return await load_nodes(info, skus.skus_by_ids, node_ids, cls.from_row)

"""Catalog queries."""

from __future__ import annotations

import strawberry

from ....api.nodes import local_id
from ....api.pagination import Connection, paginate
from ....api.permissions import authenticated
from .. import services
from .types import Product, ProductCategory, Service


@strawberry.type
class CatalogQuery:
    @strawberry.field(extensions=authenticated(), description="Products, optionally by category.")
    async def products(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        category_id: strawberry.ID | None = None,
        active: bool | None = None,
    ) -> Connection[Product]:
        statement = services.product_listing(category_id=local_id(category_id, "ProductCategory"), active=active)
        return await paginate(info, statement, Product.from_row, first=first, after=after)

    @strawberry.field(extensions=authenticated(), description="Product categories.")
    async def product_categories(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[ProductCategory]:
        return await paginate(info, services.category_listing(), ProductCategory.from_row, first=first, after=after)

    @strawberry.field(extensions=authenticated(), description="Services stores can offer.")
    async def services(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[Service]:
        return await paginate(info, services.service_listing(), Service.from_row, first=first, after=after)

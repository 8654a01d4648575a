"""Catalog queries."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ....api.nodes import local_id
from ....api.pagination import After, Connection, First, paginate
from ....api.permissions import authenticated
from .. import services
from .types import Product, ProductCategory, Service


@strawberry.type
class CatalogQuery:
    @strawberry.field(
        extensions=authenticated(), description="Products in id order, optionally by category. Any signed-in viewer."
    )
    async def products(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        category_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only products of this ProductCategory.")
        ] = None,
        active: Annotated[bool | None, strawberry.argument(description="Only products on sale (or not).")] = None,
    ) -> Connection[Product]:
        statement = services.product_listing(category_id=local_id(category_id, "ProductCategory"), active=active)
        return await paginate(info, statement, Product.from_row, first=first, after=after)

    @strawberry.field(extensions=authenticated(), description="Product categories in id order. Any signed-in viewer.")
    async def product_categories(
        self, info: strawberry.Info, first: First = None, after: After = None
    ) -> Connection[ProductCategory]:
        return await paginate(info, services.category_listing(), ProductCategory.from_row, first=first, after=after)

    @strawberry.field(
        extensions=authenticated(),
        description="Services stores can offer (active or not), in id order. Any signed-in viewer.",
    )
    async def services(self, info: strawberry.Info, first: First = None, after: After = None) -> Connection[Service]:
        return await paginate(info, services.service_listing(), Service.from_row, first=first, after=after)

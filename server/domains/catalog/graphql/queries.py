"""Catalog queries."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ....api.errors import query_problem
from ....api.nodes import local_id
from ....api.pagination import After, Connection, First, paginate
from ....api.permissions import authenticated
from ...common.errors import CommonErrorCode, DomainError
from ...common.validation import text_problem
from .. import services, skus
from .types import Product, ProductCategory, Service, Sku

MAX_SEARCH = 50


def _checked_search(search: str | None) -> str | None:
    if search is None:
        return None
    text = search.strip()
    problem = text_problem(text) or (None if 1 <= len(text) <= MAX_SEARCH else f"needs 1-{MAX_SEARCH} characters")
    if problem:
        raise query_problem(DomainError.single(CommonErrorCode.INVALID_VALUE, f"search {problem}", ("search",)))
    return text


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
        search: Annotated[
            str | None,
            strawberry.argument(description="1-50 characters found in the name, the product's or a SKU's code."),
        ] = None,
        barcode: Annotated[
            str | None,
            strawberry.argument(description="Only the product one of whose SKUs has this EAN-13 or UPC-A barcode."),
        ] = None,
    ) -> Connection[Product]:
        statement = services.product_listing(
            category_id=local_id(category_id, "ProductCategory"),
            active=active,
            search=_checked_search(search),
            barcode=barcode,
        )
        return await paginate(info, statement, Product.from_row, first=first, after=after)

    @strawberry.field(extensions=authenticated(), description="One SKU by its id; null when not found.")
    async def sku(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The Sku.")]
    ) -> Sku | None:
        row = await info.context.loader(skus.skus_by_ids).load(local_id(id, "Sku"))
        return Sku.from_row(row) if row else None

    @strawberry.field(
        extensions=authenticated(),
        description="The SKU a scanned barcode names (EAN-13, or UPC-A, found under its EAN-13 spelling); "
        "null when none has it or the code is not a valid barcode.",
    )
    async def sku_by_barcode(
        self, info: strawberry.Info, code: Annotated[str, strawberry.argument(description="The scanned digits.")]
    ) -> Sku | None:
        async with info.context.db() as session:
            row = await skus.sku_by_barcode(session, code[:32])
        return Sku.from_row(row) if row else None

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

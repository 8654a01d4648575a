"""Catalog mutations (HQ_ADMIN)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ....api.errors import mutate
from ....api.nodes import local_id
from ....api.permissions import roles
from ...common.actor import Role
from .. import services
from .inputs import ProductCategoryCreateInput, ProductCreateInput, ProductUpdateInput, ServiceCreateInput
from .types import CatalogUserError, Product, ProductCategory, Service


@strawberry.type(description="The answer to productCategoryCreate.")
class ProductCategoryCreatePayload:
    category: ProductCategory | None = strawberry.field(
        default=None, description="The new category (or the one a retry's key names); null on errors."
    )
    errors: list[CatalogUserError] = strawberry.field(
        description="Why nothing was written (DUPLICATE_CODE or an input check); empty on success."
    )


@strawberry.type(description="The answer to serviceCreate.")
class ServiceCreatePayload:
    service: Service | None = strawberry.field(
        default=None, description="The new service (or the one a retry's key names); null on errors."
    )
    errors: list[CatalogUserError] = strawberry.field(
        description="Why nothing was written (DUPLICATE_CODE or an input check); empty on success."
    )


@strawberry.type(description="The answer to productCreate.")
class ProductCreatePayload:
    product: Product | None = strawberry.field(
        default=None, description="The new product (or the one a retry's key names); null on errors."
    )
    errors: list[CatalogUserError] = strawberry.field(
        description="Why nothing was written (DUPLICATE_SKU, INVALID_CURRENCY, NOT_FOUND for categoryId, "
        "or an input check); empty on success."
    )


@strawberry.type(description="The answer to productUpdate.")
class ProductUpdatePayload:
    product: Product | None = strawberry.field(default=None, description="The product as changed; null on errors.")
    errors: list[CatalogUserError] = strawberry.field(
        description="Why nothing was written (NOT_FOUND, INVALID_CURRENCY or an input check); empty on success."
    )


HQ_ONLY = roles(Role.HQ_ADMIN)


@strawberry.type
class CatalogMutation:
    @strawberry.mutation(extensions=HQ_ONLY, description="Create a product category. HQ_ADMIN only.")
    async def product_category_create(
        self,
        info: strawberry.Info,
        input: Annotated[ProductCategoryCreateInput, strawberry.argument(description="The new category.")],
    ) -> ProductCategoryCreatePayload:
        actor = await info.context.viewer()

        async def action(session):
            draft = services.NamedDraft(code=input.code, name=input.name)
            row = await services.create_category(session, actor, draft, input.idempotency_key)
            return {"category": ProductCategory.from_row(row)}

        return await mutate(info, ProductCategoryCreatePayload, CatalogUserError, action)

    @strawberry.mutation(extensions=HQ_ONLY, description="Create a service stores can offer. HQ_ADMIN only.")
    async def service_create(
        self,
        info: strawberry.Info,
        input: Annotated[ServiceCreateInput, strawberry.argument(description="The new service.")],
    ) -> ServiceCreatePayload:
        actor = await info.context.viewer()

        async def action(session):
            draft = services.NamedDraft(code=input.code, name=input.name)
            row = await services.create_service(session, actor, draft, input.duration_minutes, input.idempotency_key)
            return {"service": Service.from_row(row)}

        return await mutate(info, ServiceCreatePayload, CatalogUserError, action)

    @strawberry.mutation(extensions=HQ_ONLY, description="Create a product. HQ_ADMIN only.")
    async def product_create(
        self,
        info: strawberry.Info,
        input: Annotated[ProductCreateInput, strawberry.argument(description="The new product.")],
    ) -> ProductCreatePayload:
        actor = await info.context.viewer()

        async def action(session):
            draft = services.ProductDraft(
                sku=input.sku,
                name=input.name,
                description=input.description,
                category_id=local_id(input.category_id, "ProductCategory"),
                price_amount=input.price.amount,
                currency=input.price.currency,
                active=input.active,
            )
            row = await services.create_product(
                session,
                actor,
                draft,
                brand_currency=info.context.settings.brand_currency,
                idempotency_key=input.idempotency_key,
            )
            return {"product": Product.from_row(row)}

        return await mutate(info, ProductCreatePayload, CatalogUserError, action)

    @strawberry.mutation(
        extensions=HQ_ONLY, description="Change a product; fields left out stay as they are. HQ_ADMIN only."
    )
    async def product_update(
        self,
        info: strawberry.Info,
        input: Annotated[ProductUpdateInput, strawberry.argument(description="The product and the fields to change.")],
    ) -> ProductUpdatePayload:
        actor = await info.context.viewer()

        async def action(session):
            changes = services.ProductChanges(
                name=input.name,
                description=input.description,
                category_id=local_id(input.category_id, "ProductCategory"),
                price_amount=input.price.amount if input.price else None,
                currency=input.price.currency if input.price else None,
                active=input.active,
            )
            row = await services.update_product(
                session,
                actor,
                local_id(input.id, "Product"),
                changes,
                brand_currency=info.context.settings.brand_currency,
            )
            return {"product": Product.from_row(row)}

        return await mutate(info, ProductUpdatePayload, CatalogUserError, action)

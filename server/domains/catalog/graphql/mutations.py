"""Catalog mutations (HQ_ADMIN)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ....api.errors import mutate
from ....api.nodes import local_id
from ....api.permissions import roles
from ...common.actor import Role
from .. import services, skus
from .inputs import (
    ProductCategoryCreateInput,
    ProductCreateInput,
    ProductSkuCreateInput,
    ProductSkuUpdateInput,
    ProductUpdateInput,
    ServiceCreateInput,
    SkuAttributeInput,
    SkuInput,
)
from .types import CatalogUserError, Product, ProductCategory, Service, Sku


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


@strawberry.type(description="The answer to productSkuCreate and productSkuUpdate.")
class ProductSkuPayload:
    sku: Sku | None = strawberry.field(
        default=None, description="The SKU as created or changed (or the one a retry's key names); null on errors."
    )
    errors: list[CatalogUserError] = strawberry.field(
        description="Why nothing was written (DUPLICATE_SKU, INVALID_BARCODE, INVALID_CURRENCY, NOT_FOUND "
        "or an input check); empty on success."
    )


HQ_ONLY = roles(Role.HQ_ADMIN)


def _attributes(given: list[SkuAttributeInput]) -> dict[str, str]:
    return {attribute.name: attribute.value for attribute in given}


def _sku_draft(given: SkuInput) -> skus.SkuDraft:
    return skus.SkuDraft(
        code=given.code,
        price_amount=given.price.amount,
        currency=given.price.currency,
        barcode=given.barcode,
        attributes=_attributes(given.attributes),
        active=given.active,
    )


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
                images=list(input.images),
                skus=[_sku_draft(given) for given in input.skus],
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
                images=input.images,
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

    @strawberry.mutation(extensions=HQ_ONLY, description="Add a SKU (a variant) to a product. HQ_ADMIN only.")
    async def product_sku_create(
        self,
        info: strawberry.Info,
        input: Annotated[ProductSkuCreateInput, strawberry.argument(description="The product and its new SKU.")],
    ) -> ProductSkuPayload:
        actor = await info.context.viewer()

        async def action(session):
            row = await skus.create_sku(
                session,
                actor,
                local_id(input.product_id, "Product"),
                _sku_draft(input),
                brand_currency=info.context.settings.brand_currency,
                idempotency_key=input.idempotency_key,
            )
            return {"sku": Sku.from_row(row)}

        return await mutate(info, ProductSkuPayload, CatalogUserError, action)

    @strawberry.mutation(
        extensions=HQ_ONLY, description="Change a SKU; fields left out stay as they are. HQ_ADMIN only."
    )
    async def product_sku_update(
        self,
        info: strawberry.Info,
        input: Annotated[ProductSkuUpdateInput, strawberry.argument(description="The SKU and what to change.")],
    ) -> ProductSkuPayload:
        actor = await info.context.viewer()

        async def action(session):
            changes = skus.SkuChanges(
                barcode=input.barcode,
                attributes=_attributes(input.attributes) if input.attributes is not None else None,
                price_amount=input.price.amount if input.price else None,
                currency=input.price.currency if input.price else None,
                active=input.active,
            )
            row = await skus.update_sku(
                session,
                actor,
                local_id(input.id, "Sku"),
                changes,
                brand_currency=info.context.settings.brand_currency,
            )
            return {"sku": Sku.from_row(row)}

        return await mutate(info, ProductSkuPayload, CatalogUserError, action)

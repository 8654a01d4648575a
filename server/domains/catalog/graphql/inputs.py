"""GraphQL inputs of the catalog."""

from __future__ import annotations

import strawberry

from ....api.scalars import MoneyInput

IDEMPOTENCY_KEY = "1-128 characters: a retry with the same key by you returns the first result and writes nothing."


@strawberry.input(description="A new product category.")
class ProductCategoryCreateInput:
    code: str = strawberry.field(description="Unique, 2-32 upper-case letters, digits or _, e.g. SKINCARE.")
    name: str = strawberry.field(description="1-64 characters.")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(description="A new service stores can offer.")
class ServiceCreateInput:
    code: str = strawberry.field(description="Unique, 2-32 upper-case letters, digits or _, e.g. MAKEUP_TRIAL.")
    name: str = strawberry.field(description="1-64 characters.")
    duration_minutes: int = strawberry.field(default=30, description="How long it takes, 5 to 480 minutes.")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(description="A variant attribute, such as shade = 01.")
class SkuAttributeInput:
    name: str = strawberry.field(description="1-32 lower-case letters, digits or _, starting with a letter.")
    value: str = strawberry.field(description="1-64 characters.")


@strawberry.input(description="A sellable variant of a product.")
class SkuInput:
    code: str = strawberry.field(description="Unique, 2-32 upper-case letters, digits or -.")
    price: MoneyInput = strawberry.field(description="Unit price, 0 to ¥100 million, in the brand's currency.")
    barcode: str | None = strawberry.field(
        default=None, description="EAN-13 or UPC-A digits with a valid check digit; unique."
    )
    attributes: list[SkuAttributeInput] = strawberry.field(
        default_factory=list, description="At most 5, e.g. shade and size."
    )
    active: bool = strawberry.field(default=True, description="Whether it can be sold.")


@strawberry.input(description="A new SKU for an existing product.")
class ProductSkuCreateInput(SkuInput):
    product_id: strawberry.ID = strawberry.field(description="The Product it is a variant of.")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(description="Fields left out (or null) stay as they are.")
class ProductSkuUpdateInput:
    id: strawberry.ID = strawberry.field(description="The Sku to change.")
    price: MoneyInput | None = strawberry.field(default=None, description="Unit price, 0 to ¥100 million.")
    barcode: str | None = strawberry.field(default=None, description="EAN-13 or UPC-A digits; unique.")
    attributes: list[SkuAttributeInput] | None = strawberry.field(
        default=None, description="Replaces all of them; at most 5."
    )
    active: bool | None = strawberry.field(default=None, description="Whether it can be sold.")


@strawberry.input(description="A new product.")
class ProductCreateInput:
    sku: str = strawberry.field(description="Unique, 2-32 upper-case letters, digits or -.")
    name: str = strawberry.field(description="1-100 characters.")
    category_id: strawberry.ID = strawberry.field(description="A ProductCategory id.")
    price: MoneyInput = strawberry.field(
        description="0 to 10,000,000,000 minor units (¥100 million), in the brand's currency."
    )
    description: str = strawberry.field(default="", description="At most 2000 characters; line breaks allowed.")
    active: bool = strawberry.field(default=True, description="Whether it is on sale.")
    images: list[str] = strawberry.field(default_factory=list, description="At most 10 https:// picture URLs.")
    skus: list[SkuInput] = strawberry.field(
        default_factory=list,
        description="Its variants (at most 100); none: one SKU with the product's sku code and price.",
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(description="Fields left out (or null) stay as they are.")
class ProductUpdateInput:
    id: strawberry.ID = strawberry.field(description="The Product to change.")
    name: str | None = strawberry.field(default=None, description="1-100 characters.")
    description: str | None = strawberry.field(
        default=None, description="At most 2000 characters; line breaks allowed."
    )
    category_id: strawberry.ID | None = strawberry.field(default=None, description="A ProductCategory id.")
    price: MoneyInput | None = strawberry.field(
        default=None, description="0 to 10,000,000,000 minor units (¥100 million), in the brand's currency."
    )
    active: bool | None = strawberry.field(default=None, description="Whether it is on sale.")
    images: list[str] | None = strawberry.field(
        default=None, description="Replaces the pictures: at most 10 https:// URLs."
    )

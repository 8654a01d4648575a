"""GraphQL inputs of the catalog."""

from __future__ import annotations

import strawberry

from ....api.scalars import MoneyInput


@strawberry.input
class ProductCategoryCreateInput:
    code: str = strawberry.field(description="Upper-case code, e.g. SKINCARE.")
    name: str
    idempotency_key: str | None = None


@strawberry.input
class ServiceCreateInput:
    code: str = strawberry.field(description="Upper-case code, e.g. MAKEUP_TRIAL.")
    name: str
    duration_minutes: int = 30
    idempotency_key: str | None = None


@strawberry.input
class ProductCreateInput:
    sku: str
    name: str
    category_id: strawberry.ID
    price: MoneyInput
    description: str = ""
    active: bool = True
    idempotency_key: str | None = None


@strawberry.input(description="Fields left out (or null) stay as they are.")
class ProductUpdateInput:
    id: strawberry.ID
    name: str | None = None
    description: str | None = None
    category_id: strawberry.ID | None = None
    price: MoneyInput | None = None
    active: bool | None = None

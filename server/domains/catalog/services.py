"""Catalog use cases: categories, services, products."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...clock import utcnow
from ...unit_of_work import use_case
from ..common.actor import Actor, Role
from ..common.errors import CommonErrorCode as Common
from ..common.errors import DomainError
from ..common.idempotency import create_once
from ..common.lookup import rows_by_id
from ..common.text import contains_pattern
from ..common.validation import Validator, not_found
from .errors import CatalogErrorCode as Code
from .models import Product, ProductCategory, ProductSku, Service
from .skus import (
    MAX_SKUS_PER_PRODUCT,
    SkuDraft,
    barcode_key,
    check_images,
    check_price,
    check_sku,
    new_sku,
    refuse_taken,
)

# Scopes of idempotency keys, stored with each key's record: renaming one forgets the keys given.
CATEGORY_KEY_SCOPE = "productCategoryCreate"
SERVICE_KEY_SCOPE = "serviceCreate"
PRODUCT_KEY_SCOPE = "productCreate"

CODE_PATTERN = r"[A-Z0-9_]{2,32}"
SKU_PATTERN = r"[A-Z0-9-]{2,32}"


@dataclass(frozen=True)
class NamedDraft:
    code: str
    name: str


@dataclass(frozen=True)
class ProductDraft:
    sku: str
    name: str
    category_id: int
    price_amount: int
    currency: str
    description: str = ""
    active: bool = True
    images: Sequence[str] = ()
    # Its variants; none: one SKU with the product's code and price.
    skus: Sequence[SkuDraft] = field(default_factory=tuple)


@dataclass(frozen=True)
class ProductChanges:
    name: str | None = None
    description: str | None = None
    category_id: int | None = None
    price_amount: int | None = None
    currency: str | None = None
    active: bool | None = None
    images: Sequence[str] | None = None


def _check_named(draft: NamedDraft) -> Validator:
    check = Validator()
    check.text(
        ("code",),
        draft.code,
        max_length=32,
        pattern=CODE_PATTERN,
        pattern_hint="2-32 upper-case letters, digits or _",
    )
    check.text(("name",), draft.name, max_length=64)
    return check


async def _code_taken(session: AsyncSession, model, code: str) -> bool:
    statement = select(func.count()).select_from(model).where(model.code == code)
    return (await session.exec(statement)).one() > 0


@use_case
async def create_category(
    session: AsyncSession, actor: Actor, draft: NamedDraft, idempotency_key: str | None = None
) -> ProductCategory:
    actor.require_role(Role.HQ_ADMIN)
    check = _check_named(draft)
    check.raise_if_any()
    code = draft.code.strip()

    duplicate = DomainError.single(Code.DUPLICATE_CODE, f"category {code} exists", ("code",))

    async def create():
        if await _code_taken(session, ProductCategory, code):
            raise duplicate
        category = ProductCategory(code=code, name=draft.name.strip())
        session.add(category)
        await session.flush()
        return category

    return await create_once(
        session,
        actor=actor.key,
        scope=CATEGORY_KEY_SCOPE,
        key=idempotency_key,
        payload=asdict(draft),
        create=create,
        duplicate=duplicate,
        model=ProductCategory,
    )


@use_case
async def create_service(
    session: AsyncSession,
    actor: Actor,
    draft: NamedDraft,
    duration_minutes: int = 30,
    idempotency_key: str | None = None,
) -> Service:
    actor.require_role(Role.HQ_ADMIN)
    check = _check_named(draft)
    check.number_range(("durationMinutes",), duration_minutes, 5, 480)
    check.raise_if_any()
    code = draft.code.strip()

    duplicate = DomainError.single(Code.DUPLICATE_CODE, f"service {code} exists", ("code",))

    async def create():
        if await _code_taken(session, Service, code):
            raise duplicate
        service = Service(code=code, name=draft.name.strip(), duration_minutes=duration_minutes)
        session.add(service)
        await session.flush()
        return service

    return await create_once(
        session,
        actor=actor.key,
        scope=SERVICE_KEY_SCOPE,
        key=idempotency_key,
        payload={**asdict(draft), "duration": duration_minutes},
        create=create,
        duplicate=duplicate,
        model=Service,
    )


async def _check_category(session: AsyncSession, check: Validator, category_id: int | None):
    if category_id is not None and await session.get(ProductCategory, category_id) is None:
        check.add(Common.NOT_FOUND, "category not found", ("categoryId",))


@use_case
async def create_product(
    session: AsyncSession,
    actor: Actor,
    draft: ProductDraft,
    *,
    brand_currency: str,
    idempotency_key: str | None = None,
) -> Product:
    actor.require_role(Role.HQ_ADMIN)
    check = Validator()
    sku = check.text(
        ("sku",),
        draft.sku,
        max_length=32,
        pattern=SKU_PATTERN,
        pattern_hint="2-32 upper-case letters, digits or -",
    )
    check.text(("name",), draft.name, max_length=100)
    check.text(("description",), draft.description, max_length=2000, min_length=0, multiline=True)
    check_price(check, ("price",), draft.price_amount, draft.currency, brand_currency)
    images = check_images(check, ("images",), draft.images) or []
    check.count(("skus",), draft.skus, MAX_SKUS_PER_PRODUCT)
    barcodes = [check_sku(check, ("skus", str(i)), d, brand_currency) for i, d in enumerate(draft.skus)]
    await _check_category(session, check, draft.category_id)
    check.raise_if_any()
    sku_drafts = list(draft.skus) or [SkuDraft(code=sku, price_amount=draft.price_amount, currency=draft.currency)]

    duplicate = DomainError.single(Code.DUPLICATE_SKU, f"SKU {sku} exists", ("sku",))

    async def create():
        taken = await session.exec(select(func.count()).where(Product.sku == sku))
        if taken.one():
            raise duplicate
        product = Product(
            sku=sku,
            name=draft.name.strip(),
            description=draft.description.strip(),
            category_id=draft.category_id,
            price_amount=draft.price_amount,
            currency=draft.currency,
            active=draft.active,
            images=images,
        )
        session.add(product)
        await session.flush()
        skus = [new_sku(product.id, d, b) for d, b in zip(sku_drafts, barcodes or [None], strict=False)]
        await refuse_taken(session, skus, ("skus",))
        session.add_all(skus)
        await session.flush()
        return product

    return await create_once(
        session,
        actor=actor.key,
        scope=PRODUCT_KEY_SCOPE,
        key=idempotency_key,
        payload={**asdict(draft), "images": list(draft.images), "skus": [repr(d) for d in draft.skus]},
        create=create,
        duplicate=duplicate,
        model=Product,
    )


@use_case
async def update_product(
    session: AsyncSession,
    actor: Actor,
    product_id: int,
    changes: ProductChanges,
    *,
    brand_currency: str,
) -> Product:
    actor.require_role(Role.HQ_ADMIN)
    product = await session.get(Product, product_id)
    if product is None:
        raise not_found("product", ("id",))
    check = Validator()
    check.text(("name",), changes.name, max_length=100, required=False)
    check.text(("description",), changes.description, max_length=2000, min_length=0, required=False, multiline=True)
    check_price(check, ("price",), changes.price_amount, changes.currency, brand_currency)
    images = check_images(check, ("images",), changes.images)
    await _check_category(session, check, changes.category_id)
    check.raise_if_any()
    for name, value in asdict(changes).items():
        if value is not None and name != "images":
            setattr(product, name, value.strip() if isinstance(value, str) else value)
    if images is not None:
        product.images = images
    product.updated_at = utcnow()
    return product


async def products_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Product]:
    return await rows_by_id(session, Product, ids)


async def categories_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, ProductCategory]:
    return await rows_by_id(session, ProductCategory, ids)


async def services_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Service]:
    return await rows_by_id(session, Service, ids)


def product_listing(
    *, category_id: int | None = None, active: bool | None = None, search: str | None = None, barcode: str | None = None
):
    """Products by category, state, a part of their name or code, or one of their SKUs' barcode."""
    statement = select(Product)
    if search:
        pattern = contains_pattern(search.strip())
        statement = statement.where(
            col(Product.name).ilike(pattern, escape="\\")
            | col(Product.sku).ilike(pattern, escape="\\")
            | col(Product.id).in_(select(ProductSku.product_id).where(col(ProductSku.code).ilike(pattern, escape="\\")))
        )
    if barcode is not None:
        by_barcode = select(ProductSku.product_id).where(ProductSku.barcode == (barcode_key(barcode) or ""))
        statement = statement.where(col(Product.id).in_(by_barcode))
    if category_id is not None:
        statement = statement.where(Product.category_id == category_id)
    if active is not None:
        statement = statement.where(Product.active == active)
    return statement


def category_listing():
    return select(ProductCategory)


def service_listing():
    return select(Service)

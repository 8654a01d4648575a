"""SKUs: the sellable variants of a product (shade, size), with barcode and price."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from stdnum import ean
from stdnum.exceptions import ValidationError

from ...clock import utcnow
from ...unit_of_work import use_case
from ..common.actor import Actor, Role
from ..common.errors import CommonErrorCode as Common
from ..common.errors import DomainError
from ..common.idempotency import create_once
from ..common.lookup import rows_by_id
from ..common.validation import Path, Validator, not_found
from .errors import CatalogErrorCode as Code
from .models import Product, ProductSku

SKU_KEY_SCOPE = "productSkuCreate"
SKU_CODE_PATTERN = r"[A-Z0-9-]{2,32}"
ATTRIBUTE_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
MAX_ATTRIBUTES = 5
MAX_IMAGES = 10
MAX_SKUS_PER_PRODUCT = 100
MAX_PRICE = 100_000_000_00  # one hundred million yuan, in fen


@dataclass(frozen=True)
class SkuDraft:
    code: str
    price_amount: int
    currency: str
    barcode: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    active: bool = True


@dataclass(frozen=True)
class SkuChanges:
    barcode: str | None = None
    attributes: Mapping[str, str] | None = None
    price_amount: int | None = None
    currency: str | None = None
    active: bool | None = None


def barcode_key(raw: str) -> str | None:
    """The EAN-13 spelling of an EAN-13 or UPC-A (12 digits) barcode, or None when it is not one."""
    digits = raw.strip()
    if not digits.isascii() or len(digits) not in (12, 13):
        return None
    try:
        return ean.validate(digits.zfill(13))
    except ValidationError:
        return None


def check_price(check: Validator, path: Path, amount: int | None, currency: str | None, brand_currency: str) -> None:
    check.number_range((*path, "amount"), amount, 0, MAX_PRICE)
    if currency is not None and currency != brand_currency:
        check.add(Code.INVALID_CURRENCY, f"prices are in {brand_currency}", (*path, "currency"))


def check_images(check: Validator, path: Path, images: Sequence[str] | None) -> list[str] | None:
    if images is None:
        return None
    check.count(path, images, MAX_IMAGES)
    kept = []
    for index, url in enumerate(images[:MAX_IMAGES]):
        where = (*path, str(index))
        text = check.text(where, url, max_length=500)
        parts = urlsplit(text) if text and check.ok(where) else None
        if parts is not None and (parts.scheme != "https" or not parts.netloc):
            check.add(Common.INVALID_FORMAT, "an image must be an https:// URL", where)
        kept.append(text)
    return kept


def _check_attributes(check: Validator, path: Path, attributes: Mapping[str, str] | None) -> None:
    if attributes is None:
        return
    if len(attributes) > MAX_ATTRIBUTES:
        check.add(Common.TOO_MANY, f"at most {MAX_ATTRIBUTES} attributes", path)
        return
    for name, value in attributes.items():
        if not ATTRIBUTE_NAME.fullmatch(name):
            check.add(Common.INVALID_FORMAT, "attribute names are 1-32 lower-case letters, digits or _", path)
        check.text((*path, name), value, max_length=64)


def check_sku(check: Validator, path: Path, draft: SkuDraft, brand_currency: str) -> str | None:
    """Check a new SKU; returns its barcode's stored spelling."""
    check.text((*path, "code"), draft.code, max_length=32, pattern=SKU_CODE_PATTERN, pattern_hint="2-32 A-Z, 0-9 or -")
    check_price(check, (*path, "price"), draft.price_amount, draft.currency, brand_currency)
    _check_attributes(check, (*path, "attributes"), draft.attributes)
    return _checked_barcode(check, path, draft.barcode)


def _checked_barcode(check: Validator, path: Path, barcode: str | None) -> str | None:
    if barcode is None:
        return None
    stored = barcode_key(barcode)
    if stored is None:
        check.add(Code.INVALID_BARCODE, "barcode must be a valid EAN-13 or UPC-A code", (*path, "barcode"))
    return stored


def new_sku(product_id: int, draft: SkuDraft, barcode: str | None) -> ProductSku:
    return ProductSku(
        product_id=product_id,
        code=draft.code.strip(),
        barcode=barcode,
        attributes={name: value.strip() for name, value in draft.attributes.items()},
        price_amount=draft.price_amount,
        currency=draft.currency,
        active=draft.active,
    )


async def refuse_taken(session: AsyncSession, skus: Sequence[ProductSku], path: Path) -> None:
    """Codes and barcodes are unique across the catalog (and within one request)."""
    codes = [sku.code for sku in skus]
    barcodes = [sku.barcode for sku in skus if sku.barcode]
    if len(set(codes)) < len(codes) or len(set(barcodes)) < len(barcodes):
        raise DomainError.single(Code.DUPLICATE_SKU, "two SKUs share a code or barcode", path)
    statement = select(func.count()).where(col(ProductSku.code).in_(codes) | col(ProductSku.barcode).in_(barcodes))
    if (await session.exec(statement)).one():
        raise DomainError.single(Code.DUPLICATE_SKU, "a SKU with this code or barcode exists", path)


@use_case
async def create_sku(
    session: AsyncSession,
    actor: Actor,
    product_id: int,
    draft: SkuDraft,
    *,
    brand_currency: str,
    idempotency_key: str | None = None,
) -> ProductSku:
    actor.require_role(Role.HQ_ADMIN)
    product = await session.get(Product, product_id)
    if product is None:
        raise not_found("product", ("productId",))
    check = Validator()
    barcode = check_sku(check, (), draft, brand_currency)
    check.raise_if_any()
    duplicate = DomainError.single(Code.DUPLICATE_SKU, "a SKU with this code or barcode exists", ("code",))

    async def create() -> ProductSku:
        count = await session.exec(select(func.count()).where(ProductSku.product_id == product_id))
        if count.one() >= MAX_SKUS_PER_PRODUCT:
            raise DomainError.single(Common.TOO_MANY, f"at most {MAX_SKUS_PER_PRODUCT} SKUs per product", ())
        sku = new_sku(product_id, draft, barcode)
        await refuse_taken(session, [sku], ("code",))
        session.add(sku)
        await session.flush()
        return sku

    return await create_once(
        session,
        actor=actor.key,
        scope=SKU_KEY_SCOPE,
        key=idempotency_key,
        payload={"product": product_id, **asdict(draft), "attributes": dict(draft.attributes)},
        create=create,
        duplicate=duplicate,
        model=ProductSku,
    )


@use_case
async def update_sku(
    session: AsyncSession, actor: Actor, sku_id: int, changes: SkuChanges, *, brand_currency: str
) -> ProductSku:
    actor.require_role(Role.HQ_ADMIN)
    sku = await session.get(ProductSku, sku_id)
    if sku is None:
        raise not_found("SKU", ("id",))
    check = Validator()
    check_price(check, ("price",), changes.price_amount, changes.currency, brand_currency)
    _check_attributes(check, ("attributes",), changes.attributes)
    barcode = _checked_barcode(check, (), changes.barcode)
    check.raise_if_any()
    if barcode is not None and barcode != sku.barcode:
        taken = await session.exec(select(func.count()).where(ProductSku.barcode == barcode))
        if taken.one():
            raise DomainError.single(Code.DUPLICATE_SKU, "a SKU with this barcode exists", ("barcode",))
        sku.barcode = barcode
    if changes.attributes is not None:
        sku.attributes = {name: value.strip() for name, value in changes.attributes.items()}
    if changes.price_amount is not None:
        sku.price_amount = changes.price_amount
    if changes.active is not None:
        sku.active = changes.active
    sku.updated_at = utcnow()
    return sku


async def skus_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, ProductSku]:
    return await rows_by_id(session, ProductSku, ids)


async def skus_by_product(session: AsyncSession, product_ids: Sequence[int]) -> dict[int, list[ProductSku]]:
    found: dict[int, list[ProductSku]] = {product_id: [] for product_id in product_ids}
    statement = select(ProductSku).where(col(ProductSku.product_id).in_(list(product_ids))).order_by(col(ProductSku.id))
    for sku in await session.exec(statement):
        found[sku.product_id].append(sku)
    return found


async def sku_by_barcode(session: AsyncSession, code: str) -> ProductSku | None:
    """The SKU a scanned EAN-13 or UPC-A code names; None for an unknown or malformed code."""
    key = barcode_key(code)
    if key is None:
        return None
    return (await session.exec(select(ProductSku).where(ProductSku.barcode == key))).first()

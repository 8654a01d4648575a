"""Touchpoint sources: the systems that send OneID events, and their API keys."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from enum import StrEnum

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...unit_of_work import use_case
from ..common.actor import Actor, Role
from ..common.errors import DomainError, Unauthenticated
from ..common.idempotency import create_once
from ..common.validation import Validator, not_found
from .errors import IdentityErrorCode as Code
from .models import (
    TouchpointSource,
)

# Scopes of idempotency keys, stored with each key's record: renaming one forgets the keys given.
SOURCE_KEY_SCOPE = "sourceCreate"

KEY_PREFIX = "irs_src_"


class SourceKind(StrEnum):
    MINI_PROGRAM = "MINI_PROGRAM"
    APP = "APP"
    COMMUNITY = "COMMUNITY"
    LIVESTREAM_PLATFORM = "LIVESTREAM_PLATFORM"
    POS = "POS"
    OTHER = "OTHER"


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


@use_case
async def create_source(
    session: AsyncSession, actor: Actor, name: str, kind: SourceKind, idempotency_key: str | None = None
) -> tuple[TouchpointSource, str | None]:
    """A new source and its API key; the key is shown this once (None on an idempotent replay)."""
    actor.require_role(Role.HQ_ADMIN)
    check = Validator()
    name = check.text(("name",), name, max_length=64)
    check.raise_if_any()
    key = _new_key()
    duplicate = DomainError.single(Code.DUPLICATE_NAME, "a source with this name exists", ("name",))

    async def create():
        if (await session.exec(select(func.count()).where(TouchpointSource.name == name))).one():
            raise duplicate
        source = TouchpointSource(name=name, kind=kind.value, key_hash=_hash_key(key), key_prefix=key[:12])
        session.add(source)
        await session.flush()
        return source

    source = await create_once(
        session,
        actor=actor.key,
        scope=SOURCE_KEY_SCOPE,
        key=idempotency_key,
        payload={"name": name, "kind": kind.value},
        create=create,
        duplicate=duplicate,
        model=TouchpointSource,
    )
    return source, (key if source.key_hash == _hash_key(key) else None)


@use_case
async def rotate_source_key(session: AsyncSession, actor: Actor, source_id: int, now: datetime):
    actor.require_role(Role.HQ_ADMIN)
    source = await session.get(TouchpointSource, source_id)
    if source is None:
        raise not_found("source", ("id",))
    key = _new_key()
    source.key_hash, source.key_prefix, source.key_rotated_at = _hash_key(key), key[:12], now
    return source, key


@use_case
async def disable_source(session: AsyncSession, actor: Actor, source_id: int) -> TouchpointSource:
    actor.require_role(Role.HQ_ADMIN)
    source = await session.get(TouchpointSource, source_id)
    if source is None:
        raise not_found("source", ("id",))
    source.active = False
    return source


async def authenticate_source(session: AsyncSession, api_key: str | None) -> TouchpointSource:
    if not api_key:
        raise Unauthenticated("eventsIngest needs the source's API key in the X-Source-Key header")
    statement = select(TouchpointSource).where(TouchpointSource.key_hash == _hash_key(api_key))
    source = (await session.exec(statement)).first()
    if source is None or not source.active:
        raise Unauthenticated("unknown or disabled source key")
    return source


def source_listing():
    return select(TouchpointSource)

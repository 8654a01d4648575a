"""Retries of a creating mutation with the same key return the first result."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .clock import utcnow
from .columns import utc_field
from .errors import DomainError


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_record"
    __table_args__ = (sa.UniqueConstraint("actor", "operation", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    actor: str = Field(max_length=64)
    operation: str = Field(max_length=64)
    key: str = Field(max_length=128)
    request_hash: str = Field(max_length=64)
    result_id: int
    created_at: Any = utc_field(default_factory=utcnow)


def request_fingerprint(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _recorded(session: AsyncSession, actor: str, operation: str, key: str):
    statement = select(IdempotencyRecord).where(
        IdempotencyRecord.actor == actor,
        IdempotencyRecord.operation == operation,
        IdempotencyRecord.key == key,
    )
    return (await session.exec(statement)).first()


def _check_same_request(record, fingerprint: str, codes: type[Enum]) -> int:
    if record.request_hash != fingerprint:
        raise DomainError.single(
            codes["IDEMPOTENCY_KEY_REUSED"],
            "this idempotencyKey was used for a different request",
            ("input", "idempotencyKey"),
        )
    return record.result_id


async def create_once(
    session: AsyncSession,
    *,
    actor: str,
    operation: str,
    key: str | None,
    payload: Any,
    codes: type[Enum],
    create: Callable[[], Awaitable[int]],
) -> int:
    """Run ``create`` and commit, unless ``key`` was already used by ``actor``.

    Returns the id of the created (or first created) object.
    """
    if key is None:
        result_id = await create()
        await session.commit()
        return result_id
    if len(key) > 128 or not key.strip():
        raise DomainError.single(
            codes["INVALID_VALUE"], "idempotencyKey must have 1-128 characters",
            ("input", "idempotencyKey"),
        )
    fingerprint = request_fingerprint(payload)
    if (record := await _recorded(session, actor, operation, key)) is not None:
        return _check_same_request(record, fingerprint, codes)
    result_id = await create()
    session.add(IdempotencyRecord(
        actor=actor, operation=operation, key=key,
        request_hash=fingerprint, result_id=result_id,
    ))
    try:
        await session.commit()
    except IntegrityError:
        # A concurrent retry with the same key committed first: answer with its result.
        await session.rollback()
        if (record := await _recorded(session, actor, operation, key)) is None:
            raise
        return _check_same_request(record, fingerprint, codes)
    return result_id

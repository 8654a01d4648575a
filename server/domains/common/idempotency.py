"""Retries of a creating mutation with the same key return the first result."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...at_commit import update_at_commit
from ...clock import utcnow
from ...columns import utc_field
from ...prepared import flush_pending, run
from .dialect import dialect_of
from .errors import CommonErrorCode, DomainError
from .rows import Identified, saved_id, table_of


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


Created = TypeVar("Created", bound=Identified)


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


def _check_same_request(record, fingerprint: str) -> int:
    if record.request_hash != fingerprint:
        raise DomainError.single(
            CommonErrorCode.IDEMPOTENCY_KEY_REUSED,
            "this idempotencyKey was used for a different request",
            ("idempotencyKey",),
        )
    return record.result_id


async def create_once(
    session: AsyncSession,
    *,
    actor: str,
    scope: str,
    key: str | None,
    payload: Any,
    create: Callable[[], Awaitable[Created]],
    model: type[Created],
    duplicate: DomainError | None = None,
) -> Created:
    """Run ``create`` in the caller's unit of work, unless ``key`` was already used by ``actor`` in ``scope``
    (the use case's name for its keys, stored with the record).

    Returns the created object, or the one the first request with this key
    created (a ``model`` row); the caller's use case commits. A key alone is
    claimed before ``create`` runs, so a concurrent retry waits for the first
    request's outcome. With ``duplicate``, ``create`` is flushed in a savepoint:
    when a concurrent request wins the race anyway, its unique record (or the
    database's unique constraint on what ``create`` wrote) fails the flush, the
    savepoint is rolled back, and the first request's result is returned (or
    ``duplicate`` raised).
    """
    fingerprint = request_fingerprint(payload)
    if key is not None:
        if len(key) > 128 or not key.strip():
            raise DomainError.single(
                CommonErrorCode.INVALID_VALUE,
                "idempotencyKey must have 1-128 characters",
                ("idempotencyKey",),
            )
        if duplicate is None:
            return await _create_under_claim(session, (actor, scope, key), fingerprint, create, model)
        if (record := await _recorded(session, actor, scope, key)) is not None:
            return await _first_result(session, model, record, fingerprint)
    if key is None and duplicate is None:  # no race to recover from: spare the savepoint's round trips
        return await _create_and_record(session, create, None)
    record = IdempotencyRecord(actor=actor, operation=scope, key=key or "", request_hash=fingerprint, result_id=0)
    try:
        async with session.begin_nested():
            created = await _create_and_record(session, create, record if key is not None else None)
    except (IntegrityError, DomainError) as error:
        # A concurrent retry with the same key committed first (its unique record stopped us, or what
        # it took made our attempt fail: the last seat, say): answer with its result.
        if key is not None and (record := await _recorded(session, actor, scope, key)) is not None:
            return await _first_result(session, model, record, fingerprint)
        if isinstance(error, DomainError):
            raise
        raise _as_duplicate(error, duplicate) from error
    return created


async def _create_under_claim(
    session: AsyncSession,
    actor_scope_key: tuple[str, str, str],
    fingerprint: str,
    create: Callable[[], Awaitable[Created]],
    model: type[Created],
) -> Created:
    """Claim the key first (INSERT … ON CONFLICT DO NOTHING), then create. A concurrent request with the
    same key waits on the claim until the first one commits, and answers with its result; or until it
    rolls back, and creates. One statement on PostgreSQL: the result is written with the commit (server.at_commit),
    where a savepoint around the creation took four."""
    actor, scope, key = actor_scope_key
    claim = {"actor": actor, "operation": scope, "key": key, "request_hash": fingerprint, "created_at": utcnow()}
    claim_id = (await run(session, _claim_key(dialect_of(session)), claim)).scalar_one_or_none()
    if claim_id is None:
        record = await _recorded(session, actor, scope, key)
        if record is None:  # the holder's row is gone (purged, or its holder rolled back after all)
            raise LookupError(f"idempotency key {key!r} was claimed but has no record")
        return await _first_result(session, model, record, fingerprint)
    created = await create()
    await flush_pending(session)
    update_at_commit(session, table_of(IdempotencyRecord), [{"id": claim_id, "result_id": saved_id(created)}])
    session.info.setdefault(_RESULTS, {})[claim_id] = saved_id(created)  # the record says 0 until the commit
    return created


_RESULTS = "irs_idempotency_results"  # session.info: claim id -> its result, written with the commit


@functools.cache
def _claim_key(dialect: str):
    table = table_of(IdempotencyRecord)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values: dict[str, Any] = {
        name: sa.bindparam(name) for name in ("actor", "operation", "key", "request_hash", "created_at")
    }
    return insert(table).values(**values, result_id=0).on_conflict_do_nothing().returning(table.c.id)


async def _create_and_record(
    session: AsyncSession, create: Callable[[], Awaitable[Created]], record: IdempotencyRecord | None
) -> Created:
    created = await create()
    if record is not None:
        record.result_id = saved_id(created)
        session.add(record)
    await session.flush()
    return created


async def _first_result(
    session: AsyncSession, model: type[Created], record: IdempotencyRecord, fingerprint: str
) -> Created:
    result_id = _check_same_request(record, fingerprint) or session.info.get(_RESULTS, {}).get(record.id, 0)
    created = await session.get(model, result_id)
    if created is None:  # no use case deletes a row created through create_once
        raise LookupError(f"idempotent result {model.__name__} {result_id} is gone")
    return created


def _as_duplicate(error: IntegrityError, duplicate: DomainError | None) -> Exception:
    is_unique = "unique" in str(error.orig).lower()
    return duplicate if duplicate is not None and is_unique else error

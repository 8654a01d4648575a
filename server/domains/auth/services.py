"""Sign-in, token rotation, sign-out and the brute-force lock."""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from ...clock import Clock
from ...housekeeping import purge
from ...outbox import emit
from ...prepared import run
from ...unit_of_work import use_case
from ..common.actor import Actor, ActorKind, Role
from ..common.errors import DomainError
from ..common.ratelimits import AbuseLimits, RateLimited
from ..common.rows import held_by, keep, model_columns, saved_id, select_columns
from ..identity import login
from ..identity.models import Person
from ..identity.persons import root_person
from ..identity.policy import IdentityPolicy
from ..identity.verifiers import Verifiers
from ..staff.hooks import on_access_change
from ..staff.models import StaffUser
from ..staff.passwords import decoy_hash, hash_password, needs_rehash, verify_password
from ..staff.services import find_by_username, normalize_username
from .errors import AuthErrorCode as Code
from .models import RefreshToken
from .tokens import TokenPolicy, encode_access_token, hash_refresh_secret, new_refresh_secret
from .topics import REVOCATIONS_TOPIC, SESSIONS_REVOKED, account_topic


@dataclass(frozen=True)
class IssuedTokens:
    actor: Actor
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime


def staff_actor(staff: StaffUser) -> Actor:
    return Actor(kind=ActorKind.STAFF, id=saved_id(staff), role=Role(staff.role), store_id=staff.store_id)


async def _issue(
    session: AsyncSession, policy: TokenPolicy, actor: Actor, now: datetime, family_id: str | None = None
) -> IssuedTokens:
    family_id = family_id or secrets.token_hex(16)
    access, access_expires = encode_access_token(policy, actor, family_id, now)
    secret = new_refresh_secret()
    refresh = RefreshToken(
        token_hash=hash_refresh_secret(secret),
        family_id=family_id,
        actor_key=actor.key,
        issued_at=now,
        expires_at=now + policy.refresh_ttl,
    )
    session.add(refresh)
    return IssuedTokens(actor, access, access_expires, secret, refresh.expires_at)


async def _reserve_attempt(limits: AbuseLimits, username: str, address: str) -> None:
    """Count this sign-in attempt before the password is checked; LOGIN_LOCKED when over a limit.

    Per username and client address, so a stranger's guesses lock out the stranger, not her;
    and per username across all addresses, a higher ceiling against guesses spread over many.
    Each count is one atomic step of the shared counter, so parallel guesses cannot slip past.
    A successful sign-in clears the count of her address.
    """
    try:
        await limits.take(limits.sign_in_per_address, username, address)
        await limits.take(limits.sign_in_per_username, username)
    except RateLimited as limited:
        raise DomainError.single(
            Code.LOGIN_LOCKED, "too many failed sign-ins; try again in a few minutes", retry_after=limited.retry_after
        ) from None


@use_case
async def staff_login(
    session: AsyncSession,
    policy: TokenPolicy,
    clock: Clock,
    limits: AbuseLimits,
    address: str,
    username: str,
    password: str,
) -> IssuedTokens:
    """Sign a staff member in from a client address. Unknown usernames fail exactly like wrong passwords."""
    now = clock.now()
    name = normalize_username(username or "")[:64]
    await _reserve_attempt(limits, name, address)
    staff = await find_by_username(session, name) if name else None
    password_hash = staff.password_hash if staff else decoy_hash()
    await session.commit()  # end the read before the slow hash check: no connection (or SQLite lock) held
    password_ok = await verify_password(password_hash, password or "")
    if not (staff and staff.active and password_ok):
        raise DomainError.single(Code.INVALID_CREDENTIALS, "wrong username or password")
    await limits.forget(limits.sign_in_per_address, name, address)
    if needs_rehash(staff.password_hash):
        staff.password_hash = await hash_password(password)
    return await _issue(session, policy, staff_actor(staff), now)


async def _revoke_family(session: AsyncSession, actor_key: str, family_id: str, now: datetime) -> None:
    """End one session: its refresh tokens, its access tokens and its open sockets, on every replica."""
    await session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    _announce_revocation(session, actor_key, family_id, now)


def _announce_revocation(session: AsyncSession, actor_key: str, family_id: str | None, now: datetime) -> None:
    """Her open sockets close (her account's topic); every replica forgets a staff member's kept confirmation
    (customers' are never kept)."""
    revocation = {"actorKey": actor_key, "sessionId": family_id}
    emit(session, account_topic(actor_key), SESSIONS_REVOKED, revocation, now)
    if actor_key.startswith(f"{ActorKind.STAFF.value}:"):
        emit(session, REVOCATIONS_TOPIC, SESSIONS_REVOKED, revocation, now)


@functools.cache
def _account_with_session_end(model: type[Person] | type[StaffUser], with_session: bool) -> Any:
    """Built once (every signed-in customer's operation reads it): the account by id (``:id``) and whether the
    session ``:family`` was ended, a revoked refresh token of the family (one probe of a partial index)."""
    ended = (
        sa.exists().where(
            col(RefreshToken.family_id) == sa.bindparam("family"), col(RefreshToken.revoked_at).is_not(None)
        )
        if with_session
        else sa.false()
    )
    return select_columns(*model_columns(model), ended).where(col(model.id) == sa.bindparam("id"))


def _invalid_refresh() -> DomainError:
    return DomainError.single(
        Code.INVALID_REFRESH_TOKEN, "refresh token is invalid or expired; sign in again", ("refreshToken",)
    )


async def current_actor(session: AsyncSession, actor_key: str, session_id: str | None = None) -> Actor | None:
    """The actor as the database has it now (active, current role and store), or None.

    With ``session_id`` (an access token's), None also when that session was
    ended (sign-out, a replayed refresh token, or every session revoked). For
    staff this is one statement: the account by primary key and an index probe.
    The row read is kept in the session: the operation's own steps (a booking for her) find it there.
    """
    kind, _, raw_id = actor_key.partition(":")
    if kind not in (ActorKind.CUSTOMER.value, ActorKind.STAFF.value):
        return None
    params = {"id": int(raw_id), "family": session_id}
    model: type[Person] | type[StaffUser] = Person if kind == ActorKind.CUSTOMER.value else StaffUser
    # The account and her session's end in one statement; the row is the session's for what follows.
    found = (await run(session, _account_with_session_end(model, session_id is not None), params)).first()
    if found is None or found[-1]:
        return None
    account = held_by(session, model, found[:-1])
    if isinstance(account, Person):
        return await _current_customer(session, int(raw_id))
    staff = cast(StaffUser, account)
    if not staff.active:
        return None
    keep(session, staff)
    return staff_actor(staff)


async def _current_customer(session: AsyncSession, person_id: int) -> Actor | None:
    """A customer signs in as a person; if that person was merged since, she is the survivor now."""
    person = await root_person(session, person_id)
    if person is None or person.erased_at is not None:
        return None
    keep(session, person)
    return Actor(kind=ActorKind.CUSTOMER, id=saved_id(person))


@use_case
async def customer_login(
    session: AsyncSession,
    policy: TokenPolicy,
    identity: IdentityPolicy,
    verifiers: Verifiers,
    limits: AbuseLimits,
    now: datetime,
    **proof: str | None,
) -> IssuedTokens:
    """Sign a customer in: identity verifies her proof (phone and SMS code, or a WeChat code) and
    resolves her through OneID; she gets a session as that person."""
    person_id = await login.customer_login(session, identity, verifiers, limits, now, **proof)
    return await _issue(session, policy, Actor(kind=ActorKind.CUSTOMER, id=person_id), now)


@use_case
async def refresh_tokens(session: AsyncSession, policy: TokenPolicy, clock: Clock, refresh_token: str) -> IssuedTokens:
    """Rotate: the presented token is spent, a new pair is issued in the same family."""
    now = clock.now()
    statement = select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_secret(refresh_token or ""))
    row = (await session.exec(statement)).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise _invalid_refresh()
    spent = await session.exec(
        update(RefreshToken)
        .where(
            col(RefreshToken.id) == row.id, col(RefreshToken.used_at).is_(None), col(RefreshToken.revoked_at).is_(None)
        )
        .values(used_at=now)
    )
    actor = await current_actor(session, row.actor_key)
    if spent.rowcount != 1 or actor is None:
        # Reuse of a spent token means it leaked: end the whole session (every token of the family).
        await _revoke_family(session, row.actor_key, row.family_id, now)
        await session.commit()  # the revocation stands although the request is refused
        raise _invalid_refresh()
    return await _issue(session, policy, actor, now, family_id=row.family_id)


@use_case
async def logout(session: AsyncSession, clock: Clock, refresh_token: str, *, everywhere: bool = False) -> bool:
    """End the session the refresh token belongs to (or all of its owner's). Idempotent."""
    now = clock.now()
    statement = select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_secret(refresh_token or ""))
    row = (await session.exec(statement)).first()
    if row is None:
        return False
    if everywhere:
        await revoke_sessions(session, row.actor_key, now)
    else:
        await _revoke_family(session, row.actor_key, row.family_id, now)
    return True


async def revoke_sessions(session: AsyncSession, actor_key: str, now: datetime) -> None:
    """End every session of an actor (deactivation, password or role change, sign-out everywhere).

    Every refresh token is revoked, which ends the access tokens of their
    sessions, and every replica closes her open sockets (in the caller's
    transaction, through the outbox).
    """
    await session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.actor_key) == actor_key, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    _announce_revocation(session, actor_key, None, now)


async def purge_refresh_tokens(session: AsyncSession, before: datetime) -> int:
    """Refresh tokens that expired before ``before`` (they are refused either way)."""
    return await purge(session, RefreshToken, RefreshToken.expires_at < before)


@on_access_change("auth")
async def end_staff_sessions(session: AsyncSession, staff_id: int, now: datetime) -> None:
    """Tokens carry the member's role and store: a changed or deactivated member signs in again."""
    await revoke_sessions(session, f"staff:{staff_id}", now)

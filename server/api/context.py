"""Per-request GraphQL context and the per-operation unit of work."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.dataloader import DataLoader
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from ..bus import Bus
from ..clock import Clock
from ..db import COMMITTED, Database
from ..domains.auth.confirmations import StaffConfirmations
from ..domains.auth.services import current_actor
from ..domains.auth.tokens import AccessClaims, TokenPolicy, decode_access_token
from ..domains.common.actor import Actor
from ..domains.common.errors import Unauthenticated
from ..domains.common.ratelimits import AbuseLimits
from ..domains.dashboards.boards import LiveBoards
from ..domains.identity.policy import IdentityPolicy
from ..domains.identity.verifiers import Verifiers
from ..domains.payments.services import Providers
from ..domains.tasks.services import TaskPolicy
from ..prepared import close
from ..settings import Settings
from .live import SharedLiveReads
from .request_id import current_request_id

logger = logging.getLogger("irs.api")


@dataclass(frozen=True)
class Runtime:
    """What the app's lifespan owns and every request shares."""

    settings: Settings
    db: Database
    tokens: TokenPolicy
    clock: Clock
    identity: IdentityPolicy
    verifiers: Verifiers
    bus: Bus
    limits: AbuseLimits
    live_boards: LiveBoards  # the livestream dashboards of this process
    confirmations: StaffConfirmations  # staff accounts confirmed a moment ago, forgotten at a revocation
    live_reads: SharedLiveReads  # what live events name, read once for every subscription woken together
    payments: Providers = field(default_factory=lambda: Providers({}, ""))
    timer: Callable[[], float] = time.monotonic  # seconds, for the operations' time budget

    @property
    def task_policy(self) -> TaskPolicy:
        return TaskPolicy(
            ack_sla_minutes=self.settings.task_ack_sla_minutes, reminder_minutes=self.settings.task_reminder_minutes
        )


@dataclass
class OperationScope:
    """One GraphQL operation: its session, opened on first use, and its loaders.

    A query may open a second session, for heavier reads that run beside the others
    (:meth:`Context.db_beside`); mutations and subscriptions have only one.
    """

    runtime: Runtime
    write: Callable[[], bool]
    live: Callable[[], bool] = lambda: False  # a subscription: its reads take the live pool
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    session: AsyncSession | None = None
    beside_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    beside_session: AsyncSession | None = None
    viewer_confirmed: bool = False
    loaders: dict[Hashable, DataLoader] = field(default_factory=dict)
    side_writes: list[asyncio.Task] = field(default_factory=list)
    deadline: float = float("inf")  # by runtime.timer(); subscriptions are not held to it
    writers: list[AsyncSession] = field(default_factory=list)

    closed: bool = False

    def check_time_budget(self) -> None:
        """Past its deadline, an operation reads and writes no more: the fields still to come
        answer TIMEOUT (a statement already running is not interrupted)."""
        if not self.live() and self.runtime.timer() > self.deadline:
            raise out_of_time(self.runtime.settings.request_timeout_seconds, self.committed)

    @property
    def committed(self) -> bool:
        """Whether this operation's writes were committed (then a retry would write them again)."""
        return any(writer.info.get(COMMITTED) for writer in self.writers)

    async def close(self) -> None:
        """Wait for the side writes, then give back the sessions once nobody uses them.

        The locks are taken first: a DataLoader batch runs in a task of its own and may
        still be reading when the operation ends. Closing never fails the operation.
        """
        try:
            await asyncio.gather(*self.side_writes)
        finally:
            async with self.lock, self.beside_lock:
                self.closed = True
                await self._close_session()

    async def _close_session(self) -> None:
        session, beside = self.session, self.beside_session
        self.session = self.beside_session = None
        for each in (session, beside):
            if each is not None:
                await release(each)

    def open_session(self, make: Callable[[], AsyncSession]) -> AsyncSession:
        if self.closed:
            raise RuntimeError("the GraphQL operation has finished")
        session = make()
        if make is self.runtime.db.writer:
            self.writers.append(session)
        return session


def out_of_time(budget_seconds: float, committed: bool) -> GraphQLError:
    return GraphQLError(
        f"the operation ran out of its {budget_seconds:g} s time budget"
        + (" after its changes were committed" if committed else "; nothing was written"),
        extensions={"code": "TIMEOUT", "budgetSeconds": budget_seconds, "committed": committed},
    )


async def release(session: AsyncSession) -> None:
    """Close a session; if its connection is broken, discard the connection instead of raising."""
    try:
        await close(session)
    except Exception:
        logger.warning(
            "closing a session failed (request %s); its connection is discarded", current_request_id(), exc_info=True
        )
        await discard(session)


async def discard(session: AsyncSession) -> None:
    """Throw the session's connection away (a statement was cancelled mid-flight: its state is unknown)."""
    try:
        await session.invalidate()
    except Exception:
        logger.warning("invalidating a session's connection failed", exc_info=True)


@asynccontextmanager
async def _guarded(holder: OperationScope, attribute: str) -> AsyncIterator[AsyncSession]:
    """Lend the scope's session; a user cancelled while holding it (GraphQL cancels a field's
    siblings when it fails) leaves it in an unknown state, so it is discarded and the next
    user opens a fresh one."""
    session = getattr(holder, attribute)
    try:
        yield session
    except asyncio.CancelledError:
        if getattr(holder, attribute) is session:
            setattr(holder, attribute, None)
            await discard(session)
        raise


_current_scope: ContextVar[OperationScope | None] = ContextVar("irs_operation", default=None)


class Context:
    """Strawberry context: who is calling, and access to the operation's session."""

    def __init__(self, runtime: Runtime, request: Any, authorization: str | None = None) -> None:
        self.runtime = runtime
        self.request = request
        self.request_id = current_request_id()
        self.connection_params: dict[str, Any] | None = None  # set by the WebSocket handler
        self._actor: Actor | None = None
        self._claims: AccessClaims | None = None
        self._auth_problem: str | None = None
        self.authenticate(authorization)

    def authenticate(self, authorization: str | None) -> None:
        """Read ``Bearer <token>``; a bad token is remembered, not raised, until a field needs it."""
        self._actor, self._claims, self._auth_problem = None, None, None
        if not authorization:
            return
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            self._auth_problem = "authorization must be 'Bearer <access token>'"
            return
        try:
            self._claims = decode_access_token(self.runtime.tokens, token.strip(), self.runtime.clock.now())
        except Unauthenticated as problem:
            self._auth_problem = str(problem)
        else:
            self._actor = self._claims.actor

    async def confirm_actor(self, session: AsyncSession | None = None) -> None:
        """Check the token's holder against the database: still active, current role and store.

        One statement (the account by primary key, and whether the token's session
        was ended), so a deactivated account, a changed role or an ended session
        takes effect at once rather than when the access token expires. A staff
        member's answer is kept a few seconds (``runtime.confirmations``), until a
        revocation on the bus says otherwise.
        """
        if self._actor is None or self._confirmed_from_cache():
            return
        key, session_id = self._actor.key, self._session_id
        read_at = self.runtime.confirmations.version
        # SQLite reads from a snapshot taken at its transaction's first read: one already open may
        # predate a revocation, so what it says is used but not kept.
        keepable = session is None or not (self.runtime.db.is_sqlite and session.in_transaction())
        if session is None:
            async with self.runtime.db.reader() as own_session:
                current = await current_actor(own_session, key, session_id)
        else:
            current = await current_actor(session, key, session_id)
        if keepable:
            self.runtime.confirmations.keep(key, session_id, current, read_at)
        self._apply_confirmation(current)

    @property
    def _session_id(self) -> str | None:
        return self._claims.session_id if self._claims else None

    def _confirmed_from_cache(self) -> bool:
        kept = self._actor and self.runtime.confirmations.confirmed(self._actor.key, self._session_id)
        if kept:
            self._actor = kept
        return bool(kept)

    async def viewer(self) -> Actor:
        """The confirmed actor of this operation (checked once per operation, in its session)."""
        scope = self._scope()
        if self._actor is not None and not scope.viewer_confirmed:
            if self._confirmed_from_cache():
                scope.viewer_confirmed = True
                return self.require_actor()
            async with self.db() as session:
                if not scope.viewer_confirmed:  # a sibling field may have done it meanwhile
                    await self.confirm_actor(session)
                    scope.viewer_confirmed = True
        return self.require_actor()

    def _apply_confirmation(self, current: Actor | None) -> None:
        if current is None:
            self.end_session()
        else:
            self._actor = current

    async def session_ended(self) -> bool:
        """Whether the database says this token's session is over (then refuse from now on).
        False once the token expired: operations are refused then, but the session may go on."""
        if self._claims is None:
            return False
        async with self.runtime.db.live_reader() as session:
            current = await current_actor(session, self._claims.actor.key, self._claims.session_id)
        if current is None:
            self.end_session()
        return current is None

    def end_session(self) -> None:
        """Her session ended (told by the bus, or found in the database): refuse from now on."""
        self._actor, self._auth_problem = None, "session ended or account deactivated; sign in again"

    def ends_my_session(self, revocation: dict[str, Any]) -> bool:
        """Whether a SESSIONS_REVOKED message of this account ends this context's session."""
        ended = revocation.get("sessionId")
        return self._claims is not None and (ended is None or ended == self._claims.session_id)

    @property
    def account_key(self) -> str | None:
        """Whose token this context was authenticated with (kept after her session ends)."""
        return self._claims.actor.key if self._claims is not None else None

    @property
    def actor(self) -> Actor | None:
        return self._actor

    def require_actor(self) -> Actor:
        """The actor as the token says, refused once the token expired; not confirmed against the database.
        For ``api/`` itself (a subscription checks it at each message): resolvers call :meth:`viewer`."""
        if self._claims is not None and self.runtime.clock.now() >= self._claims.expires_at:
            # A WebSocket outlives its token: refuse once the token has expired.
            self._actor, self._claims, self._auth_problem = None, None, "access token expired"
        if self._actor is None:
            raise Unauthenticated(self._auth_problem or "authentication required")
        return self._actor

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def client_address(self) -> str:
        """The caller's address: the socket peer, or what a trusted proxy forwarded (IRS_TRUSTED_PROXIES)."""
        client = getattr(self.request, "client", None)
        return client.host if client is not None and client.host else "unknown"

    def _scope(self) -> OperationScope:
        scope = _current_scope.get()
        if scope is None:
            raise RuntimeError("no GraphQL operation is running")
        return scope

    @asynccontextmanager
    async def db(self) -> AsyncIterator[AsyncSession]:
        """The operation's session, one user at a time.

        GraphQL resolves sibling fields concurrently, and an AsyncSession must
        not be used concurrently; the lock serialises them.
        """
        scope = self._scope()
        scope.check_time_budget()
        async with scope.lock:
            if scope.session is None:
                factory = (
                    self.runtime.db.writer
                    if scope.write()
                    else self.runtime.db.live_reader
                    if scope.live()
                    else self.runtime.db.reader
                )
                scope.session = scope.open_session(factory)
            async with _guarded(scope, "session") as session:
                yield session

    @asynccontextmanager
    async def db_beside(self) -> AsyncIterator[AsyncSession]:
        """In a query, a second session (one user at a time) for heavier reads, which then run on
        their own connection while the others go on with :meth:`db`. Elsewhere it is :meth:`db`'s
        session: a mutation's reads must see its own writes, and a subscription keeps to one
        connection of the small live pool.
        """
        scope = self._scope()
        if scope.write() or scope.live():
            async with self.db() as session:
                yield session
            return
        scope.check_time_budget()
        async with scope.beside_lock:
            if scope.beside_session is None:
                scope.beside_session = scope.open_session(self.runtime.db.reader)
            async with _guarded(scope, "beside_session") as session:
                yield session

    async def renew_session(self) -> None:
        """Give back the operation's session and forget loaded rows (a subscription between two
        events holds no connection, and reads fresh data for the next one)."""
        scope = self._scope()
        async with scope.lock:
            await scope._close_session()
            scope.loaders.clear()

    def write_beside(self, write: Callable[[], Awaitable[None]]) -> None:
        """Run ``write`` (its own short transaction) while the operation goes on.

        The operation does not finish, nor answer, before it has committed, and
        its failure fails the operation; meanwhile the commit's disk flush
        overlaps the operation's reads instead of delaying them.
        """
        self._scope().side_writes.append(asyncio.ensure_future(write()))

    @property
    def operation_writes(self) -> bool:
        """True inside a mutation (its session is the writer)."""
        return self._scope().write()

    def loader(
        self,
        load: Callable[[AsyncSession, Sequence[Any]], Awaitable[dict[Any, Any]]],
        default: Any = None,
    ) -> DataLoader:
        """A per-operation DataLoader over ``load(session, keys) -> {key: value}``."""
        scope = self._scope()
        if load not in scope.loaders:

            async def batch(keys: list[Any]) -> list[Any]:
                async with self.db() as session:
                    found = await load(session, keys)
                return [found.get(key, default) for key in keys]

            scope.loaders[load] = DataLoader(load_fn=batch)
        return scope.loaders[load]

    def row_field(
        self,
        load: Callable[[AsyncSession, Sequence[Any]], Awaitable[dict[Any, Any]]],
        key: Any,
        build: Callable[[Any], Any],
    ) -> Any:
        """A resolver's answer: ``build(row)`` of the row ``load`` finds for ``key`` (None when none is found).

        At once when the operation's loader holds it already (primed with a live event's task, or loaded by a
        sibling): return this from a plain ``def`` resolver, and graphql-core completes the field without a
        coroutine, and its parent without gathering its fields. Otherwise an awaitable, which graphql-core awaits
        as it awaits an ``async def`` resolver's answer (batched with the other loads of the turn).
        """
        pending = self.loader(load).load(key)
        if pending.done():  # type: ignore[attr-defined]  # strawberry's loader hands out futures
            return _built(pending.result(), build)  # type: ignore[attr-defined]
        return _built_later(pending, build)


def _built(row: Any, build: Callable[[Any], Any]) -> Any:
    return None if row is None else build(row)


async def _built_later(pending: Awaitable[Any], build: Callable[[Any], Any]) -> Any:
    return _built(await pending, build)


class UnitOfWork(SchemaExtension):
    """Opens an operation scope around each operation and closes its session after."""

    async def on_operation(self):
        context = self.execution_context.context
        runtime = context.runtime if isinstance(context, Context) else None
        if runtime is None:
            yield
            return
        execution = self.execution_context
        scope = OperationScope(
            runtime,
            write=lambda: execution.operation_type is OperationType.MUTATION,
            live=lambda: execution.operation_type is OperationType.SUBSCRIPTION,
            deadline=runtime.timer() + runtime.settings.request_timeout_seconds,
        )
        token = _current_scope.set(scope)
        try:
            yield
        finally:
            _current_scope.reset(token)
            await scope.close()


def bad_input(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})

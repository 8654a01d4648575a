"""Queries and mutations over HTTP, with the session's tokens refreshed before they expire."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gql import Client, GraphQLRequest
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportError,
    TransportProtocolError,
    TransportQueryError,
    TransportServerError,
)
from gql.transport.httpx import HTTPXAsyncTransport

from .documents import document
from .errors import Offline, ServerError, SessionExpired, SessionRevoked
from .tokens import Tokens, TokenStore


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a request is sent again when the server cannot be reached."""

    attempts: int = 3
    first_delay: float = 0.5
    factor: float = 2.0

    def delays(self):
        delay = self.first_delay
        for _ in range(self.attempts - 1):
            yield delay
            delay *= self.factor


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class GuideApi:
    """The app's one connection to the server (HTTP); the session lives in ``store``."""

    def __init__(
        self,
        server_url: str,
        store: TokenStore,
        *,
        clock: Callable[[], datetime] = utcnow,
        refresh_margin: timedelta = timedelta(minutes=2),
        retry: RetryPolicy = RetryPolicy(),
        timeout: float = 10.0,
    ) -> None:
        base = server_url.rstrip("/")
        self.http_url = f"{base}/graphql"
        self.ws_url = "ws" + self.http_url[len("http") :] if base.startswith("http") else self.http_url
        self.store = store
        self.clock = clock
        self.refresh_margin = refresh_margin
        self.retry = retry
        # One deadline for the whole answer (connect, send, read), not httpx's per step.
        self._client = Client(transport=HTTPXAsyncTransport(url=self.http_url, timeout=None), execute_timeout=timeout)
        self._session = None
        self._refreshing = asyncio.Lock()
        self.session_ended: SessionExpired | None = None  # why the last session ended (the sign-in screen says)

    # --- lifecycle ---------------------------------------------------------------------------------

    async def open(self) -> None:
        if self._session is None:
            self._session = await self._client.connect_async()

    async def close(self) -> None:
        if self._session is not None:
            self._session = None
            await self._client.close_async()

    @property
    def tokens(self) -> Tokens | None:
        return self.store.load()

    @property
    def signed_in(self) -> bool:
        return self.tokens is not None

    # --- the session -------------------------------------------------------------------------------

    async def sign_in(self, username: str, password: str) -> list[dict]:
        """The payload's errors (empty when signed in; the tokens are then stored)."""
        payload = (await self._send("StaffLogin", {"username": username, "password": password}))["staffLogin"]
        if not payload["errors"]:
            self.store.save(Tokens.from_session(payload["session"]))
            self.session_ended = None
        return payload["errors"]

    async def sign_out(self) -> None:
        """Revoke the refresh token if the server can be reached; forget the session either way."""
        tokens = self.tokens
        self.store.clear()
        if tokens is None:
            return
        # If this fails the refresh token expires on its own; the device no longer has it.
        with contextlib.suppress(Offline, ServerError):
            await self._send("Logout", {"refreshToken": tokens.refresh_token}, retry=RetryPolicy(attempts=1))

    async def fresh_access_token(self) -> str:
        """An access token valid for at least ``refresh_margin`` (refreshed when needed)."""
        tokens = self.tokens
        if tokens is None:
            raise SessionExpired("not signed in")
        if self.clock() < tokens.access_expires_at - self.refresh_margin:
            return tokens.access_token
        return (await self._refresh(tokens)).access_token

    async def renew_access_token(self) -> str:
        """A new access token now, whatever the current one's age (the server refused it early)."""
        tokens = self.tokens
        if tokens is None:
            raise SessionExpired("not signed in")
        return (await self._refresh(tokens)).access_token

    async def _refresh(self, seen: Tokens) -> Tokens:
        """Trade the refresh token once, even when several callers ask at the same moment."""
        async with self._refreshing:
            current = self.tokens
            if current is None:
                raise SessionExpired("signed out")
            if current.access_token != seen.access_token:
                return current  # someone refreshed while we waited
            if current.refresh_expires_at <= self.clock():
                return self._expired()
            payload = (await self._send("TokenRefresh", {"refreshToken": current.refresh_token}))["tokenRefresh"]
            if payload["errors"]:
                return self._expired(revoked=True)  # before its time: the server ended the session
            tokens = Tokens.from_session(payload["session"])
            self.store.save(tokens)
            return tokens

    def _expired(self, *, revoked: bool = False):
        self.store.clear()
        self.session_ended = SessionRevoked() if revoked else SessionExpired()
        raise self.session_ended

    def seconds_until_refresh(self) -> float | None:
        """How long the access token stays fresh (None when signed out)."""
        tokens = self.tokens
        if tokens is None:
            return None
        return (tokens.access_expires_at - self.refresh_margin - self.clock()).total_seconds()

    # --- operations --------------------------------------------------------------------------------

    async def query(self, name: str, variables: dict | None = None) -> dict:
        """Run a named operation as the signed-in guide; returns ``data``."""
        token = await self.fresh_access_token()
        try:
            return await self._send(name, variables, token=token)
        except SessionExpired:
            # Refused before its time (clocks apart, sessions revoked, a new server secret): refresh once
            # and try again; refused again means the account itself was signed out.
            tokens = self.tokens
            if tokens is None:
                raise
            token = (await self._refresh(tokens)).access_token
            try:
                return await self._send(name, variables, token=token)
            except SessionExpired:
                return self._expired(revoked=True)

    async def mutate(self, name: str, variables: dict | None = None) -> dict:
        """Like ``query``; a retry after a lost answer sends the same variables (and idempotency key)."""
        return await self.query(name, variables)

    async def _send(
        self, name: str, variables: dict | None, *, token: str | None = None, retry: RetryPolicy | None = None
    ) -> dict:
        await self.open()
        request = GraphQLRequest(document(name), variable_values=variables or {}, operation_name=name)
        headers = {"authorization": f"Bearer {token}"} if token else {}
        delays = iter((retry or self.retry).delays())
        while True:
            try:
                return await self._session.execute(request, extra_args={"headers": headers})
            except (TransportConnectionFailed, TimeoutError) as failure:
                # Not reached, or no answer in time: ask again (a mutation carries its idempotency key).
                delay = next(delays, None)
                if delay is None:
                    raise Offline(str(failure) or "no answer in time") from None
                await asyncio.sleep(delay)
            except TransportQueryError as failure:
                raise _top_level_error(failure) from None
            except (TransportServerError, TransportProtocolError) as failure:
                raise ServerError("HTTP", str(failure)) from None
            except TransportError as failure:
                raise Offline(str(failure)) from None


def _top_level_error(failure: TransportQueryError) -> Exception:
    first = (failure.errors or [{}])[0]
    code = (first.get("extensions") or {}).get("code", "INTERNAL")
    message = first.get("message", str(failure))
    if code == "UNAUTHENTICATED":
        return SessionExpired(message)
    return ServerError(code, message)

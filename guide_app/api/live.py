"""The ``myTasks`` subscription, kept open: reconnects with backoff and catches up after each reconnect.

The socket authenticates once, when it opens, and the server closes it when that access token
expires; so before the token is due for refresh the socket is reopened with a fresh one (the
catch-up covers the moment between the two sockets).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from .client import GuideApi
from .documents import document
from .errors import SessionExpired
from .tokens import parse_instant

log = logging.getLogger("guide_app.live")


def older_copy(task: dict, known: dict | None) -> bool:
    """Whether ``task`` is an older copy of ``known``: a task reaches the app at least once, from the
    socket, a catch-up, a screen's own read and a mutation's answer, in no promised order."""
    return known is not None and parse_instant(known["updatedAt"]) > parse_instant(task["updatedAt"])


SESSION_REFUSED = 4403  # the server's close code for a token or session it no longer accepts


def _session_refused(error: BaseException) -> bool:
    """Whether the server closed the socket with 4403 (the socket's error wraps the close)."""
    received = getattr(error.__cause__, "rcvd", None)
    return received is not None and received.code == SESSION_REFUSED


@dataclass(frozen=True)
class Backoff:
    """Exponential delays between reconnects, with jitter, capped."""

    first: float = 1.0
    maximum: float = 30.0
    factor: float = 2.0

    def delay(self, failures: int) -> float:
        base = min(self.maximum, self.first * self.factor ** max(failures - 1, 0))
        return base * random.uniform(0.75, 1.0)


@dataclass
class LiveHandlers:
    """What the inbox wants to hear about."""

    on_event: Callable[[str, dict], Awaitable[None]]
    on_connected: Callable[[], Awaitable[None]]  # the catch-up query runs here
    on_disconnected: Callable[[str], Awaitable[None]]
    on_session_expired: Callable[[], Awaitable[None]]


class LiveTasks:
    """One task that holds the WebSocket while the guide is signed in."""

    def __init__(
        self,
        api: GuideApi,
        handlers: LiveHandlers,
        *,
        backoff: Backoff = Backoff(),
        ping_interval: float = 20.0,
        renewal_check: float = 30.0,
    ) -> None:
        self.api = api
        self.handlers = handlers
        self.backoff = backoff
        self.ping_interval = ping_interval
        self.renewal_check = renewal_check  # how often the token's age is looked at (it follows api.clock)
        self.connected = False
        self.renewals = 0  # sockets reopened with a fresh token before the old one expired
        self._listened = False  # whether the current attempt got as far as listening
        self._offline_announced = False
        self._runner: asyncio.Task | None = None
        self._client: Client | None = None

    def start(self) -> None:
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name="guide-live-tasks")

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        self.connected = False

    async def drop_connection(self) -> None:
        """Close the socket as a network loss would (the loop reconnects)."""
        if self._client is not None and self._client.transport is not None:
            await self._client.transport.close()

    async def _run(self) -> None:
        failures = 0
        while True:
            self._listened = False
            try:
                if await self._connect_and_listen():
                    self.renewals += 1
                    failures = 0
                    continue  # a fresh token: reopen at once, still online
                failures = 0  # the server closed a healthy socket: reconnect at once
                reason = "closed by the server"
            except SessionExpired:
                return await self._session_over()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures = 1 if self._listened else failures + 1  # a good connection starts the back-off over
                reason = f"{type(error).__name__}: {error}"
                if _session_refused(error):
                    try:  # her token expired or her session ended elsewhere (a revoked one cannot be renewed)
                        await self.api.renew_access_token()
                        failures = 0  # renewed: reconnect at once
                    except SessionExpired:
                        return await self._session_over()
                    except Exception:
                        pass
            if self.connected or not self._offline_announced:
                self.connected, self._offline_announced = False, True
                await self.handlers.on_disconnected(reason)
            log.info("live tasks disconnected (%s); retry #%d", reason, failures)
            await asyncio.sleep(self.backoff.delay(failures) if failures else 0)

    async def _session_over(self) -> None:
        self.connected = False
        await self.handlers.on_session_expired()

    async def _connect_and_listen(self) -> bool:
        """Listen until the socket ends; True when it was closed to reopen it with a fresh token."""
        token = await self.api.fresh_access_token()
        transport = WebsocketsTransport(
            url=self.api.ws_url,
            init_payload={"authorization": f"Bearer {token}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
            connect_timeout=10,
            ping_interval=self.ping_interval,
            pong_timeout=self.ping_interval / 2,
        )
        self._client = Client(transport=transport)
        try:
            async with self._client as session:
                events = session.subscribe(GraphQLRequest(document("MyTasks")))
                listener = asyncio.create_task(self._forward(events))
                await asyncio.sleep(0)  # the subscribe message goes out before the catch-up
                self.connected, self._offline_announced, self._listened = True, False, True
                await self._catch_up(listener)
                return await self._listen_until_renewal(listener)
        finally:
            self._client = None

    async def _listen_until_renewal(self, listener: asyncio.Task) -> bool:
        renewal = asyncio.create_task(self._token_due())
        try:
            await asyncio.wait({listener, renewal}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (listener, renewal):
                task.cancel()
            await asyncio.gather(listener, renewal, return_exceptions=True)
        if listener.done() and not listener.cancelled():
            listener.result()  # the socket ended first: its error, if any, goes to the reconnect loop
            return False
        renewal.result()  # a refused refresh raises (SessionExpired)
        return True

    async def _token_due(self) -> None:
        """Return once the access token is due for refresh, refreshed (a refused refresh raises)."""
        while True:
            remaining = self.api.seconds_until_refresh()
            if remaining is None:
                raise SessionExpired("signed out")
            if remaining <= 0:
                await self.api.fresh_access_token()
                return
            await asyncio.sleep(min(remaining, self.renewal_check))

    async def _catch_up(self, listener: asyncio.Task) -> None:
        try:
            await self.handlers.on_connected()
        except BaseException:
            listener.cancel()
            raise

    async def _forward(self, events) -> None:
        try:
            async for data in events:
                event = data["myTasks"]
                await self.handlers.on_event(event["kind"], event["task"])
        finally:
            await events.aclose()


class LiveSubscription:
    """One subscription held open for a while (``orderPaid`` while a QR payment is awaited): each event's
    data goes to ``on_data``; ``on_connection(True/False)`` says when it is listening, so the caller can
    catch up with a query after each connect and poll while it is not. Reconnects with back-off, each
    time with a fresh token; a refused session ends it quietly (the caller's own requests say so)."""

    def __init__(
        self,
        api: GuideApi,
        operation: str,
        variables: dict,
        on_data: Callable[[dict], Awaitable[None]],
        on_connection: Callable[[bool], Awaitable[None]],
        *,
        backoff: Backoff = Backoff(),
        ping_interval: float = 20.0,
    ) -> None:
        self.api = api
        self.operation = operation
        self.variables = variables
        self.on_data = on_data
        self.on_connection = on_connection
        self.backoff = backoff
        self.ping_interval = ping_interval
        self.connected = False
        self.connections = 0  # how many times it got as far as listening
        self._runner: asyncio.Task | None = None
        self._client: Client | None = None

    def start(self) -> None:
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name=f"guide-live-{self.operation}")

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        self.connected = False

    async def drop_connection(self) -> None:
        """Close the socket as a network loss would (it reconnects)."""
        if self._client is not None and self._client.transport is not None:
            await self._client.transport.close()

    async def _run(self) -> None:
        failures = 0
        while True:
            listened = False
            try:
                listened = await self._listen()
                failures = 0
            except SessionExpired:
                await self._set_connected(False)
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                listened = self.connected
                failures = 1 if listened else failures + 1
                if _session_refused(error):
                    try:
                        await self.api.renew_access_token()
                        failures = 0
                    except SessionExpired:
                        await self._set_connected(False)
                        return
                    except Exception:
                        pass
                log.info(
                    "live %s disconnected (%s: %s); retry #%d", self.operation, type(error).__name__, error, failures
                )
            await self._set_connected(False)
            # A socket the server closed after a good connection is reopened at once; failures back off.
            await asyncio.sleep(self.backoff.delay(failures) if failures else (0 if listened else self.backoff.first))

    async def _set_connected(self, connected: bool) -> None:
        if self.connected != connected:
            self.connected = connected
            await self.on_connection(connected)

    async def _listen(self) -> bool:
        token = await self.api.fresh_access_token()
        transport = WebsocketsTransport(
            url=self.api.ws_url,
            init_payload={"authorization": f"Bearer {token}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
            connect_timeout=10,
            ping_interval=self.ping_interval,
            pong_timeout=self.ping_interval / 2,
        )
        self._client = Client(transport=transport)
        try:
            async with self._client as session:
                events = session.subscribe(GraphQLRequest(document(self.operation), variable_values=self.variables))
                listener = asyncio.create_task(self._forward(events))
                await asyncio.sleep(0)  # the subscribe message goes out before the caller catches up
                self.connections += 1
                try:
                    await self._set_connected(True)
                    await listener
                finally:
                    listener.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await listener
                return True
        finally:
            self._client = None

    async def _forward(self, events) -> None:
        try:
            async for data in events:
                await self.on_data(data)
        finally:
            await events.aclose()

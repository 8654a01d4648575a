"""GraphQL over WebSocket (graphql-transport-ws), authenticated from connection_init.

An authenticated connection listens on the bus for its account's revocations
(sign-out, a replayed refresh token, deactivation, a role, store or password
change), published by whichever replica made the change: when one ends its
session, the connection is closed with 4403 and every subscription on it ends.
If the database or Redis cannot be reached to check the token's holder, the
connection is closed with 1013 (try again later), not refused: 4403 would sign
the guide out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from json import JSONDecodeError
from typing import Any

from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage, Message

from .. import json_codec
from ..domains.auth.topics import SESSIONS_REVOKED, account_topic
from . import json_input
from .context import Context
from .errors import out_of_reach

logger = logging.getLogger("irs.websocket")

SESSION_ENDED = 4403  # as strawberry closes a connection_init it refuses
INTERNAL_ERROR = 1011
TRY_AGAIN_LATER = 1013  # RFC 6455: the server cannot serve the connection just now


class RevocableConnection(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler, closed with 4403 when its session is revoked."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._watcher: asyncio.Task | None = None
        self._closed = False

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except Exception as error:
            if not out_of_reach(error):
                raise
            logger.error("the database or Redis is out of reach at a connection_init: %r", error)
            await self._close(TRY_AGAIN_LATER, "service unavailable; try again shortly")
            return
        account = self.context.account_key
        if self.connection_acknowledged and account is not None and self._watcher is None:
            self._watcher = asyncio.create_task(self._close_on_revocation(account))

    async def _close_on_revocation(self, account: str) -> None:
        """Listen for her revocations; re-read the session first (one committed before we listened)
        and now and then (a message lost while Redis reconnected)."""
        context = self.context
        recheck = context.settings.socket_session_check_seconds
        try:
            async with context.runtime.bus.subscribe(account_topic(account)) as messages:
                heard = asyncio.create_task(self._revocation_in(messages))
                try:
                    while not await context.session_ended():
                        done, _ = await asyncio.wait({heard}, timeout=recheck)
                        if done:
                            heard.result()  # a failure of the listener is raised here
                            break
                finally:
                    heard.cancel()
            await self._end_session()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("watching the session of %s failed; closing the connection", account)
            await self._close(INTERNAL_ERROR, "Internal error")

    async def _revocation_in(self, messages) -> None:
        """Returns when a message ends this connection's session, which it ends at once: a subscription
        event delivered right after the revocation is refused, not sent."""
        async for message in messages:
            if message.get("event") == SESSIONS_REVOKED and self.context.ends_my_session(message):
                self.context.end_session()
                return

    async def _end_session(self) -> None:
        self.context.end_session()
        await self._close(SESSION_ENDED, "session ended; sign in again")

    async def _close(self, code: int, reason: str) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):  # the client left meanwhile
            await self.websocket.close(code=code, reason=reason)

    async def send_message(self, message: Message) -> None:
        # Once we closed the socket, operations still finishing have no one to tell.
        if not self._closed:
            await super().send_message(message)

    async def shutdown(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        await super().shutdown()


class GraphQLWebSocket(GraphQL[Context, None]):
    """Strawberry's ASGI app, used for WebSocket connections only."""

    graphql_transport_ws_handler_class = RevocableConnection

    def __init__(self, schema, allowed_origins: Sequence[str] = ()) -> None:
        # Strawberry refuses (HTTP 403) a handshake whose Origin is another site unless it is allowed
        # here (cross-site WebSocket hijacking); no Origin (native apps) and the same origin pass.
        super().__init__(
            schema,
            graphql_ide=None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=allowed_origins,
        )

    def encode_json(self, data: object) -> str:
        """A message, written by orjson (server.json_codec); as text: graphql-transport-ws sends text frames."""
        return json_codec.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        """Messages meet the limits of HTTP bodies; one that does not closes the socket (4400)."""
        try:
            return json_input.decode(data)
        except (json_input.NotJSON, json_input.UnsafeJSON) as error:
            raise JSONDecodeError(str(error), data if isinstance(data, str) else "", 0) from None

    async def get_context(self, request, response) -> Context:
        return Context(request.app.state.runtime, request)

    async def on_ws_connect(self, context: Context) -> dict[str, Any] | None:
        """``connection_init`` payload ``{"authorization": "Bearer …"}``; a bad token is refused."""
        params = context.connection_params or {}
        authorization = params.get("authorization") or params.get("Authorization")
        if authorization is None:
            return None  # anonymous: fields that need a viewer answer UNAUTHENTICATED
        if not isinstance(authorization, str):
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED", "message": "authorization must be a string"})
        context.authenticate(authorization)
        await context.confirm_actor()
        if context.actor is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED", "message": "invalid or expired token"})
        return None

"""GraphQL over WebSocket (graphql-transport-ws), authenticated from connection_init."""

from __future__ import annotations

from json import JSONDecodeError
from typing import Any

from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from . import json_input
from .context import Context


class GraphQLWebSocket(GraphQL):
    """Strawberry's ASGI app, used for WebSocket connections only."""

    def __init__(self, schema) -> None:
        super().__init__(schema, graphql_ide=None, subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,))

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

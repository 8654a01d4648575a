"""GraphQL over HTTP, as the GraphQL-over-HTTP specification describes it.

* Media types: ``application/graphql-response+json`` and ``application/json``,
  answered in the one the client's Accept header prefers (406 if neither).
* Under ``application/graphql-response+json`` a request error (bad JSON, bad
  parameters, unparsable or invalid document, variables that do not coerce)
  is a 400 with no ``data`` entry. Under ``application/json`` the GraphQL
  request errors are answered with 200 and ``errors``, as the spec recommends
  for legacy clients; a request that is not well-formed (bad JSON or
  parameters) is a 400 in both.
* GET runs queries only: a mutation over GET is a 405 with ``Allow: POST``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from strawberry.http.ides import get_graphql_ide_html
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from .. import json_codec
from . import json_input
from .context import Context

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
MAX_BODY_BYTES = 1_000_000
MAX_QUERY_CHARACTERS = 100_000
ALLOWED_ON = {"GET": {OperationType.QUERY}, "POST": {OperationType.QUERY, OperationType.MUTATION}}


class RequestError(Exception):
    """A request that is not well-formed GraphQL-over-HTTP: always 4xx."""

    def __init__(self, message: str, status: int = 400, headers: dict[str, str] | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        self.code = code  # extensions.code of the error, when there is one

    @property
    def formatted(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": str(self)}
        if self.code:
            error["extensions"] = {"code": self.code}
        return error


@dataclass(frozen=True)
class GraphQLParams:
    query: str
    operation_name: str | None
    variables: dict[str, Any] | None
    extensions: dict[str, Any] | None


def negotiate(accept: str | None) -> str | None:
    """The response media type for an Accept header; None when we can offer neither."""
    if not accept or not accept.strip():
        return JSON
    best, best_key = None, None
    for rank, item in enumerate(accept.split(",")):
        media, *params = [part.strip() for part in item.split(";")]
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        offered = {GRAPHQL_RESPONSE_JSON: GRAPHQL_RESPONSE_JSON, JSON: JSON, "application/*": JSON, "*/*": JSON}.get(
            media.lower()
        )
        # Prefer the higher q; on a tie the explicit graphql-response type wins.
        key = (q, offered == GRAPHQL_RESPONSE_JSON, -rank)
        if offered and q > 0 and (best_key is None or key > best_key):
            best, best_key = offered, key
    return best


def _optional_json_object(name: str, value: Any, *, encoded: bool) -> dict[str, Any] | None:
    if value is None:
        return None
    if encoded:
        if not isinstance(value, str):
            raise RequestError(f"`{name}` must be a JSON-encoded object")
        value = _decode_json(value, f"`{name}` must be a JSON-encoded object")
        if value is None:
            return None
    if not isinstance(value, dict):
        raise RequestError(f"`{name}` must be an object")
    return value


def _params(raw: dict[str, Any], *, encoded: bool) -> GraphQLParams:
    query = raw.get("query")
    if not isinstance(query, str) or not query.strip():
        raise RequestError("`query` must be a non-empty string")
    if len(query) > MAX_QUERY_CHARACTERS:
        raise RequestError(f"`query` takes at most {MAX_QUERY_CHARACTERS:,} characters", status=413)
    operation_name = raw.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise RequestError("`operationName` must be a string")
    return GraphQLParams(
        query=query,
        operation_name=operation_name or None,
        variables=_optional_json_object("variables", raw.get("variables"), encoded=encoded),
        extensions=_optional_json_object("extensions", raw.get("extensions"), encoded=encoded),
    )


def _get_params(request: Request) -> GraphQLParams:
    raw: dict[str, Any] = {}
    for name in ("query", "operationName", "variables", "extensions"):
        values = request.query_params.getlist(name)
        if len(values) > 1:
            raise RequestError(f"`{name}` is given more than once")
        if values:
            raw[name] = values[0]
    _check_json(raw)
    return _params(raw, encoded=True)


async def _post_params(request: Request) -> GraphQLParams:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != JSON:
        raise RequestError("send the request body as application/json", status=415)
    body = _decode_json(await _capped_body(request), "the request body is not valid JSON")
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object")
    return _params(body, encoded=False)


def _decode_json(data: str | bytes, malformed: str) -> Any:
    try:
        return json_input.decode(data)
    except json_input.NotJSON:
        raise RequestError(malformed) from None
    except json_input.UnsafeJSON as error:
        raise RequestError(str(error), code="BAD_USER_INPUT") from None


def _check_json(value: Any) -> None:
    try:
        json_input.check(value)
    except json_input.UnsafeJSON as error:
        raise RequestError(str(error), code="BAD_USER_INPUT") from None


async def _capped_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise RequestError(f"the request body takes at most {MAX_BODY_BYTES:,} bytes", status=413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise RequestError(f"the request body takes at most {MAX_BODY_BYTES:,} bytes", status=413)
    return bytes(body)


def _is_request_error(result) -> bool:
    """Failed before execution began: parse, validation or variable coercion."""
    if isinstance(result, PreExecutionError):
        return True
    return result.data is None and bool(result.errors) and all(e.path is None for e in result.errors)


@dataclass
class Lane:
    """Operations of one kind of caller: at most ``semaphore``'s worth run at once, the others wait.

    A lane that ``yields_to`` another starts nothing while operations queue in that one and it is
    moving (one of its turns began or ended within ``stalled_after`` seconds): they share one CPU, so
    a free slot here would still slow them down (600 guides catching up at once after a restart took
    three times as long with customers' retries starting beside them). A stalled lane (its operations
    waiting on locks, say) is not yielded to: it must not stop every customer."""

    semaphore: asyncio.Semaphore
    yields_to: Lane | None = None
    stalled_after: float = 1.0
    waiting: int = 0  # operations waiting for their turn (an observation point for tests and metrics)
    _moved_at: float = 0.0  # when a turn last began or ended, or the queue began
    _no_one_waiting: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self._no_one_waiting.set()

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if not self.waiting:
            self._moved_at = time.monotonic()
        self.waiting += 1
        self._no_one_waiting.clear()
        try:
            if self.yields_to is not None:
                await self.yields_to.until_still_or_drained(self.stalled_after)
            await self.semaphore.acquire()
        finally:
            self.waiting -= 1
            if not self.waiting:
                self._no_one_waiting.set()
        self._moved_at = time.monotonic()
        try:
            yield
        finally:
            self.semaphore.release()
            self._moved_at = time.monotonic()

    async def until_still_or_drained(self, stalled_after: float) -> None:
        """Until no operation queues here, or none has begun or ended for ``stalled_after`` seconds."""
        while self.waiting and time.monotonic() - self._moved_at < stalled_after:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(stalled_after):  # look again at least this often
                    await self._no_one_waiting.wait()


class _JSON(JSONResponse):
    """An answer, written by orjson (server.json_codec)."""

    def render(self, content: Any) -> bytes:
        return json_codec.encode(content)


class GraphQLHTTPEndpoint:
    def __init__(self, schema, graphiql: bool, concurrency: int = 8, staff_concurrency: int = 4) -> None:
        self.schema = schema
        self.graphiql_html = get_graphql_ide_html(graphql_ide="graphiql") if graphiql else None
        # Operations beyond these wait here, holding no connection: with every request in
        # flight at once, each turn of the event loop grows long and live notifications
        # (a few turns each) reach guides seconds late. Staff have a lane of their own, so a
        # surge of customers booking never queues a guide's catch-up or check-in behind it, and
        # customers wait while staff do.
        self.staff_lane = Lane(asyncio.Semaphore(staff_concurrency))
        self.public_lane = Lane(asyncio.Semaphore(concurrency), yields_to=self.staff_lane)

    @property
    def waiting(self) -> int:
        """Operations of customers and anonymous callers waiting for their turn."""
        return self.public_lane.waiting

    async def handle(self, request: Request) -> Response:
        if self._wants_graphiql(request):
            return HTMLResponse(self.graphiql_html)
        media_type = negotiate(request.headers.get("accept"))
        if media_type is None:
            return self._errors_response(JSON, [{"message": f"Accept {GRAPHQL_RESPONSE_JSON} or {JSON}"}], 406)
        try:
            params = _get_params(request) if request.method == "GET" else await _post_params(request)
            context = Context(request.app.state.runtime, request, request.headers.get("authorization"))
            async with self._lane_of(context).turn():
                return await self._execute(request, params, media_type, context)
        except RequestError as error:
            return self._errors_response(media_type, [error.formatted], error.status, error.headers)

    def _lane_of(self, context: Context) -> Lane:
        """Staff (by a token signed as theirs; whether still valid is checked when a field needs it)."""
        actor = context.actor
        return self.staff_lane if actor is not None and actor.is_staff else self.public_lane

    def _wants_graphiql(self, request: Request) -> bool:
        return (
            self.graphiql_html is not None
            and request.method == "GET"
            and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        )

    async def _execute(self, request: Request, params: GraphQLParams, media_type: str, context: Context) -> Response:
        try:
            result = await self.schema.execute(
                params.query,
                variable_values=params.variables,
                context_value=context,
                operation_name=params.operation_name,
                operation_extensions=params.extensions,
                allowed_operation_types=ALLOWED_ON[request.method],
            )
        except InvalidOperationTypeError as error:
            if request.method == "GET" and error.operation_type is OperationType.MUTATION:
                raise RequestError("mutations are sent with POST", 405, {"Allow": "POST"}) from None
            raise RequestError("subscriptions are served over WebSocket (graphql-transport-ws) at this path") from None
        except CannotGetOperationTypeError:
            named = params.operation_name
            missing = GraphQLError(
                f"no operation {named} in the document" if named else "the document has no operation"
            )
            return self._request_error(media_type, [missing.formatted])
        if _is_request_error(result):
            return self._request_error(media_type, [e.formatted for e in result.errors])
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [e.formatted for e in result.errors]
        if result.extensions:
            body["extensions"] = result.extensions
        return _JSON(body, media_type=media_type)

    def _request_error(self, media_type: str, errors: Sequence[Mapping[str, Any]]) -> Response:
        status = 400 if media_type == GRAPHQL_RESPONSE_JSON else 200
        return self._errors_response(media_type, errors, status)

    @staticmethod
    def _errors_response(
        media_type: str, errors: Sequence[Mapping[str, Any]], status: int, headers: dict[str, str] | None = None
    ) -> Response:
        return _JSON({"errors": errors}, status_code=status, media_type=media_type, headers=headers)

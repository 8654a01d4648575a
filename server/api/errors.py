"""Errors as the API shows them.

* Expected business failures are ``UserError`` entries in the mutation payload,
  one typed ``<Domain>UserError`` per domain with its own code enum.
* Authentication and authorization failures are top-level errors with
  ``extensions.code`` UNAUTHENTICATED or FORBIDDEN.
* The database or Redis out of reach (down, restarting, the network) is UNAVAILABLE with the
  request id: the client may try again shortly (a mutation with the same idempotencyKey, where it
  takes one, is not done twice).
* Anything unexpected is masked to "Internal error" with the request id, and
  logged with its traceback under that id.
"""

import logging
import socket
from collections.abc import Awaitable, Callable, Iterable, Mapping
from enum import Enum
from typing import Any, TypeVar

import asyncpg
import redis.exceptions
import strawberry
from graphql import GraphQLError
from limits.errors import StorageError
from sqlalchemy.exc import DBAPIError, DisconnectionError
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from ..domains.common.errors import CommonErrorCode, DomainError, ErrorCode, Forbidden, Unauthenticated
from .enums import described_enum
from .mutation_input import INPUT_ARGUMENT, input_given
from .request_id import current_request_id

logger = logging.getLogger("irs.api")


@strawberry.interface(description="An expected failure of a mutation; nothing was written.")
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path to the input field at fault, e.g. ["input", "code"]; null for the whole input.'
    )
    message: str = strawberry.field(description="What went wrong, in English.")
    retry_after: int | None = strawberry.field(
        default=None,
        description="When waiting cures the refusal (RATE_LIMITED, LOGIN_LOCKED, some "
        "TOO_MANY_ATTEMPTS): seconds to wait before trying again; null otherwise.",
    )


COMMON_CODE_DESCRIPTIONS: dict[ErrorCode, str] = {
    CommonErrorCode.NOT_FOUND: "An id in the input names nothing (or an object of another type).",
    CommonErrorCode.REQUIRED: "A required value is missing or blank.",
    CommonErrorCode.TOO_SHORT: "A text is shorter than its minimum length (the message says it).",
    CommonErrorCode.TOO_LONG: "A text is longer than its maximum length (the message says it).",
    CommonErrorCode.INVALID_FORMAT: "A text does not match its format, or holds control or bidi characters.",
    CommonErrorCode.OUT_OF_RANGE: "A number is outside its range (the message says it).",
    CommonErrorCode.INVALID_VALUE: "A value the field does not take (e.g. an idempotencyKey not of 1-128 characters).",
    CommonErrorCode.TOO_MANY: "A list has more entries than its maximum (the message says it).",
    CommonErrorCode.IDEMPOTENCY_KEY_REUSED: "This idempotencyKey was used by you for a different request.",
}


def user_error_type(
    domain: str,
    codes: type[ErrorCode],
    descriptions: Mapping[ErrorCode, str],
    borrowed: Mapping[ErrorCode, str] | None = None,
) -> type:
    """Declare ``<Domain>UserError`` whose ``code`` enum holds the shared codes and the domain's own.

    ``descriptions`` describes each of the domain's own ``codes`` (the shared ones are described here);
    ``borrowed`` are codes of lower domains whose rules the domain's use cases run (an order reserving
    stock can be refused with inventory's INSUFFICIENT_STOCK), with their descriptions.
    """
    members = [*CommonErrorCode, *codes, *(borrowed or {})]
    shown = Enum(codes.__name__, {code.value: code.value for code in members})  # type: ignore[misc]
    texts: dict[ErrorCode, str] = dict(COMMON_CODE_DESCRIPTIONS)
    texts.update(borrowed or {})
    texts.update(descriptions)  # a domain may say more of a shared code
    code_enum = described_enum(
        shown,
        description=f"Stable codes of {domain} user errors.",
        values={shown(code.value): texts[code] for code in members if code in texts},
    )

    @strawberry.type(name=f"{domain}UserError", description=f"A user error of the {domain} domain.")
    class DomainUserError(UserError):
        code: code_enum = strawberry.field(description="Stable code for programs to act on.")  # type: ignore[valid-type]

    DomainUserError.shown_codes = shown  # type: ignore[attr-defined]
    DomainUserError.code_texts = {code: texts[code] for code in members if code in texts}  # type: ignore[attr-defined]
    return DomainUserError


def borrowed_codes(error_type: type, codes: Iterable[ErrorCode]) -> dict[ErrorCode, str]:
    """Codes of a lower domain's user error type, with its descriptions, for ``user_error_type(borrowed=)``."""
    texts: dict[ErrorCode, str] = error_type.code_texts  # type: ignore[attr-defined]
    return {code: texts[code] for code in codes}


def field_path(field: tuple[str, ...] | None, argument: str | None) -> list[str] | None:
    """Where a problem points, as the client sent it: services name the field of the use case's input
    (``("price", "currency")``, ``()`` for the whole input); a mutation taking ``input:`` shows it under
    that argument (``["input", "price", "currency"]``)."""
    if field is None:
        return None
    path = [argument, *field] if argument else list(field)
    return path or None


def to_user_errors(error_type: type, error: DomainError, argument: str | None = None) -> list:
    shown = error_type.shown_codes  # type: ignore[attr-defined]
    return [
        error_type(
            field=field_path(p.field, argument),
            code=shown(p.code.value),
            message=p.message,
            retry_after=p.retry_after,
        )
        for p in error.problems
    ]


Payload = TypeVar("Payload")


_AUTO = "<the input argument, when the call passed it>"


async def mutate(
    info: strawberry.Info,
    payload: Callable[..., Payload],
    error_type: type,
    action: Callable[[Any], Awaitable[dict[str, Any]]],
    *,
    fields_under: str | None = _AUTO,
) -> Payload:
    """Run ``action(session)`` in the operation's unit of work.

    ``action`` returns the payload's fields; a DomainError becomes the
    payload's ``errors`` and nothing is written (the service's use case commits only when
    every check passed). Problems' fields are shown under the ``input`` argument when the
    call passed it (not when it used a mutation's deprecated plain arguments); ``fields_under``
    names another prefix, or None for none.
    """
    async with info.context.db() as session:
        try:
            fields = await action(session)
        except DomainError as error:
            await session.rollback()
            prefix = fields_under
            if prefix is _AUTO:
                prefix = INPUT_ARGUMENT if input_given(info) else None
            return payload(errors=to_user_errors(error_type, error, prefix))
    return payload(errors=[], **fields)


def _public(error: GraphQLError, code: str, message: str, **extensions: Any) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**(error.extensions or {}), "code": code, **extensions},
    )


def present_error(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if original is None or isinstance(original, (GraphQLError, *_NO_OPERATION_TO_RUN)):
        return error  # GraphQL's own errors (syntax, validation, coercion), deliberate ones, and strawberry's
    if isinstance(original, Unauthenticated):
        return _public(error, "UNAUTHENTICATED", str(original) or "authentication required")
    if isinstance(original, Forbidden):
        return _public(error, "FORBIDDEN", f"forbidden: {original}")
    request_id = current_request_id()
    if out_of_reach(original):
        logger.error("database or Redis out of reach in %s (request %s): %r", error.path, request_id, original)
        message = (
            f"Service unavailable: its database or cache cannot be reached; try again shortly (request id {request_id})"
        )
        return _public(error, "UNAVAILABLE", message, requestId=request_id)
    logger.error("unexpected error in %s (request %s)", error.path, request_id, exc_info=original)
    return _public(error, "INTERNAL", f"Internal error (request id {request_id})", requestId=request_id)


# Strawberry's word that the request names no operation it can run (an operationName the document does not
# have, a document without operations, an operation type not allowed, no query): the client's mistake, answered
# as strawberry words it. Over WebSocket strawberry closes the socket with 4400 for an operation it cannot find,
# as graphql-transport-ws asks.
_NO_OPERATION_TO_RUN = (CannotGetOperationTypeError, InvalidOperationTypeError, MissingQueryError)

# What a backend out of reach raises: refused or reset connections, DNS failures, PostgreSQL starting up or
# shutting down, Redis's connection errors, and SQLAlchemy's word that the connection was lost.
_UNREACHABLE = (
    ConnectionError,
    socket.gaierror,
    asyncpg.CannotConnectNowError,
    asyncpg.PostgresConnectionError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    StorageError,
    DisconnectionError,
)


def out_of_reach(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) says the database or Redis could not be reached."""
    seen: BaseException | None = error
    for _ in range(10):  # the chain of causes, bounded
        if seen is None:
            return False
        if isinstance(seen, _UNREACHABLE) or (isinstance(seen, DBAPIError) and seen.connection_invalidated):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def present_errors_of(result):
    """The result with :func:`present_error` applied to its errors (idempotent)."""
    if result is not None and getattr(result, "errors", None):
        result.errors = [present_error(e) for e in result.errors]
    return result


def query_problem(error: DomainError) -> GraphQLError:
    """A DomainError raised while answering a query (queries have no payload): a top-level error
    with code BAD_USER_INPUT, the domain's code as ``reason`` and the offending argument."""
    problem = error.problems[0]
    extensions: dict[str, Any] = {"code": "BAD_USER_INPUT", "reason": problem.code.name}
    if problem.field:
        extensions["field"] = list(problem.field)
    return GraphQLError(str(error), extensions=extensions)

"""Money, a DateTime that insists on a time zone, and dates within a range that arithmetic survives."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import NewType

import dateutil.parser
import strawberry
from graphql import GraphQLError
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.schema.types.base_scalars import TimeDefinition
from strawberry.types.scalar import ScalarDefinition

# Whole minor units. GraphQL's Int stops at 2^31 - 1 fen (about 21 million yuan): a customer's
# lifetime value or a store's GMV passes it. A JSON number is exact up to 2^53 - 1 in every
# client (JavaScript included), ample for fen, and unlike a string it still sums and sorts.
MoneyAmount = NewType("MoneyAmount", int)
MAX_MONEY_AMOUNT = 2**53 - 1


@strawberry.type(description="An amount of money in minor units (fen for CNY).")
class Money:
    amount: MoneyAmount = strawberry.field(description="Minor units: 12900 is ¥129.00.")
    currency: str = strawberry.field(description="ISO 4217 code, e.g. CNY.")


@strawberry.input(description="An amount of money in minor units (fen for CNY).")
class MoneyInput:
    amount: MoneyAmount = strawberry.field(description="Minor units: 12900 is ¥129.00.")
    currency: str = strawberry.field(default="CNY", description="ISO 4217 code; must be the brand's currency.")


# Inputs beyond these years are refused: arithmetic on them (a zone offset, a slot's length, a
# day's end) would leave Python's datetime range (years 1-9999) and fail deep inside a service.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2999, 12, 31)
_RANGE = f"between {EARLIEST_DATE.year} and {LATEST_DATE.year}"


def _refused(message: str) -> StrawberryInputCoercionError:
    return StrawberryInputCoercionError(message, extensions={"code": "BAD_USER_INPUT"})


def _shown(value: object) -> str:
    text = str(value)
    return text if len(text) <= 64 else text[:64] + "…"


def _parse_aware_datetime(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise _refused(f'DateTime must be an ISO 8601 string, got "{_shown(value)}"')
    try:
        parsed = dateutil.parser.isoparse(value)
    except (ValueError, OverflowError):
        raise _refused(f'"{_shown(value)}" is not an ISO 8601 date-time') from None
    if parsed.tzinfo is None:
        raise _refused(f'"{_shown(value)}" has no time zone; send UTC ("Z") or an offset such as +08:00')
    if not EARLIEST_DATE <= parsed.date() <= LATEST_DATE:
        raise _refused(f'"{_shown(value)}" is out of range: years {_RANGE}')
    return parsed.astimezone(dt.UTC)


def _serialize_datetime(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _parse_date(value: object) -> dt.date:
    if not isinstance(value, str):
        raise _refused(f'Date must be an ISO 8601 string, got "{_shown(value)}"')
    try:
        parsed = dt.date.fromisoformat(value)
    except ValueError:
        raise _refused(f'"{_shown(value)}" is not an ISO 8601 date (YYYY-MM-DD)') from None
    if not EARLIEST_DATE <= parsed <= LATEST_DATE:
        raise _refused(f'"{_shown(value)}" is out of range: years {_RANGE}')
    return parsed


AWARE_DATETIME = ScalarDefinition(
    name="DateTime",
    description=(
        f"An instant, ISO 8601 with a time zone; answers are in UTC (e.g. 2026-11-27T02:00:00Z). Inputs are {_RANGE}."
    ),
    specified_by_url="https://datatracker.ietf.org/doc/html/rfc3339",
    serialize=_serialize_datetime,
    parse_value=_parse_aware_datetime,
    parse_literal=None,
    origin=dt.datetime,
)

BOUNDED_DATE = ScalarDefinition(
    name="Date",
    description=f"A calendar date, ISO 8601 (YYYY-MM-DD); inputs are {_RANGE}.",
    specified_by_url=None,
    serialize=dt.date.isoformat,
    parse_value=_parse_date,
    parse_literal=None,
    origin=dt.date,
)


def _parse_money_amount(value: object) -> int:
    fractional = isinstance(value, float) and not value.is_integer()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or fractional:
        raise _refused(f'MoneyAmount must be a whole number of minor units, got "{_shown(value)}"')
    if abs(value) > MAX_MONEY_AMOUNT:
        raise _refused(f'"{_shown(value)}" is out of range: MoneyAmount is within ±{MAX_MONEY_AMOUNT}')
    return int(value)


def _serialize_money_amount(value: int) -> int:
    if abs(value) > MAX_MONEY_AMOUNT:
        # A sum beyond what a JSON client can hold exactly: say so rather than answer a rounded figure.
        raise GraphQLError(
            "amount beyond ±(2^53 - 1) minor units; a JSON client cannot hold it exactly",
            extensions={"code": "AMOUNT_OUT_OF_RANGE"},
        )
    return value


MONEY_AMOUNT = ScalarDefinition(
    name="MoneyAmount",
    description=(
        "Whole minor units of a currency (fen for CNY), as a JSON number within ±(2^53 - 1): "
        "64-bit safe where GraphQL's Int stops at 2^31 - 1."
    ),
    specified_by_url=None,
    serialize=_serialize_money_amount,
    parse_value=_parse_money_amount,
    parse_literal=None,
    origin=MoneyAmount,
)

# Strawberry's Time, parsed and answered as before, described for the API's use of it.
LOCAL_TIME = dataclasses.replace(
    TimeDefinition,
    description="A time of day, ISO 8601 (10:00 or 10:00:00; answers 10:00:00), in the store's local time: "
    "send no offset.",
)

SCALAR_MAP: dict[object, ScalarDefinition] = {
    dt.datetime: AWARE_DATETIME,
    dt.date: BOUNDED_DATE,
    dt.time: LOCAL_TIME,
    MoneyAmount: MONEY_AMOUNT,
}

"""Money and a DateTime that insists on a time zone."""

from __future__ import annotations

import datetime as dt

import dateutil.parser
import strawberry
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.types.scalar import ScalarDefinition


@strawberry.type(description="An amount of money in minor units (fen for CNY).")
class Money:
    amount: int = strawberry.field(description="Minor units: 12900 is ¥129.00.")
    currency: str = strawberry.field(description="ISO 4217 code, e.g. CNY.")


@strawberry.input(description="An amount of money in minor units (fen for CNY).")
class MoneyInput:
    amount: int
    currency: str = "CNY"


def _parse_aware_datetime(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise StrawberryInputCoercionError(f'DateTime must be an ISO 8601 string, got "{value}"')
    try:
        parsed = dateutil.parser.isoparse(value)
    except ValueError:
        raise StrawberryInputCoercionError(f'"{value}" is not an ISO 8601 date-time') from None
    if parsed.tzinfo is None:
        raise StrawberryInputCoercionError(
            f'"{value}" has no time zone; send UTC ("Z") or an offset such as +08:00'
        )
    return parsed.astimezone(dt.UTC)


def _serialize_datetime(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


AWARE_DATETIME = ScalarDefinition(
    name="DateTime",
    description="An instant, ISO 8601 with a time zone; answers are in UTC (e.g. 2026-11-27T02:00:00Z).",
    specified_by_url="https://datatracker.ietf.org/doc/html/rfc3339",
    serialize=_serialize_datetime,
    parse_value=_parse_aware_datetime,
    parse_literal=None,
    origin=dt.datetime,
)

SCALAR_MAP = {dt.datetime: AWARE_DATETIME}

"""Store queries."""

from __future__ import annotations

import strawberry
from strawberry import relay

from ....api.nodes import local_id
from ....api.pagination import Connection, paginate
from ....api.permissions import authenticated
from .. import services
from .types import Store


@strawberry.type
class StoreQuery:
    @strawberry.field(extensions=authenticated(), description="Stores, optionally by city and active flag.")
    async def stores(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None,
        city: str | None = None, active: bool | None = None,
    ) -> Connection[Store]:
        statement = services.store_listing(city=city, active=active)
        return await paginate(info, statement, Store.from_row, first=first, after=after)

    @strawberry.field(extensions=authenticated(), description="One store; null when not found.")
    async def store(self, info: strawberry.Info, id: relay.GlobalID) -> Store | None:
        row = await info.context.loader(services.stores_by_ids).load(local_id(id, "Store"))
        return Store.from_row(row) if row else None

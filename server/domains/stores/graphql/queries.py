"""Store queries."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ....api.errors import query_problem
from ....api.nodes import local_id, local_ids
from ....api.pagination import After, Connection, First, paginate
from ....api.permissions import authenticated
from ...common.errors import DomainError
from .. import services
from .inputs import LocationInput, to_wgs84
from .types import NearbyStore, Store


@strawberry.type
class StoreQuery:
    @strawberry.field(
        extensions=authenticated(),
        description="Stores in id order, optionally by city and active flag. Any signed-in viewer.",
    )
    async def stores(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        city: Annotated[str | None, strawberry.argument(description="Only stores in this city (exact match).")] = None,
        active: Annotated[bool | None, strawberry.argument(description="Only active (or inactive) stores.")] = None,
    ) -> Connection[Store]:
        statement = services.store_listing(city=city, active=active)
        return await paginate(info, statement, Store.from_row, first=first, after=after)

    @strawberry.field(
        extensions=authenticated(), description="One store by its id; null when not found. Any signed-in viewer."
    )
    async def store(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The Store.")]
    ) -> Store | None:
        row = await info.context.loader(services.stores_by_ids).load(local_id(id, "Store"))
        return Store.from_row(row) if row else None

    @strawberry.field(
        extensions=authenticated(),
        description="Active stores nearest to a location, nearest first. Any signed-in viewer; "
        "out-of-range arguments are a BAD_USER_INPUT error.",
    )
    async def nearby_stores(
        self,
        info: strawberry.Info,
        location: Annotated[LocationInput, strawberry.argument(description="Where the customer is.")],
        first: Annotated[int, strawberry.argument(description="How many stores, 1 to 50.")] = 10,
        service_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only stores offering this service.")
        ] = None,
        product_ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="Products she wants to see (at most 20), for productsInStock."),
        ] = None,
    ) -> list[NearbyStore]:
        latitude, longitude = to_wgs84(location)
        service = local_id(service_id, "Service")
        async with info.context.db() as session:
            try:
                found = await services.nearby_stores(
                    session,
                    latitude,
                    longitude,
                    limit=first,
                    service_id=service,
                    product_ids=local_ids(product_ids, "Product") or (),
                    now=info.context.runtime.clock.now(),
                )
            except DomainError as error:
                raise query_problem(error) from None
        asked = tuple(sorted(set(local_ids(product_ids, "Product") or ())))
        return [NearbyStore.from_result(f, service, asked) for f in found]

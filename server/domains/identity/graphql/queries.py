"""OneID queries: the customer 360° view, conflicts and sources."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ....api.context import bad_input
from ....api.errors import query_problem
from ....api.nodes import local_id
from ....api.pagination import After, Connection, First, paginate
from ....api.permissions import authenticated, roles
from ...common.actor import Role as RoleValue
from ...common.errors import DomainError
from ...common.rows import saved_id
from .. import merges, persons, sources
from ..identifiers import InvalidIdentifier, normalize
from ..search import store_customer_listing
from .types import Customer, IdentifierType, IdentityConflict, TouchpointSource, audit_reads, open_customer

ALL_STAFF = roles(*RoleValue)


@strawberry.type
class IdentityQuery:
    @strawberry.field(
        extensions=authenticated(),
        description=(
            "A customer's 360° view. Store roles may open only customers with a booking, task or order at their "
            "store (else FORBIDDEN); customers only themselves. A merged id opens the surviving customer."
        ),
    )
    async def customer(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The Customer.")]
    ) -> Customer | None:
        return await open_customer(info, local_id(id, "Customer"))

    @strawberry.field(
        extensions=ALL_STAFF,
        description="Find a customer by one of her identifiers; null if none. Staff roles, with the access rules of "
        "customer(id:); a malformed identifier is a BAD_USER_INPUT error.",
    )
    async def customer_by_identifier(
        self,
        info: strawberry.Info,
        type: Annotated[IdentifierType, strawberry.argument(description="What kind of identifier.")],
        value: Annotated[str, strawberry.argument(description="Its value; normalised like ingested ones.")],
        namespace: Annotated[
            str | None,
            strawberry.argument(description="Required for WECHAT_OPENID (the appId) and LIVESTREAM_VIEWER_ID."),
        ] = None,
    ) -> Customer | None:
        try:
            key = normalize(type, value, namespace)
        except InvalidIdentifier as invalid:
            raise bad_input(f"{type.value}: {invalid}") from None
        async with info.context.db() as session:
            person = await persons.person_by_identifier(session, key)
        return await open_customer(info, saved_id(person)) if person else None

    @strawberry.field(
        extensions=roles(RoleValue.HQ_ADMIN, RoleValue.STORE_MANAGER, RoleValue.GUIDE, store_scoped=True),
        description="Find the store's customers (a booking, visit or purchase there) whose name holds `search`, or "
        "whose phone holds its digits (4 or more), in id order; merged and erased ones are left out. Each one "
        "listed is an unmasked read, audited. HQ_ADMIN, or STORE_MANAGER and GUIDE of that store (else FORBIDDEN); "
        "a search of other than 2-50 characters is BAD_USER_INPUT. A walk-in not in the store's care yet: "
        "customerWalkIn.",
    )
    async def store_customers(
        self,
        info: strawberry.Info,
        store_id: Annotated[strawberry.ID, strawberry.argument(description="The Store.")],
        search: Annotated[str, strawberry.argument(description="Part of her name, or 4+ digits of her phone.")],
        first: First = None,
        after: After = None,
    ) -> Connection[Customer]:
        try:
            statement = store_customer_listing(await info.context.viewer(), local_id(store_id, "Store"), search)
        except DomainError as problem:
            raise query_problem(problem) from None
        page = await paginate(info, statement, _unmasked, first=first, after=after)
        await audit_reads(info, [edge.node for edge in page.edges])
        return page

    @strawberry.field(
        extensions=roles(RoleValue.HQ_ADMIN, RoleValue.ANALYST),
        description="Events that would have joined customers with different limited identifiers, in id order. "
        "HQ_ADMIN or ANALYST.",
    )
    async def identity_conflicts(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        unresolved_only: Annotated[bool, strawberry.argument(description="Only conflicts not resolved yet.")] = True,
    ) -> Connection[IdentityConflict]:
        statement = merges.conflict_listing(unresolved_only=unresolved_only)
        return await paginate(info, statement, IdentityConflict.from_row, first=first, after=after)

    @strawberry.field(
        extensions=roles(RoleValue.HQ_ADMIN),
        description="Touchpoint systems that send events, in id order. HQ_ADMIN only.",
    )
    async def touchpoint_sources(
        self, info: strawberry.Info, first: First = None, after: After = None
    ) -> Connection[TouchpointSource]:
        return await paginate(info, sources.source_listing(), TouchpointSource.from_row, first=first, after=after)


def _unmasked(person) -> Customer:
    return Customer(id=person.id, masked=False, erased=False)

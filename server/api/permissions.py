"""Permission classes declared on fields; services re-check store scope and ownership."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location

from ..domains.common.actor import Role as RoleValue
from ..domains.common.errors import Forbidden
from .enums import described_enum
from .nodes import local_id

Role = described_enum(
    RoleValue,
    description="What a staff member may do.",
    values={
        RoleValue.HQ_ADMIN: "Headquarters administrator: every store, staff, catalog and settings.",
        RoleValue.STORE_MANAGER: "Runs one store: its staff, shifts, slots, bookings and task queue.",
        RoleValue.GUIDE: "Store guide (BA) of one store: receives customers and works her tasks.",
        RoleValue.LIVESTREAM_OPS: "Livestream operations team: livestreams and the live booking feed, every store.",
        RoleValue.ANALYST: "Reads across every store (staff, bookings, schedules) without changing things.",
    },
)


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION], name="isAuthenticated", description="The field needs a signed-in viewer."
)
class IsAuthenticatedDirective:
    pass


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="hasRole",
    description="The field needs a staff member with one of these roles.",
)
class HasRoleDirective:
    roles: list[RoleValue] = strawberry.field(description="Any one of these roles may call the field.")


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="storeScope",
    description="Store roles may only name their own store in this argument.",
)
class StoreScopeDirective:
    argument: str = strawberry.field(description="The name of the argument that holds a Store id.")


class IsAuthenticated(BasePermission):
    message = "authentication required"
    _schema_directive = IsAuthenticatedDirective()

    async def has_permission(self, source: Any, info, **kwargs: Any) -> bool:
        await info.context.viewer()  # raises Unauthenticated with the reason
        return True


class HasRole(BasePermission):
    def __init__(self, *roles: RoleValue) -> None:
        self.roles = roles
        self.message = f"requires one of {', '.join(r.value for r in roles)}"
        # strawberry reads an instance's own directive first but types the attribute ClassVar.
        self._schema_directive = HasRoleDirective(roles=list(roles))  # type: ignore[misc]

    async def has_permission(self, source: Any, info, **kwargs: Any) -> bool:
        actor = await info.context.viewer()
        if not actor.has_role(*self.roles):
            raise Forbidden(self.message)
        return True


class StoreScope(BasePermission):
    """When the field is asked about one store (``storeId``), the viewer must be allowed there.

    HQ roles reach every store; managers and guides only their own.
    """

    def __init__(self, argument: str = "store_id", type_name: str = "Store") -> None:
        self.argument = argument
        self.type_name = type_name
        self._schema_directive = StoreScopeDirective(argument=strawberry_name(argument))  # type: ignore[misc]

    async def has_permission(self, source: Any, info, **kwargs: Any) -> bool:
        actor = await info.context.viewer()
        global_id = kwargs.get(self.argument)
        if global_id is not None:
            actor.require_store(local_id(global_id, self.type_name))
        return True


def authenticated() -> list[FieldExtension]:
    return [PermissionExtension(permissions=[IsAuthenticated()], fail_silently=False)]


def strawberry_name(python_name: str) -> str:
    head, *rest = python_name.split("_")
    return head + "".join(part.title() for part in rest)


def roles(*allowed: RoleValue, store_scoped: bool = False) -> list[FieldExtension]:
    checks: list[BasePermission] = [HasRole(*allowed)]
    if store_scoped:
        checks.append(StoreScope())
    return [PermissionExtension(permissions=checks, fail_silently=False)]

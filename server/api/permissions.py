"""Permission classes declared on fields; services re-check store scope and ownership."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission, PermissionExtension

from ..domains.common.actor import Role
from ..domains.common.errors import Forbidden
from .nodes import local_id


class IsAuthenticated(BasePermission):
    message = "authentication required"

    def has_permission(self, source: Any, info, **kwargs: Any) -> bool:
        info.context.require_actor()  # raises Unauthenticated with the reason
        return True


class HasRole(BasePermission):
    def __init__(self, *roles: Role) -> None:
        self.roles = roles
        self.message = f"requires one of {', '.join(r.value for r in roles)}"

    def has_permission(self, source: Any, info, **kwargs: Any) -> bool:
        actor = info.context.require_actor()
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

    def has_permission(self, source: Any, info, **kwargs: Any) -> bool:
        actor = info.context.require_actor()
        global_id = kwargs.get(self.argument)
        if global_id is not None:
            actor.require_store(local_id(global_id, self.type_name))
        return True


def authenticated() -> list[PermissionExtension]:
    return [PermissionExtension(permissions=[IsAuthenticated()], fail_silently=False)]


def roles(*allowed: Role, store_scoped: bool = False) -> list[PermissionExtension]:
    checks: list[BasePermission] = [HasRole(*allowed)]
    if store_scoped:
        checks.append(StoreScope())
    return [PermissionExtension(permissions=checks, fail_silently=False)]

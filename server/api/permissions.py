"""Permission classes declared on fields; services re-check store scope and ownership."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission, PermissionExtension

from ..domains.common.actor import Role
from ..domains.common.errors import Forbidden


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


def authenticated() -> list[PermissionExtension]:
    return [PermissionExtension(permissions=[IsAuthenticated()], fail_silently=False)]


def roles(*allowed: Role) -> list[PermissionExtension]:
    return [PermissionExtension(permissions=[HasRole(*allowed)], fail_silently=False)]

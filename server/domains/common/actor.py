"""Who is acting: a staff member or (from the identity issue on) a customer."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .errors import Forbidden


class Role(StrEnum):
    HQ_ADMIN = "HQ_ADMIN"
    STORE_MANAGER = "STORE_MANAGER"
    GUIDE = "GUIDE"
    LIVESTREAM_OPS = "LIVESTREAM_OPS"
    ANALYST = "ANALYST"


STORE_ROLES = frozenset({Role.STORE_MANAGER, Role.GUIDE})
HQ_ROLES = (Role.HQ_ADMIN, Role.ANALYST, Role.LIVESTREAM_OPS)  # act on every store


class ActorKind(StrEnum):
    STAFF = "staff"
    CUSTOMER = "customer"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: int
    role: Role | None = None
    store_id: int | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def is_staff(self) -> bool:
        return self.kind is ActorKind.STAFF

    def has_role(self, *roles: Role) -> bool:
        return self.is_staff and self.role in roles

    def require_role(self, *roles: Role) -> None:
        if not self.has_role(*roles):
            raise Forbidden(f"requires one of {', '.join(r.value for r in roles)}")

    def require_store(self, store_id: int | None) -> None:
        """HQ roles act on every store; store roles only on their own."""
        if self.has_role(*HQ_ROLES):
            return
        if store_id is None or self.store_id != store_id:
            raise Forbidden("another store")

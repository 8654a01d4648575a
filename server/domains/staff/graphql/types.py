"""GraphQL types of staff and teams."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry import relay

from ....api.errors import UserError, user_error_type
from ....api.nodes import load_nodes
from ....api.permissions import roles
from ....api.viewer import Viewer
from ...catalog.graphql.types import ProductCategory, Service
from ...catalog.services import categories_by_ids, services_by_ids
from ...common.actor import Role as RoleValue
from ...common.rows import saved_id
from ...stores.graphql.types import Store
from ...stores.models import Store as StoreRow
from ...stores.services import stores_by_ids
from .. import services
from ..errors import StaffErrorCode
from ..models import StaffUser as StaffRow
from ..models import Team as TeamRow

if TYPE_CHECKING:  # user_error_type builds the class at run time: mypy knows it by its interface
    StaffUserError = UserError
else:
    StaffUserError = user_error_type(
        "Staff",
        StaffErrorCode,
        {
            StaffErrorCode.DUPLICATE_USERNAME: "The username is taken.",
            StaffErrorCode.DUPLICATE_NAME: "A team with this name exists.",
            StaffErrorCode.PASSWORD_TOO_SHORT: "The password has fewer than 10 characters.",
            StaffErrorCode.STORE_REQUIRED: "A STORE_MANAGER or GUIDE needs a storeId.",
            StaffErrorCode.STORE_NOT_ALLOWED: "An HQ role (HQ_ADMIN, LIVESTREAM_OPS, ANALYST) takes no storeId.",
            StaffErrorCode.INVALID_MEMBER: "A team member is not an active LIVESTREAM_OPS staff member.",
        },
    )


@strawberry.type(description="A staff account: HQ, store manager, guide, livestream ops or analyst.")
class StaffUser(relay.Node, Viewer):
    id: relay.NodeID[int]
    username: str = strawberry.field(description="Sign-in name, lower case.")
    display_name: str = strawberry.field(description="The name to show.")
    # The schema's Role: api.permissions documents this enum in place (its `Role` name is no type to mypy).
    role: RoleValue = strawberry.field(description="What the member may do.")
    active: bool = strawberry.field(description="False once deactivated: she can no longer sign in.")
    created_at: datetime = strawberry.field(description="When the account was created (UTC).")
    store_id: strawberry.Private[int | None]
    store_row: strawberry.Private[StoreRow | None] = None  # her store, when it was read with her (``me``)

    @strawberry.field(description="The store of a manager or guide; null for HQ roles.")
    async def store(self, info: strawberry.Info) -> Store | None:
        if self.store_id is None:
            return None
        if self.store_row is not None:
            return Store.from_row(self.store_row)
        row = await info.context.loader(stores_by_ids).load(self.store_id)
        return Store.from_row(row) if row else None

    @strawberry.field(description="Product categories this person is skilled in.")
    async def skill_categories(self, info: strawberry.Info) -> list[ProductCategory]:
        category_ids, _ = await info.context.loader(services.skills_by_staff, ([], [])).load(self.id)
        rows = await info.context.loader(categories_by_ids).load_many(category_ids)
        return [ProductCategory.from_row(r) for r in rows if r]

    @strawberry.field(description="Services this person can deliver.")
    async def skill_services(self, info: strawberry.Info) -> list[Service]:
        _, service_ids = await info.context.loader(services.skills_by_staff, ([], [])).load(self.id)
        rows = await info.context.loader(services_by_ids).load_many(service_ids)
        return [Service.from_row(r) for r in rows if r]

    @classmethod
    def from_row(cls, row: StaffRow, store: StoreRow | None = None) -> StaffUser:
        return cls(
            store_row=store,
            id=saved_id(row),
            username=row.username,
            display_name=row.display_name,
            role=RoleValue(row.role),
            active=row.active,
            created_at=row.created_at,
            store_id=row.store_id,
        )

    @classmethod
    async def resolve_nodes(cls, *, info, node_ids, required=False):
        return await load_nodes(info, services.staff_by_ids, node_ids, cls.from_row, visible=services.can_read_staff)


@strawberry.type(description="A livestream operations team.")
class Team(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Unique team name.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")

    @strawberry.field(
        extensions=roles(RoleValue.HQ_ADMIN, RoleValue.ANALYST, RoleValue.LIVESTREAM_OPS),
        description="The team's staff. HQ_ADMIN, ANALYST or LIVESTREAM_OPS.",
    )
    async def members(self, info: strawberry.Info) -> list[StaffUser]:
        member_ids = await info.context.loader(services.member_ids_by_team, default=[]).load(self.id)
        rows = await info.context.loader(services.staff_by_ids).load_many(member_ids)
        return [StaffUser.from_row(r) for r in rows if r]

    @classmethod
    def from_row(cls, row: TeamRow) -> Team:
        return cls(id=saved_id(row), name=row.name, created_at=row.created_at)

    @classmethod
    async def resolve_nodes(cls, *, info, node_ids, required=False):
        return await load_nodes(info, services.teams_by_ids, node_ids, cls.from_row)

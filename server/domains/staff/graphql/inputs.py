"""GraphQL inputs of staff and teams."""

from __future__ import annotations

import strawberry

from ....api.nodes import local_id, local_ids
from .. import services
from .types import Role


@strawberry.input
class StaffCreateInput:
    username: str = strawberry.field(description="3-32 characters: a-z, 0-9, '.', '_' or '-'.")
    password: str = strawberry.field(description="At least 10 characters.")
    display_name: str
    role: Role
    store_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required for STORE_MANAGER and GUIDE, absent for HQ roles."
    )
    skill_category_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    skill_service_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    idempotency_key: str | None = None


@strawberry.input(description="Fields left out (or null) stay as they are.")
class StaffUpdateInput:
    id: strawberry.ID
    display_name: str | None = None
    password: str | None = strawberry.field(default=None, description="Resets the password; signs the member out.")
    role: Role | None = None
    store_id: strawberry.ID | None = None
    skill_category_ids: list[strawberry.ID] | None = None
    skill_service_ids: list[strawberry.ID] | None = None


@strawberry.input
class TeamCreateInput:
    name: str
    member_ids: list[strawberry.ID] = strawberry.field(default_factory=list, description="LIVESTREAM_OPS staff.")
    idempotency_key: str | None = None


def to_staff_draft(data: StaffCreateInput) -> services.StaffDraft:
    return services.StaffDraft(
        username=data.username,
        password=data.password,
        display_name=data.display_name,
        role=data.role,
        store_id=local_id(data.store_id, "Store"),
        category_ids=local_ids(data.skill_category_ids, "ProductCategory"),
        service_ids=local_ids(data.skill_service_ids, "Service"),
    )


def to_staff_changes(data: StaffUpdateInput) -> services.StaffChanges:
    return services.StaffChanges(
        display_name=data.display_name,
        password=data.password,
        role=data.role,
        store_id=local_id(data.store_id, "Store"),
        category_ids=local_ids(data.skill_category_ids, "ProductCategory"),
        service_ids=local_ids(data.skill_service_ids, "Service"),
    )

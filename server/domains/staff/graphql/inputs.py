"""GraphQL inputs of staff and teams."""

from __future__ import annotations

import strawberry

from ....api.nodes import local_id, local_ids
from ...common.actor import Role  # the schema's Role (api.permissions documents it in place)
from .. import services


@strawberry.input(description="A new staff account. A store manager may create only guides of her own store.")
class StaffCreateInput:
    username: str = strawberry.field(
        description="Unique, 3-32 characters: a-z, 0-9, '.', '_' or '-' (upper case is lowered)."
    )
    password: str = strawberry.field(description="10 to 128 characters.")
    display_name: str = strawberry.field(description="1-64 characters.")
    role: Role = strawberry.field(description="What the member may do.")
    store_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required for STORE_MANAGER and GUIDE, absent for HQ roles."
    )
    skill_category_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="ProductCategory ids she is skilled in (guides are matched on them)."
    )
    skill_service_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Service ids she can deliver (guides are matched on them)."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="1-128 characters: a retry with the same key by you returns the first result and writes nothing.",
    )


@strawberry.input(description="Fields left out (or null) stay as they are.")
class StaffUpdateInput:
    id: strawberry.ID = strawberry.field(description="The StaffUser to change.")
    display_name: str | None = strawberry.field(default=None, description="1-64 characters.")
    password: str | None = strawberry.field(
        default=None, description="Resets the password (10 to 128 characters); signs the member out."
    )
    role: Role | None = strawberry.field(
        default=None, description="A new role signs the member out; moving to an HQ role leaves the store."
    )
    store_id: strawberry.ID | None = strawberry.field(
        default=None, description="Moves a manager or guide to another Store; signs the member out."
    )
    skill_category_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Replaces her ProductCategory skills."
    )
    skill_service_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Replaces the Services she can deliver."
    )


@strawberry.input(description="A new livestream operations team.")
class TeamCreateInput:
    name: str = strawberry.field(description="Unique, 1-64 characters.")
    member_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="At most 100 StaffUser ids, each an active LIVESTREAM_OPS member."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="1-128 characters: a retry with the same key by you returns the first result and writes nothing.",
    )


def to_staff_draft(data: StaffCreateInput) -> services.StaffDraft:
    return services.StaffDraft(
        username=data.username,
        password=data.password,
        display_name=data.display_name,
        role=data.role,
        store_id=local_id(data.store_id, "Store"),
        category_ids=[local_id(i, "ProductCategory") for i in data.skill_category_ids],
        service_ids=[local_id(i, "Service") for i in data.skill_service_ids],
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


@strawberry.input(description="The account to deactivate.")
class StaffDeactivateInput:
    id: strawberry.ID = strawberry.field(description="The StaffUser.")

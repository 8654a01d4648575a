"""Task queries: a guide's list (and catch-up after a reconnect), a store's queue, SOP templates."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry import relay

from ....api.nodes import local_id
from ....api.pagination import After, Connection, First, paginate
from ....api.permissions import roles
from ...common.actor import Role
from .. import listings
from ..services import TaskStatus as TaskStatusValue
from ..sop import DEFAULT_STEPS
from ..sop import CustomerType as CustomerTypeValue
from .types import CustomerType, SopTemplate, Task, TaskStatus

STORE_STAFF = roles(Role.HQ_ADMIN, Role.STORE_MANAGER, Role.GUIDE)
MAX_REMOVED = 500


@strawberry.type
class TaskQuery:
    @strawberry.field(
        extensions=roles(Role.GUIDE, Role.STORE_MANAGER),
        description="Tasks assigned to you (GUIDE or STORE_MANAGER), in the order they were created. After a "
        "dropped socket, pass the last updatedAt you saw as updatedAfter to catch up.",
    )
    async def my_task_list(
        self,
        info: strawberry.Info,
        updated_after: Annotated[
            dt.datetime | None, strawberry.argument(description="Only tasks changed after this instant.")
        ] = None,
        status: Annotated[
            list[TaskStatus] | None, strawberry.argument(description="Only tasks in one of these statuses.")
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Task]:
        statuses = [TaskStatusValue(s.name) for s in status or ()]
        statement = listings.my_task_listing(
            await info.context.viewer(), updated_after=updated_after, statuses=statuses
        )
        return await paginate(info, statement, Task.from_row, first=first, after=after)

    @strawberry.field(
        extensions=roles(Role.GUIDE, Role.STORE_MANAGER),
        description="The catch-up's removals: tasks that were yours, changed after updatedAfter and are no "
        "longer yours (given to another guide, escalated, or back to the store queue) — drop them from your "
        "list, as the REMOVED event says live. At most 500 ids, in id order. GUIDE or STORE_MANAGER.",
    )
    async def my_removed_task_ids(
        self,
        info: strawberry.Info,
        updated_after: Annotated[
            dt.datetime, strawberry.argument(description="The instant you caught up from (as for myTaskList).")
        ],
    ) -> list[strawberry.ID]:
        statement = listings.my_removed_task_ids(await info.context.viewer(), updated_after).limit(MAX_REMOVED)
        async with info.context.db() as session:
            return [strawberry.ID(relay.to_base64("Task", task_id)) for task_id in await session.exec(statement)]

    @strawberry.field(
        extensions=STORE_STAFF,
        description="A store's active tasks (OPEN, ACKNOWLEDGED, IN_PROGRESS) in id order; unassignedOnly for "
        "the queue no guide took. HQ_ADMIN, or STORE_MANAGER and GUIDE of that store (else FORBIDDEN).",
    )
    async def store_tasks(
        self,
        info: strawberry.Info,
        store_id: Annotated[strawberry.ID, strawberry.argument(description="The Store.")],
        unassigned_only: Annotated[
            bool, strawberry.argument(description="Only tasks waiting in the store queue, held by no guide.")
        ] = False,
        first: First = None,
        after: After = None,
    ) -> Connection[Task]:
        store = local_id(store_id, "Store")
        statement = listings.store_task_listing(await info.context.viewer(), store, unassigned_only=unassigned_only)
        return await paginate(info, statement, Task.from_row, first=first, after=after)

    @strawberry.field(
        extensions=STORE_STAFF,
        description="The SOP of every customer type (built-in until HQ saves its own). HQ_ADMIN, STORE_MANAGER "
        "or GUIDE.",
    )
    async def sop_templates(self, info: strawberry.Info) -> list[SopTemplate]:
        async with info.context.db() as session:
            saved = {row.customer_type: row for row in await session.exec(listings.sop_template_listing())}
        return [
            SopTemplate.from_row(saved[kind.value])
            if kind.value in saved
            else SopTemplate.from_steps(
                CustomerType(kind.value), kind.value.replace("_", " ").title(), DEFAULT_STEPS[kind], False
            )
            for kind in CustomerTypeValue
        ]

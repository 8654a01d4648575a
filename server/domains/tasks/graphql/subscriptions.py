"""Live task events for guides and store managers."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from enum import Enum
from typing import Annotated

import strawberry

from ....api.live import live_messages
from ....api.nodes import local_id
from ....api.permissions import roles
from ...common.actor import Role
from ..topics import staff_topic, store_queue_topic
from .types import Task, task_for_event


@strawberry.enum(description="What happened to a task.")
class TaskEventKind(Enum):
    CREATED = strawberry.enum_value("CREATED", description="A new task for you (or the queue).")
    UPDATED = strawberry.enum_value("UPDATED", description="Its state, steps or booking changed.")
    ESCALATED = strawberry.enum_value("ESCALATED", description="Not acknowledged in time; moved to another guide.")
    REMINDER = strawberry.enum_value("REMINDER", description="Her slot starts soon.")
    REMOVED = strawberry.enum_value("REMOVED", description="It was given to someone else.")
    REASSIGNED = strawberry.enum_value("REASSIGNED", description="A manager gave it to you.")


@strawberry.type(description="A task event, with the task as it is now.")
class TaskEvent:
    kind: TaskEventKind = strawberry.field(description="What happened.")
    task: Task = strawberry.field(description="The task as it is now.")


async def _task_events(info: strawberry.Info, topic: str) -> AsyncGenerator[TaskEvent, None]:
    async for message in live_messages(info, topic):
        task = await task_for_event(info, message["taskId"])
        if task is not None:
            yield TaskEvent(kind=TaskEventKind(message["event"]), task=task)


@strawberry.type
class TaskSubscription:
    @strawberry.subscription(
        extensions=roles(Role.GUIDE, Role.STORE_MANAGER),
        description="Your tasks as they are created, change, escalate or come due (GUIDE or STORE_MANAGER). "
        "After a reconnect, catch up with myTaskList(updatedAfter:).",
    )
    async def my_tasks(self, info: strawberry.Info) -> AsyncGenerator[TaskEvent, None]:
        actor = await info.context.viewer()
        async for event in _task_events(info, staff_topic(actor.id)):
            yield event

    @strawberry.subscription(
        extensions=roles(Role.HQ_ADMIN, Role.STORE_MANAGER),
        description="Every task event of a store: new, queued, escalated, done. HQ_ADMIN, or a STORE_MANAGER "
        "of that store (else FORBIDDEN). After a reconnect, catch up with storeTasks.",
    )
    async def store_queue(
        self, info: strawberry.Info, store_id: Annotated[strawberry.ID, strawberry.argument(description="The Store.")]
    ) -> AsyncGenerator[TaskEvent, None]:
        actor = await info.context.viewer()
        store = local_id(store_id, "Store")
        actor.require_store(store)
        async for event in _task_events(info, store_queue_topic(store)):
            yield event

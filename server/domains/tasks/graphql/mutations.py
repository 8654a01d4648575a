"""Task mutations: the guide works her task; managers reassign; HQ edits SOPs."""

from __future__ import annotations

import strawberry

from ....api.errors import mutate
from ....api.nodes import local_id
from ....api.permissions import roles
from ...bookings.reception import complete_reception
from ...common.actor import Role
from .. import services
from ..sop import CustomerType as CustomerTypeValue
from .inputs import SopTemplateSetInput
from .types import SopTemplate, Task, TaskUserError

STORE_STAFF = roles(Role.HQ_ADMIN, Role.STORE_MANAGER, Role.GUIDE)


@strawberry.type
class TaskPayload:
    task: Task | None = None
    errors: list[TaskUserError]


@strawberry.type
class SopTemplateSetPayload:
    template: SopTemplate | None = None
    errors: list[TaskUserError]


def _task_action(service):
    """A mutation resolver running ``service(session, actor, task_id, now)``."""

    async def resolve(self, info: strawberry.Info, id: strawberry.ID) -> TaskPayload:
        actor = info.context.require_actor()
        now = info.context.runtime.clock.now()

        async def action(session):
            return {"task": Task.from_row(await service(session, actor, local_id(id, "Task"), now))}

        return await mutate(info, TaskPayload, TaskUserError, action)

    return resolve


@strawberry.type
class TaskMutation:
    task_acknowledge = strawberry.mutation(
        resolver=_task_action(services.acknowledge),
        extensions=STORE_STAFF,
        description="I have seen it and will receive her (stops the SLA clock).",
    )
    task_start = strawberry.mutation(
        resolver=_task_action(services.start),
        extensions=STORE_STAFF,
        description="The customer is here: reception begins (checking her in does this too).",
    )
    task_complete = strawberry.mutation(
        resolver=_task_action(complete_reception),
        extensions=STORE_STAFF,
        description="Reception done: the task is DONE and her booking COMPLETED. Refused while a required "
        "SOP step is open (REQUIRED_STEPS_OPEN) or before she is checked in (NOT_CHECKED_IN).",
    )

    @strawberry.mutation(
        extensions=STORE_STAFF,
        description="Tick one SOP step. Ticking a step of an OPEN task acknowledges it on the way "
        "(a queued one is refused: INVALID_STATE).",
    )
    async def task_step_complete(self, info: strawberry.Info, task_id: strawberry.ID, position: int) -> TaskPayload:
        actor = info.context.require_actor()
        now = info.context.runtime.clock.now()

        async def action(session):
            row = await services.complete_step(session, actor, local_id(task_id, "Task"), position, now)
            return {"task": Task.from_row(row)}

        return await mutate(info, TaskPayload, TaskUserError, action)

    @strawberry.mutation(
        extensions=roles(Role.HQ_ADMIN, Role.STORE_MANAGER), description="Give a task to another guide of the store."
    )
    async def task_reassign(self, info: strawberry.Info, id: strawberry.ID, guide_id: strawberry.ID) -> TaskPayload:
        actor = info.context.require_actor()
        runtime = info.context.runtime

        async def action(session):
            row = await services.reassign(
                session,
                actor,
                local_id(id, "Task"),
                local_id(guide_id, "StaffUser"),
                runtime.task_policy,
                runtime.clock.now(),
            )
            return {"task": Task.from_row(row)}

        return await mutate(info, TaskPayload, TaskUserError, action)

    @strawberry.mutation(extensions=roles(Role.HQ_ADMIN), description="Replace the SOP of a customer type.")
    async def sop_template_set(self, info: strawberry.Info, input: SopTemplateSetInput) -> SopTemplateSetPayload:
        actor = info.context.require_actor()
        now = info.context.runtime.clock.now()
        steps = [{"title": s.title, "guidance": s.guidance, "required": s.required} for s in input.steps]

        async def action(session):
            row = await services.set_sop_template(
                session, actor, CustomerTypeValue(input.customer_type.value), input.name, steps, now
            )
            return {"template": SopTemplate.from_row(row)}

        return await mutate(info, SopTemplateSetPayload, TaskUserError, action)

"""Task mutations: the guide works her task; managers reassign; HQ edits SOPs."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ....api.errors import mutate
from ....api.mutation_input import Input, deprecated_argument, one_input
from ....api.nodes import local_id
from ....api.permissions import roles
from ...bookings.reception import complete_reception
from ...common.actor import Role
from .. import services
from ..sop import CustomerType as CustomerTypeValue
from .inputs import (
    SopTemplateSetInput,
    TaskAcknowledgeInput,
    TaskCompleteInput,
    TaskReassignInput,
    TaskStartInput,
    TaskStepCompleteInput,
    TaskStepReopenInput,
)
from .types import SopTemplate, Task, TaskUserError

STORE_STAFF = roles(Role.HQ_ADMIN, Role.STORE_MANAGER, Role.GUIDE)


@strawberry.type(description="The answer to a task mutation.")
class TaskPayload:
    task: Task | None = strawberry.field(default=None, description="The task as it is now; null on errors.")
    errors: list[TaskUserError] = strawberry.field(
        description="Why nothing was written (see the mutation for its codes); empty on success."
    )


@strawberry.type(description="The answer to sopTemplateSet.")
class SopTemplateSetPayload:
    template: SopTemplate | None = strawberry.field(default=None, description="The SOP as saved; null on errors.")
    errors: list[TaskUserError] = strawberry.field(
        description="Why nothing was written (REQUIRED, TOO_MANY or another input check); empty on success."
    )


async def _task_action(
    info: strawberry.Info, service, input, input_type: type, id: strawberry.ID | None
) -> TaskPayload:
    """Run ``service(session, actor, task_id, now)``, a step of the task's life."""
    actor = await info.context.viewer()
    now = info.context.runtime.clock.now()

    async def action(session):
        task_id = local_id(one_input(input, input_type, id=id).id, "Task")
        return {"task": Task.from_row(await service(session, actor, task_id, now))}

    return await mutate(info, TaskPayload, TaskUserError, action)


TaskId = Annotated[strawberry.ID | None, deprecated_argument("the Task.")]


@strawberry.type
class TaskMutation:
    @strawberry.mutation(
        extensions=STORE_STAFF,
        description="I have seen it and will receive her: OPEN → ACKNOWLEDGED, which stops the SLA clock. "
        "HQ_ADMIN, STORE_MANAGER or GUIDE; a guide only her own task (NOT_ASSIGNED_TO_YOU); INVALID_STATE otherwise.",
    )
    async def task_acknowledge(
        self, info: strawberry.Info, input: Input[TaskAcknowledgeInput] = None, id: TaskId = None
    ) -> TaskPayload:
        return await _task_action(info, services.acknowledge, input, TaskAcknowledgeInput, id)

    @strawberry.mutation(
        extensions=STORE_STAFF,
        description="The customer is here: OPEN or ACKNOWLEDGED → IN_PROGRESS (checking her in does this too). "
        "HQ_ADMIN, STORE_MANAGER or GUIDE; a guide only her own task (NOT_ASSIGNED_TO_YOU); INVALID_STATE otherwise.",
    )
    async def task_start(
        self, info: strawberry.Info, input: Input[TaskStartInput] = None, id: TaskId = None
    ) -> TaskPayload:
        return await _task_action(info, services.start, input, TaskStartInput, id)

    @strawberry.mutation(
        extensions=STORE_STAFF,
        description="Reception done: the IN_PROGRESS task is DONE and her booking COMPLETED. Refused while a "
        "required SOP step is open (REQUIRED_STEPS_OPEN) or before she is checked in (NOT_CHECKED_IN). "
        "HQ_ADMIN, STORE_MANAGER or GUIDE; a guide only her own task (NOT_ASSIGNED_TO_YOU).",
    )
    async def task_complete(
        self, info: strawberry.Info, input: Input[TaskCompleteInput] = None, id: TaskId = None
    ) -> TaskPayload:
        return await _task_action(info, complete_reception, input, TaskCompleteInput, id)

    @strawberry.mutation(
        extensions=STORE_STAFF,
        description="Tick one SOP step (again is a no-op). Ticking a step of an OPEN task acknowledges it on the "
        "way (a queued one, or a DONE or CANCELLED task, is refused: INVALID_STATE). HQ_ADMIN, STORE_MANAGER or "
        "GUIDE; a guide only her own task (NOT_ASSIGNED_TO_YOU).",
    )
    async def task_step_complete(
        self,
        info: strawberry.Info,
        input: Input[TaskStepCompleteInput] = None,
        task_id: TaskId = None,
        position: Annotated[int | None, deprecated_argument("the step's position.")] = None,
    ) -> TaskPayload:
        actor = await info.context.viewer()
        now = info.context.runtime.clock.now()

        async def action(session):
            given = one_input(input, TaskStepCompleteInput, task_id=task_id, position=position)
            row = await services.complete_step(session, actor, local_id(given.task_id, "Task"), given.position, now)
            return {"task": Task.from_row(row)}

        return await mutate(info, TaskPayload, TaskUserError, action)

    @strawberry.mutation(
        extensions=STORE_STAFF,
        description="Untick a step ticked by mistake (again is a no-op), while the task is ACKNOWLEDGED or "
        "IN_PROGRESS (else INVALID_STATE). HQ_ADMIN, STORE_MANAGER or GUIDE; a guide only her own task "
        "(NOT_ASSIGNED_TO_YOU).",
    )
    async def task_step_reopen(
        self,
        info: strawberry.Info,
        input: Annotated[TaskStepReopenInput, strawberry.argument(description="The task and the step.")],
    ) -> TaskPayload:
        actor = await info.context.viewer()
        now = info.context.runtime.clock.now()

        async def action(session):
            row = await services.reopen_step(session, actor, local_id(input.task_id, "Task"), input.position, now)
            return {"task": Task.from_row(row)}

        return await mutate(info, TaskPayload, TaskUserError, action)

    @strawberry.mutation(
        extensions=roles(Role.HQ_ADMIN, Role.STORE_MANAGER),
        description="Give a task that is not DONE or CANCELLED to another guide of the store; she must acknowledge "
        "it anew. HQ_ADMIN, or a STORE_MANAGER of the task's store. Errors: NOT_A_CANDIDATE, INVALID_STATE.",
    )
    async def task_reassign(
        self,
        info: strawberry.Info,
        input: Input[TaskReassignInput] = None,
        id: TaskId = None,
        guide_id: Annotated[strawberry.ID | None, deprecated_argument("the guide (StaffUser).")] = None,
    ) -> TaskPayload:
        actor = await info.context.viewer()
        runtime = info.context.runtime

        async def action(session):
            given = one_input(input, TaskReassignInput, id=id, guide_id=guide_id)
            row = await services.reassign(
                session,
                actor,
                local_id(given.id, "Task"),
                local_id(given.guide_id, "StaffUser"),
                runtime.task_policy,
                runtime.clock.now(),
            )
            return {"task": Task.from_row(row)}

        return await mutate(info, TaskPayload, TaskUserError, action)

    @strawberry.mutation(
        extensions=roles(Role.HQ_ADMIN),
        description="Replace the SOP of a customer type; tasks created from now on follow it. HQ_ADMIN only.",
    )
    async def sop_template_set(
        self,
        info: strawberry.Info,
        input: Annotated[SopTemplateSetInput, strawberry.argument(description="The customer type and its new SOP.")],
    ) -> SopTemplateSetPayload:
        actor = await info.context.viewer()
        now = info.context.runtime.clock.now()
        steps = [{"title": s.title, "guidance": s.guidance, "required": s.required} for s in input.steps]

        async def action(session):
            row = await services.set_sop_template(
                session, actor, CustomerTypeValue(input.customer_type.value), input.name, steps, now
            )
            return {"template": SopTemplate.from_row(row)}

        return await mutate(info, SopTemplateSetPayload, TaskUserError, action)

"""GraphQL inputs of tasks and SOP templates."""

from __future__ import annotations

import strawberry

from .types import CustomerType


@strawberry.input(description="One step of an SOP, as HQ writes it.")
class SopStepInput:
    title: str = strawberry.field(description="1-100 characters.")
    guidance: str = strawberry.field(default="", description="At most 500 characters; line breaks allowed.")
    required: bool = strawberry.field(default=True, description="A task cannot be completed while it is open.")


@strawberry.input(description="The new SOP of a customer type; tasks created from now on follow it.")
class SopTemplateSetInput:
    customer_type: CustomerType = strawberry.field(description="Whose SOP it is.")
    name: str = strawberry.field(description="1-64 characters.")
    steps: list[SopStepInput] = strawberry.field(description="1 to 20 steps, in order.")


@strawberry.input(description="The task to acknowledge.")
class TaskAcknowledgeInput:
    id: strawberry.ID = strawberry.field(description="The Task.")


@strawberry.input(description="The task to start.")
class TaskStartInput:
    id: strawberry.ID = strawberry.field(description="The Task.")


@strawberry.input(description="The task to complete.")
class TaskCompleteInput:
    id: strawberry.ID = strawberry.field(description="The Task.")


@strawberry.input(description="The SOP step to tick.")
class TaskStepCompleteInput:
    task_id: strawberry.ID = strawberry.field(description="The Task.")
    position: int = strawberry.field(description="The step's position, as TaskStep.position gives it.")


@strawberry.input(description="The task and the guide to give it to.")
class TaskReassignInput:
    id: strawberry.ID = strawberry.field(description="The Task.")
    guide_id: strawberry.ID = strawberry.field(description="An active guide (StaffUser) of the task's store.")


@strawberry.input(description="The SOP step to untick.")
class TaskStepReopenInput:
    task_id: strawberry.ID = strawberry.field(description="The Task.")
    position: int = strawberry.field(description="The step's position, as TaskStep.position gives it.")

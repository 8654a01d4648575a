"""GraphQL inputs of tasks and SOP templates."""

from __future__ import annotations

import strawberry

from .types import CustomerType


@strawberry.input
class SopStepInput:
    title: str = strawberry.field(description="At most 100 characters.")
    guidance: str = strawberry.field(default="", description="At most 500 characters.")
    required: bool = True


@strawberry.input
class SopTemplateSetInput:
    customer_type: CustomerType
    name: str
    steps: list[SopStepInput] = strawberry.field(description="1 to 20 steps, in order.")

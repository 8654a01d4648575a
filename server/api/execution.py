"""How operations are executed: strawberry's execution, with each subscription event's memo its own, and
nothing of an operation left for the garbage collector once it is answered.

graphql-core (3.3) memoizes the sub-fields it collects per object type, keyed on the identity of the
field list, and keeps that list alive with the entry. Each subscription event collects its root
fields anew (new lists, new keys), and the per-event executor is a shallow copy sharing its memo
with the subscription's: a guide's socket grew by every event it was sent, for as long as it
stayed open (about 4 KB per task event). Here each event gets a memo of its
own, dropped with the event.
"""

from __future__ import annotations

from typing import Any

from graphql import ExecutionResult
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class Execution(StrawberryGraphQLCoreExecutionContext):
    def build_per_event_executor(self, payload: Any):
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}  # graphql-core's memo (private): this event's alone
        return executor

    def build_response(self, data: dict[str, Any] | None):
        response = super().build_response(data)
        if isinstance(response, ExecutionResult):  # complete: no incremental payload to come
            # graphql-core's helpers hold bound methods of this executor, a cycle: the operation's context, its
            # request and all they hold then waited for the garbage collector's next pass to be freed.
            del self.async_helpers
        return response

"""How operations are executed: strawberry's execution, with each subscription event's memo its own.

graphql-core (3.3) memoizes the sub-fields it collects per object type, keyed on the identity of the
field list, and keeps that list alive with the entry. Each subscription event collects its root
fields anew (new lists, new keys), and the per-event executor is a shallow copy sharing its memo
with the subscription's: a guide's socket grew by every event it was sent, for as long as it
stayed open (about 4 KB per task event). Here each event gets a memo of its
own, dropped with the event.
"""

from __future__ import annotations

from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class Execution(StrawberryGraphQLCoreExecutionContext):
    def build_per_event_executor(self, payload: Any):
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}  # graphql-core's memo (private): this event's alone
        return executor

"""How operations are executed: strawberry's execution, with each subscription event's memo its own, and
nothing of an operation left for the garbage collector once it is answered.

graphql-core (3.3) memoizes the sub-fields it collects per object type, keyed on the identity of the
field list, and keeps that list alive with the entry. Each subscription event collects its root
fields anew (new lists, new keys), and the per-event executor is a shallow copy sharing its memo
with the subscription's: a guide's socket grew by every event it was sent, for as long as it
stayed open (about 4 KB per task event). Here each event gets a memo of its
own, dropped with the event.

What a subscription's events collect below their root fields is the same every time (one document, one set
of variables): it is kept once per subscription, keyed on the field nodes themselves, which the document
holds for as long as the subscription lives, so it stays as small as the selection.
"""

from __future__ import annotations

from typing import Any, cast

from graphql import ExecutionResult, GraphQLObjectType
from graphql.execution.collect_fields import CollectedFields, FieldDetailsList
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class Execution(StrawberryGraphQLCoreExecutionContext):
    # A subscription's sub-fields by (object type, the ids of their field nodes); None outside its events.
    _subfields_of_nodes: dict[tuple[Any, ...], CollectedFields] | None = None

    def __copy__(self) -> Execution:
        # graphql-core copies the executor, shallowly, for each subscription event and each sub-executor:
        # copy.copy's generic way (__reduce_ex__, copyreg) cost more than the copy itself.
        copied = object.__new__(type(self))
        copied.__dict__.update(self.__dict__)
        return copied

    def build_per_event_executor(self, payload: Any):
        executor = cast(Execution, super().build_per_event_executor(payload))
        executor._relevant_sub_fields = {}  # graphql-core's memo (private): this event's alone
        if self._subfields_of_nodes is None:
            self._subfields_of_nodes = {}
        executor._subfields_of_nodes = self._subfields_of_nodes  # shared by the subscription's events
        return executor

    def collect_subfields(self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList):
        kept = self._subfields_of_nodes
        if kept is None or any(d.defer_usage or d.fragment_variable_values for d in field_details_list):
            return super().collect_subfields(return_type, field_details_list)
        key = (return_type, *(id(details.node) for details in field_details_list))
        collected = kept.get(key)
        if collected is None:
            collected = kept[key] = super().collect_subfields(return_type, field_details_list)
        return collected

    def build_response(self, data: dict[str, Any] | None):
        response = super().build_response(data)
        if isinstance(response, ExecutionResult):  # complete: no incremental payload to come
            # graphql-core's helpers hold bound methods of this executor, a cycle: the operation's context, its
            # request and all they hold then waited for the garbage collector's next pass to be freed.
            del self.async_helpers
        return response

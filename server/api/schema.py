"""The GraphQL schema: every domain's roots merged, with the API's extensions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Annotated, Any

import strawberry
from graphql import GraphQLNonNull, GraphQLSchema
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry import relay
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionResult

from ..domains.auth.graphql.mutations import AuthMutation
from ..domains.auth.graphql.queries import AuthQuery
from ..domains.bookings.graphql.extensions import BOOKING_EXTENSIONS
from ..domains.bookings.graphql.mutations import BookingMutation
from ..domains.bookings.graphql.queries import BookingQuery
from ..domains.bookings.graphql.subscriptions import BookingSubscription
from ..domains.catalog.graphql.mutations import CatalogMutation
from ..domains.catalog.graphql.queries import CatalogQuery
from ..domains.coupons.graphql.extensions import COUPON_EXTENSIONS
from ..domains.coupons.graphql.mutations import CouponMutation
from ..domains.coupons.graphql.queries import CouponQuery
from ..domains.dashboards.graphql.subscriptions import DashboardSubscription
from ..domains.identity.graphql.mutations import IdentityMutation
from ..domains.identity.graphql.queries import IdentityQuery
from ..domains.inventory.graphql.extensions import INVENTORY_EXTENSIONS
from ..domains.inventory.graphql.mutations import InventoryMutation
from ..domains.inventory.graphql.queries import InventoryQuery
from ..domains.ledger.graphql.mutations import LedgerMutation
from ..domains.ledger.graphql.performance import PerformanceQuery
from ..domains.ledger.graphql.queries import LedgerQuery, LedgerSubscription
from ..domains.ledger.graphql.types import LEDGER_EXTENSIONS
from ..domains.livestreams.graphql.mutations import LivestreamMutation
from ..domains.livestreams.graphql.queries import LivestreamQuery
from ..domains.orders.graphql.mutations import OrderMutation
from ..domains.orders.graphql.queries import OrderQuery, OrderSubscription
from ..domains.payments.graphql.mutations import PaymentMutation
from ..domains.payments.graphql.types import PAYMENT_EXTENSIONS
from ..domains.schedule.graphql.mutations import ScheduleMutation
from ..domains.schedule.graphql.queries import ScheduleQuery
from ..domains.social.graphql.mutations import SocialMutation
from ..domains.social.graphql.queries import SocialQuery
from ..domains.social.graphql.types import SOCIAL_EXTENSIONS
from ..domains.staff.graphql.mutations import StaffMutation
from ..domains.staff.graphql.queries import StaffQuery
from ..domains.stores.graphql.mutations import StoreMutation
from ..domains.stores.graphql.queries import StoreQuery
from ..domains.tasks.graphql.extensions import TASK_EXTENSIONS
from ..domains.tasks.graphql.mutations import TaskMutation
from ..domains.tasks.graphql.queries import TaskQuery
from ..domains.tasks.graphql.subscriptions import TaskSubscription
from ..settings import Settings
from .admission import Admission
from .context import UnitOfWork
from .cost import Costs
from .document_limits import alias_limit, depth_limit
from .errors import UserError, present_errors_of
from .execution import Execution
from .json_input import TextLiteralRule
from .nodes import decode_global_id
from .permissions import authenticated
from .scalars import SCALAR_MAP
from .suggestions import SuggestionFreeExecution
from .type_extensions import apply_extensions
from .validation import DOCUMENTS_KEPT, Validations

apply_extensions(BOOKING_EXTENSIONS)
apply_extensions(TASK_EXTENSIONS)
apply_extensions(INVENTORY_EXTENSIONS)
apply_extensions(COUPON_EXTENSIONS)
apply_extensions(PAYMENT_EXTENSIONS)
apply_extensions(LEDGER_EXTENSIONS)
apply_extensions(SOCIAL_EXTENSIONS)


@strawberry.type(description="Read the brand's stores, staff, catalog and livestreams.")
class Query(
    AuthQuery,
    StoreQuery,
    StaffQuery,
    CatalogQuery,
    LivestreamQuery,
    IdentityQuery,
    ScheduleQuery,
    BookingQuery,
    TaskQuery,
    InventoryQuery,
    CouponQuery,
    OrderQuery,
    LedgerQuery,
    PerformanceQuery,
    SocialQuery,
):
    @strawberry.field(
        extensions=authenticated(), description="Any object by its global id; null if unknown or hidden from you."
    )
    async def node(
        self,
        info: strawberry.Info,
        id: Annotated[
            strawberry.ID, strawberry.argument(description="A global id, as any object's id field gives it.")
        ],
    ) -> relay.Node | None:
        global_id = decode_global_id(id)
        definition = info.schema.get_type_by_name(global_id.type_name)
        origin = getattr(definition, "origin", None)
        is_object_type = definition is not None and not getattr(definition, "is_interface", False)
        if not (is_object_type and isinstance(origin, type) and issubclass(origin, relay.Node)):
            return None
        return await global_id.resolve_node(info, required=False)


@strawberry.type(description="Change things. Payloads carry `errors`; when it is not empty nothing was written.")
class Mutation(
    AuthMutation,
    StoreMutation,
    StaffMutation,
    CatalogMutation,
    LivestreamMutation,
    IdentityMutation,
    ScheduleMutation,
    BookingMutation,
    TaskMutation,
    InventoryMutation,
    CouponMutation,
    OrderMutation,
    PaymentMutation,
    LedgerMutation,
    SocialMutation,
):
    pass


@strawberry.type(
    description="Live events over WebSocket (graphql-transport-ws). A dropped socket loses "
    "nothing: catch up with the matching query (e.g. myTaskList(updatedAfter:), bookings(updatedAfter:))."
)
class Subscription(TaskSubscription, BookingSubscription, OrderSubscription, LedgerSubscription, DashboardSubscription):
    pass


class IRSSchema(strawberry.Schema):
    def __init__(self, *args, hide_suggestions: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.validations = Validations(self._schema, hide_suggestions)
        self.costs = Costs(self._schema, DOCUMENTS_KEPT)
        nullable_root_fields(self._schema)
        describe_directive_arguments(self._schema)

    def process_errors(self, errors, execution_context=None) -> None:
        """Logging is present_error's job (server.api.errors): it logs the unexpected errors, not every user
        mistake."""

    # Both ways an operation runs hand its results to present_error here, errors raised outside resolvers (an
    # extension's hook, closing the unit of work) included: no driver message ever reaches a client. Here, not
    # in an extension: strawberry wraps each extension's hooks anew for every operation (5 % of `{ __typename }`).
    async def execute(self, *args, **kwargs) -> ExecutionResult:
        """Over HTTP."""
        return present_errors_of(await super().execute(*args, **kwargs))

    async def stream(self, *args, **kwargs):
        """Over WebSocket (graphql-transport-ws): every operation, each result it streams (a refusal before the
        first included). Strawberry's ``subscribe`` runs through this too."""
        return _each_presented(await super().stream(*args, **kwargs))


async def _each_presented(results: Any) -> AsyncIterator:
    """Each of strawberry's results presented; the stream closed with this one (strawberry's async generator)."""
    async with aclosing(results) as stream:
        async for item in stream:
            yield present_errors_of(item)


def nullable_root_fields(schema: GraphQLSchema) -> None:
    """Every query and mutation root field may answer null.

    A root field that is refused (FORBIDDEN, UNAUTHENTICATED, BAD_USER_INPUT) or fails then
    answers null with its error, and its siblings are still answered; were it non-null, GraphQL
    would null the whole ``data`` and cancel the siblings mid-flight (a mutation that had
    already committed would lose its answer).
    """
    for root in filter(None, (schema.query_type, schema.mutation_type)):
        for field in root.fields.values():
            if isinstance(field.type, GraphQLNonNull):
                field.type = field.type.of_type


def describe_directive_arguments(schema: GraphQLSchema) -> None:
    """Give our schema directives' arguments the descriptions of their fields.

    Strawberry converts a schema directive's fields to arguments without their
    ``strawberry.field(description=...)``; this copies each one over (the arguments are in field order).
    """
    for directive in schema.directives:
        definition = (directive.extensions or {}).get("strawberry-definition")
        for field, argument in zip(getattr(definition, "fields", ()), directive.args.values(), strict=False):
            if argument.description is None:
                argument.description = field.description


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    # The rules are built once: the validation cache keys on the rule classes, and the
    # limits make a new class per call, so per-operation limits would never hit it.
    rules: list[type[ASTValidationRule]] = [
        TextLiteralRule,
        depth_limit(settings.max_query_depth),
        alias_limit(settings.max_query_aliases),
    ]
    if not settings.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    # Factories: strawberry builds fresh extensions per operation (the parse cache lives at module level,
    # the validation cache on the schema).
    # Without introspection, errors give no "Did you mean …?" hints either: they would reveal the schema.
    hints = settings.introspection
    tokens, checked, cost = settings.max_query_tokens, tuple(rules), settings.max_query_cost
    extensions = [UnitOfWork, lambda: Admission(max_tokens=tokens, rules=checked, max_cost=cost)]
    return IRSSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[UserError],
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP, relay_max_results=100),
        execution_context_class=Execution if hints else SuggestionFreeExecution,
        hide_suggestions=not hints,
    )

"""OneID mutations: sources, event ingestion, split, erasure, profile edits, sign-in codes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from ....api.errors import mutate
from ....api.mutation_input import Input, deprecated_argument, one_input
from ....api.nodes import local_id
from ....api.permissions import roles
from ...common.actor import Role as RoleValue
from .. import erasure, ingestion, login, merges, services, sources, walk_ins
from .inputs import (
    CustomerRelationshipGuideSetInput,
    CustomerSmsCodeRequestInput,
    CustomerTraitsInput,
    CustomerWalkInInput,
    EventInput,
    EventsIngestInput,
    PersonEraseInput,
    PersonSplitInput,
    SourceCreateInput,
    SourceDisableInput,
    SourceRotateKeyInput,
)
from .types import (
    Customer,
    EventRejection,
    EventResult,
    EventStatus,
    IdentityUserError,
    PersonMerge,
    TouchpointSource,
    open_customer,
)

HQ_ADMIN = roles(RoleValue.HQ_ADMIN)


@strawberry.type(description="The answer to sourceCreate and sourceRotateKey.")
class SourceKeyPayload:
    source: TouchpointSource | None = strawberry.field(default=None, description="The source; null on errors.")
    api_key: str | None = strawberry.field(
        default=None, description="Shown once: send it as the X-Source-Key header of eventsIngest."
    )
    errors: list[IdentityUserError] = strawberry.field(
        description="DUPLICATE_NAME, NOT_FOUND or an input check; empty on success."
    )


@strawberry.type(description="The answer to sourceDisable.")
class SourceDisablePayload:
    source: TouchpointSource | None = strawberry.field(default=None, description="The source, now inactive.")
    errors: list[IdentityUserError] = strawberry.field(description="NOT_FOUND; empty on success.")


@strawberry.type(description="The answer to eventsIngest.")
class EventsIngestPayload:
    results: list[EventResult] = strawberry.field(default_factory=list, description="One per event, in order.")
    accepted: int = strawberry.field(default=0, description="How many events were stored.")
    duplicates: int = strawberry.field(default=0, description="How many had been received before.")
    rejected: int = strawberry.field(default=0, description="How many were refused (see results).")
    errors: list[IdentityUserError] = strawberry.field(
        description="When the whole batch was refused (TOO_MANY_EVENTS, RATE_LIMITED): nothing stored; else empty."
    )


@strawberry.type(description="The answer to personSplit.")
class PersonSplitPayload:
    merge: PersonMerge | None = strawberry.field(default=None, description="The merge, now undone; null on errors.")
    customer: Customer | None = strawberry.field(default=None, description="The person given back.")
    errors: list[IdentityUserError] = strawberry.field(
        description="NOT_FOUND, MERGE_ALREADY_UNDONE or SPLIT_BLOCKED_BY_LATER_MERGE; empty on success."
    )


@strawberry.type(description="The answer to personErase.")
class PersonErasePayload:
    customer: Customer | None = strawberry.field(default=None, description="The customer, now erased; null on errors.")
    errors: list[IdentityUserError] = strawberry.field(description="NOT_FOUND or PERSON_ERASED; empty on success.")


@strawberry.type(description="The answer to customerTraitsUpdate.")
class CustomerTraitsUpdatePayload:
    customer: Customer | None = strawberry.field(default=None, description="The customer as changed; null on errors.")
    errors: list[IdentityUserError] = strawberry.field(
        description="NOT_FOUND, PERSON_ERASED, REQUIRED (no trait given) or INVALID_VALUE; empty on success."
    )


@strawberry.type(description="The answer to customerRelationshipGuideSet.")
class CustomerRelationshipGuideSetPayload:
    customer: Customer | None = strawberry.field(default=None, description="The customer as changed; null on errors.")
    errors: list[IdentityUserError] = strawberry.field(description="NOT_FOUND or NOT_A_GUIDE; empty on success.")


@strawberry.type(description="The answer to customerSmsCodeRequest.")
class SmsCodeRequestPayload:
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the code stops working (5 minutes after sending)."
    )
    errors: list[IdentityUserError] = strawberry.field(
        description="INVALID_PHONE, TOO_MANY_ATTEMPTS, RATE_LIMITED or VERIFIER_UNAVAILABLE; empty on success."
    )


def _result(result: ingestion.EventResult) -> EventResult:
    return EventResult(
        event_id=result.event_id,
        status=result.outcome,
        code=EventRejection(result.code) if result.code else None,
        message=result.message,
        customer_id=relay.GlobalID("Customer", str(result.person_id)) if result.person_id else None,
    )


@strawberry.type(description="The answer to customerWalkIn.")
class CustomerWalkInPayload:
    customer: Customer | None = strawberry.field(
        default=None, description="Her 360° view, as you may see her; null on errors."
    )
    errors: list[IdentityUserError] = strawberry.field(
        description="INVALID_PHONE, NOT_FOUND (storeId) or PERSON_ERASED; empty on success."
    )


@strawberry.type
class IdentityMutation:
    @strawberry.mutation(
        extensions=HQ_ADMIN, description="Register a touchpoint system; its API key is shown once. HQ_ADMIN only."
    )
    async def source_create(
        self,
        info: strawberry.Info,
        input: Annotated[SourceCreateInput, strawberry.argument(description="The new source.")],
    ) -> SourceKeyPayload:
        actor = await info.context.viewer()

        async def action(session):
            source, key = await sources.create_source(session, actor, input.name, input.kind, input.idempotency_key)
            return {"source": TouchpointSource.from_row(source), "api_key": key}

        return await mutate(info, SourceKeyPayload, IdentityUserError, action)

    @strawberry.mutation(
        extensions=HQ_ADMIN,
        description="Give a source a new API key; the old one stops working. HQ_ADMIN only.",
    )
    async def source_rotate_key(
        self,
        info: strawberry.Info,
        input: Input[SourceRotateKeyInput] = None,
        id: Annotated[strawberry.ID | None, deprecated_argument("The TouchpointSource.")] = None,
    ) -> SourceKeyPayload:
        actor = await info.context.viewer()

        async def action(session):
            source_id = local_id(one_input(input, SourceRotateKeyInput, id=id).id, "TouchpointSource")
            source, key = await sources.rotate_source_key(session, actor, source_id, info.context.runtime.clock.now())
            return {"source": TouchpointSource.from_row(source), "api_key": key}

        return await mutate(info, SourceKeyPayload, IdentityUserError, action)

    @strawberry.mutation(extensions=HQ_ADMIN, description="Stop accepting events from a source. HQ_ADMIN only.")
    async def source_disable(
        self,
        info: strawberry.Info,
        input: Input[SourceDisableInput] = None,
        id: Annotated[strawberry.ID | None, deprecated_argument("The TouchpointSource.")] = None,
    ) -> SourceDisablePayload:
        actor = await info.context.viewer()

        async def action(session):
            source_id = local_id(one_input(input, SourceDisableInput, id=id).id, "TouchpointSource")
            source = await sources.disable_source(session, actor, source_id)
            return {"source": TouchpointSource.from_row(source)}

        return await mutate(info, SourceDisablePayload, IdentityUserError, action)

    @strawberry.mutation(
        description=(
            "Touchpoint systems send up to 500 events, authenticated by the X-Source-Key header. Valid events are "
            "stored even when others in the batch are rejected. Calls per source are limited: over the limit the "
            "whole batch is refused (RATE_LIMITED, with retryAfter) and nothing is stored. A missing, unknown or "
            "disabled key is UNAUTHENTICATED."
        )
    )
    async def events_ingest(
        self,
        info: strawberry.Info,
        input: Input[EventsIngestInput] = None,
        events: Annotated[list[EventInput] | None, deprecated_argument("At most 500 events.")] = None,
    ) -> EventsIngestPayload:
        context = info.context
        runtime = context.runtime
        async with context.db() as session:
            source = await sources.authenticate_source(session, context.request.headers.get("x-source-key"))
            source_tag = f"src:{source.id}"
            await session.rollback()  # ingest runs its own transactions (and retries them)

        async def action(session):
            batch = one_input(input, EventsIngestInput, events=events).events
            await ingestion.admit_batch(runtime.limits, source_tag)
            results = await ingestion.ingest(
                session, runtime.identity, source_tag, [e.to_raw() for e in batch], runtime.clock.now()
            )
            counts = {status: sum(r.outcome is status for r in results) for status in EventStatus}
            return {
                "results": [_result(r) for r in results],
                "accepted": counts[EventStatus.ACCEPTED],
                "duplicates": counts[EventStatus.DUPLICATE],
                "rejected": counts[EventStatus.REJECTED],
            }

        return await mutate(info, EventsIngestPayload, IdentityUserError, action)

    @strawberry.mutation(
        extensions=HQ_ADMIN,
        description=(
            "Undo a merge: the merged customer comes back with the identifiers and events that came through her. "
            "HQ_ADMIN only."
        ),
    )
    async def person_split(
        self,
        info: strawberry.Info,
        input: Input[PersonSplitInput] = None,
        merge_id: Annotated[strawberry.ID | None, deprecated_argument("The PersonMerge (Customer.merges).")] = None,
    ) -> PersonSplitPayload:
        actor = await info.context.viewer()

        async def action(session):
            given = one_input(input, PersonSplitInput, merge_id=merge_id)
            merge = await merges.split_merge(
                session, actor, local_id(given.merge_id, "PersonMerge"), info.context.runtime.clock.now()
            )
            return {"merge": PersonMerge.from_row(merge)}

        payload = await mutate(info, PersonSplitPayload, IdentityUserError, action)
        if payload.merge is not None:
            payload.customer = await open_customer(info, int(payload.merge.merged_id.node_id), hidden_as_none=True)
        return payload

    @strawberry.mutation(
        extensions=HQ_ADMIN,
        description=(
            "Erase a customer (PIPL / GDPR): identifiers, traits, consents and event properties are deleted; her "
            "pseudonymous id and the facts accounting needs stay. Older replayed events will not link her again. "
            "HQ_ADMIN only."
        ),
    )
    async def person_erase(
        self,
        info: strawberry.Info,
        input: Input[PersonEraseInput] = None,
        customer_id: Annotated[strawberry.ID | None, deprecated_argument("The Customer.")] = None,
    ) -> PersonErasePayload:
        actor = await info.context.viewer()
        runtime = info.context.runtime

        async def action(session):
            given = one_input(input, PersonEraseInput, customer_id=customer_id)
            person = await erasure.erase_person(
                session, actor, runtime.identity, local_id(given.customer_id, "Customer"), runtime.clock.now()
            )
            return {"customer": Customer(id=person.id, masked=False, erased=True)}

        return await mutate(info, PersonErasePayload, IdentityUserError, action)

    @strawberry.mutation(
        extensions=roles(RoleValue.HQ_ADMIN, RoleValue.STORE_MANAGER, RoleValue.GUIDE),
        description="Staff edit a customer's profile (recorded as a PROFILE_UPDATE event). HQ_ADMIN, STORE_MANAGER "
        "or GUIDE who may see her unmasked (else FORBIDDEN).",
    )
    async def customer_traits_update(
        self,
        info: strawberry.Info,
        input: Annotated[
            CustomerTraitsInput, strawberry.argument(description="The customer and the traits to change.")
        ],
    ) -> CustomerTraitsUpdatePayload:
        actor = await info.context.viewer()

        async def action(session):
            person_id = await services.update_traits(
                session,
                actor,
                local_id(input.customer_id, "Customer"),
                input.properties(),
                info.context.runtime.clock.now(),
            )
            return {"customer": Customer(id=person_id, masked=True, erased=False)}

        return await _as_the_viewer_sees_her(
            info, await mutate(info, CustomerTraitsUpdatePayload, IdentityUserError, action)
        )

    @strawberry.mutation(
        extensions=roles(RoleValue.HQ_ADMIN, RoleValue.STORE_MANAGER),
        description="Give a customer her own guide (null to clear). HQ_ADMIN; a STORE_MANAGER for customers she "
        "may open and guides of her store (else FORBIDDEN).",
    )
    async def customer_relationship_guide_set(
        self,
        info: strawberry.Info,
        input: Input[CustomerRelationshipGuideSetInput] = None,
        customer_id: Annotated[strawberry.ID | None, deprecated_argument("The Customer.")] = None,
        guide_id: Annotated[
            strawberry.ID | None, deprecated_argument("An active guide (StaffUser); null clears it.")
        ] = None,
    ) -> CustomerRelationshipGuideSetPayload:
        actor = await info.context.viewer()

        async def action(session):
            given = one_input(input, CustomerRelationshipGuideSetInput, customer_id=customer_id, guide_id=guide_id)
            person = await services.set_relationship_guide(
                session,
                actor,
                local_id(given.customer_id, "Customer"),
                local_id(given.guide_id, "StaffUser"),
                info.context.runtime.clock.now(),
            )
            return {"customer": Customer(id=person.id, masked=True, erased=person.erased_at is not None)}

        return await _as_the_viewer_sees_her(
            info,
            # Clients of its plain arguments know its errors under "input" too (["input", "guideId"]).
            await mutate(info, CustomerRelationshipGuideSetPayload, IdentityUserError, action, fields_under="input"),
        )

    @strawberry.mutation(
        extensions=roles(*walk_ins.WALK_IN_ROLES),
        description="She walked in and gave her phone number: her visit goes on her timeline (a STORE_VISIT at the "
        "store, once a day), which puts her in the store's care, and her 360° view opens (an audited read). A "
        "number OneID does not know yet becomes a new customer. HQ_ADMIN, or STORE_MANAGER and GUIDE of that "
        "store (else FORBIDDEN). Errors: INVALID_PHONE, NOT_FOUND (storeId), PERSON_ERASED.",
    )
    async def customer_walk_in(
        self,
        info: strawberry.Info,
        input: Annotated[CustomerWalkInInput, strawberry.argument(description="The store and her phone.")],
    ) -> CustomerWalkInPayload:
        actor = await info.context.viewer()
        runtime = info.context.runtime

        async def action(session):
            store_id = local_id(input.store_id, "Store")
            person_id = await walk_ins.record_walk_in(
                session, actor, runtime.identity, store_id, input.phone, runtime.clock.now()
            )
            return {"customer": Customer(id=person_id, masked=True, erased=False)}

        return await _as_the_viewer_sees_her(info, await mutate(info, CustomerWalkInPayload, IdentityUserError, action))

    @strawberry.mutation(
        description="Send a sign-in code by SMS: one a minute per phone (TOO_MANY_ATTEMPTS), "
        "and a cap of codes per phone and of requests per client address "
        "(RATE_LIMITED, with retryAfter). The code is six digits, valid 5 minutes. No sign-in needed."
    )
    async def customer_sms_code_request(
        self,
        info: strawberry.Info,
        input: Input[CustomerSmsCodeRequestInput] = None,
        phone: Annotated[str | None, deprecated_argument("Her phone number.")] = None,
    ) -> SmsCodeRequestPayload:
        runtime = info.context.runtime

        async def action(session):
            given = one_input(input, CustomerSmsCodeRequestInput, phone=phone)
            expires_at = await login.request_sms_code(
                session,
                runtime.verifiers,
                runtime.limits,
                info.context.client_address,
                given.phone,
                runtime.clock.now(),
            )
            return {"expires_at": expires_at}

        return await mutate(info, SmsCodeRequestPayload, IdentityUserError, action)


async def _as_the_viewer_sees_her(info: strawberry.Info, payload):
    """The payload's customer opened like a query opens her: masked by the same rules, and an
    unmasked read written to the audit log."""
    if payload.customer is not None:
        payload.customer = await open_customer(info, payload.customer.id, hidden_as_none=True)
    return payload

"""GraphQL types of OneID: the customer 360° view, sources, merges and conflicts; and opening a customer
for a viewer (alias resolution, access rules, masking and the audit log)."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types.nodes import FragmentSpread, InlineFragment

from ....api.cost import Cost
from ....api.enums import described_enum
from ....api.errors import UserError, user_error_type
from ....api.nodes import load_nodes
from ....api.pagination import After, Connection, First, paginate
from ....api.permissions import roles
from ....api.scalars import Money, MoneyAmount
from ....api.viewer import Viewer
from ...catalog.graphql.types import Product
from ...catalog.services import products_by_ids
from ...common.actor import Role as RoleValue
from ...common.errors import Forbidden
from ...common.lookup import rows_by_id
from ...common.rows import saved_id
from ...livestreams.graphql.types import Livestream
from ...livestreams.services import livestreams_by_ids
from ...staff.graphql.types import StaffUser
from ...staff.services import staff_by_ids
from ...stores.graphql.types import Store
from ...stores.services import stores_by_ids
from .. import view
from ..errors import IdentityErrorCode
from ..events import EventType as EventTypeValue
from ..identifiers import IdentifierType as IdentifierTypeValue
from ..identifiers import mask_name, mask_phone
from ..ingestion import Outcome
from ..merges import merges_into
from ..models import CustomerEvent as EventRow
from ..models import IdentityConflict as ConflictRow
from ..models import PersonMerge as MergeRow
from ..models import TouchpointSource as SourceRow
from ..persons import persons_by_ids, root_person
from ..sources import SourceKind as SourceKindValue

# user_error_type builds the class, and the enum of its codes, at run time: mypy knows them by the
# UserError interface and as an Enum.
if TYPE_CHECKING:
    IdentityUserError = UserError
    EventRejection = Enum
else:
    IdentityUserError = user_error_type(
        "Identity",
        IdentityErrorCode,
        {
            IdentityErrorCode.DUPLICATE_NAME: "A touchpoint source with this name exists.",
            IdentityErrorCode.INVALID_IDENTIFIER: "An identifier's value or namespace is malformed (or a namespace is "
            "missing or not taken).",
            IdentityErrorCode.INVALID_PHONE: "Not a valid phone number.",
            IdentityErrorCode.INVALID_EMAIL: "Not an e-mail address.",
            IdentityErrorCode.NO_IDENTIFIERS: "An event without identifiers.",
            IdentityErrorCode.TOO_MANY_IDENTIFIERS: "An event with more than 20 identifiers.",
            IdentityErrorCode.CONFLICTING_IDENTIFIERS: "An event with two different values of a limited identifier "
            "type (WECHAT_UNIONID, APP_USER_ID, POS_MEMBER_ID).",
            IdentityErrorCode.NO_LINKABLE_IDENTIFIER: "Every identifier is a placeholder that never links (e.g. "
            "'unknown', '0').",
            IdentityErrorCode.PROPERTIES_TOO_LARGE: "An event's properties are over 8 KB of JSON.",
            IdentityErrorCode.FUTURE_EVENT: "occurredAt is more than 24 hours in the future.",
            IdentityErrorCode.TOO_MANY_EVENTS: "More than 500 events in one eventsIngest call.",
            IdentityErrorCode.MERGE_ALREADY_UNDONE: "The merge was already split.",
            IdentityErrorCode.SPLIT_BLOCKED_BY_LATER_MERGE: "A later merge was made through identifiers this split "
            "takes away: split that one first.",
            IdentityErrorCode.PERSON_ERASED: "The customer was erased: no personal data is kept.",
            IdentityErrorCode.INVALID_CODE: "A wrong, or already used, SMS or WeChat sign-in code.",
            IdentityErrorCode.CODE_EXPIRED: "No valid SMS code for this phone (expired after 5 minutes, or none sent): "
            "request a new one.",
            IdentityErrorCode.TOO_MANY_ATTEMPTS: "A code was sent less than a minute ago, or too many codes were tried "
            "(retryAfter when waiting helps).",
            IdentityErrorCode.VERIFIER_UNAVAILABLE: "SMS or WeChat sign-in is not configured or did not answer: "
            "try later.",
            IdentityErrorCode.NOT_A_GUIDE: "The staff member is not an active guide.",
            IdentityErrorCode.RATE_LIMITED: "Over a call limit (SMS codes, eventsIngest per source); wait retryAfter "
            "seconds.",
        },
    )
    EventRejection = IdentityUserError.shown_codes  # IdentityErrorCode as the schema shows it
MAX_INTERESTS = 50
MAX_RECOMMENDATIONS = 20
# described_enum documents a domain enum in place (strawberry.enum returns the class): the schema's enums
# are the domain's classes, named here so that annotations read as the schema does.
IdentifierType = IdentifierTypeValue
EventType = EventTypeValue
SourceKind = SourceKindValue
EventStatus = Outcome
described_enum(
    IdentifierType,
    description="Kinds of customer identifiers.",
    values={
        IdentifierTypeValue.PHONE: "A phone number, stored in E.164 (+8613812345678).",
        IdentifierTypeValue.WECHAT_OPENID: "A WeChat openid; namespace is the appId it belongs to.",
        IdentifierTypeValue.WECHAT_UNIONID: "A WeChat unionid, the same across the brand's apps; one per person.",
        IdentifierTypeValue.APP_USER_ID: "The brand app's user id; one per person.",
        IdentifierTypeValue.POS_MEMBER_ID: "The POS membership number; one per person.",
        IdentifierTypeValue.LIVESTREAM_VIEWER_ID: "A livestream platform's viewer id; namespace is the platform.",
        IdentifierTypeValue.EMAIL: "An e-mail address, stored in lower case.",
    },
)
described_enum(
    EventType,
    description="What a customer did at a touchpoint.",
    values={
        EventTypeValue.LIVESTREAM_JOIN: "She joined a livestream (give livestreamId).",
        EventTypeValue.LIVESTREAM_PRODUCT_CLICK: "She clicked a product in a livestream.",
        EventTypeValue.LIVESTREAM_BOOK_CLICK: "She tapped 'book a store visit' in a livestream.",
        EventTypeValue.PRODUCT_VIEW: "She viewed a product.",
        EventTypeValue.CART_ADD: "She added a product to a cart.",
        EventTypeValue.COMMUNITY_JOIN: "She joined a community (e.g. a WeChat group).",
        EventTypeValue.POS_PURCHASE: "She bought in a store; properties.amount is in fen (minor units).",
        EventTypeValue.STORE_VISIT: "She visited a store (a booking check-in records one).",
        EventTypeValue.COUPON_CLAIM: "She claimed a coupon.",
        EventTypeValue.UGC_POST: "She posted about the brand.",
        EventTypeValue.PROFILE_UPDATE: "Her profile traits changed (properties hold them).",
        EventTypeValue.CONSENT_UPDATE: "Her consents changed (marketingSms, wechatMessages, dataProcessing: "
        "true or false).",
        EventTypeValue.CUSTOMER_LOGIN: "She signed in (customerLogin records it).",
    },
)
described_enum(
    SourceKind,
    description="Kinds of touchpoint systems.",
    values={
        SourceKindValue.MINI_PROGRAM: "A WeChat mini-program.",
        SourceKindValue.APP: "The brand's app.",
        SourceKindValue.COMMUNITY: "A community platform (e.g. WeChat groups).",
        SourceKindValue.LIVESTREAM_PLATFORM: "A livestream platform.",
        SourceKindValue.POS: "A store's point of sale.",
        SourceKindValue.OTHER: "Anything else.",
    },
)
described_enum(
    EventStatus,
    name="EventStatus",
    description="What happened to an ingested event.",
    values={
        Outcome.ACCEPTED: "Stored and linked to a customer.",
        Outcome.DUPLICATE: "Its eventId was already received from this source: acknowledged, not stored again.",
        Outcome.REJECTED: "Not stored: code and message say why.",
    },
)


def _mask_value(kind: IdentifierTypeValue, value: str) -> str:
    if kind is IdentifierTypeValue.PHONE:
        return mask_phone(value)
    if kind is IdentifierTypeValue.EMAIL:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    return value[: min(3, len(value) // 3)] + "***"  # never the whole of a short value


@strawberry.type(description="One of a customer's identifiers.")
class CustomerIdentifier:
    type: IdentifierType = strawberry.field(description="What kind of identifier it is.")
    namespace: str = strawberry.field(description="WeChat appId or livestream platform; empty otherwise.")
    value: str = strawberry.field(description="Masked (138****5678) unless you may see it in full.")
    created_at: dt.datetime = strawberry.field(description="When it was first seen.")


@strawberry.type(description="Profile traits; each is the latest value by occurredAt.")
class CustomerTraits:
    name: str | None = strawberry.field(description="Her name, masked unless you may see it.")
    gender: str | None = strawberry.field(description="As given, free text.")
    birthday: str | None = strawberry.field(description="YYYY-MM-DD; null when your view is masked.")
    city: str | None = strawberry.field(description="As given, free text.")
    skin_type: str | None = strawberry.field(description="As given, free text.")
    preferred_categories: list[str] = strawberry.field(description="As given (at most 30).")
    tags: list[str] = strawberry.field(description="Labels staff or systems gave her (at most 30).")
    updated_at: dt.datetime | None = strawberry.field(description="When the latest trait was set; null if none.")


@strawberry.type(description="A consent decision and when it was made.")
class Consent:
    kind: str = strawberry.field(description="marketingSms, wechatMessages or dataProcessing.")
    granted: bool = strawberry.field(description="True when she agreed.")
    updated_at: dt.datetime = strawberry.field(description="When she decided (the event's occurredAt).")


@strawberry.type(description="A product the customer showed interest in, with the reason.")
class ProductInterest:
    product: Product = strawberry.field(description="The product.")
    score: float = strawberry.field(description="Weighted interactions, halving every 14 days.")
    reason: str = strawberry.field(description="Why, in English (her interactions with it).")


@strawberry.type(description="A product to suggest, and why.")
class Recommendation:
    product: Product = strawberry.field(description="The product to suggest.")
    reason: str = strawberry.field(description="Why, in English.")


@strawberry.type(description="An event on a customer's timeline.")
class CustomerEvent:
    id: strawberry.ID = strawberry.field(description="A global id of this event.")
    event_id: str = strawberry.field(description="The sender's eventId.")
    source: str = strawberry.field(description="Who sent it: src:<id> of a touchpoint source, or an internal sender.")
    type: EventType = strawberry.field(description="What she did.")
    occurred_at: dt.datetime = strawberry.field(description="When it happened, by the sender.")
    received_at: dt.datetime = strawberry.field(description="When IRS stored it.")
    properties: JSON | None = strawberry.field(description="Null when your view of the customer is masked.")
    # Loaded for the whole page by Customer.timeline: a node resolves without a coroutine of its own.
    livestream: Livestream | None = strawberry.field(default=None, description="The livestream it names, if any.")
    store: Store | None = strawberry.field(default=None, description="The store it names, if any.")
    product: Product | None = strawberry.field(default=None, description="The product it names, if any.")

    @classmethod
    def from_row(cls, row: Any, masked: bool, links: TimelineLinks) -> CustomerEvent:
        """From a row of view.TIMELINE_COLUMNS."""
        return cls(
            id=strawberry.ID(relay.to_base64("CustomerEvent", row.id)),
            event_id=row.event_key,
            source=row.source,
            type=EventTypeValue(row.type),
            occurred_at=row.occurred_at,
            received_at=row.received_at,
            properties=None if masked else row.properties,
            livestream=links.livestreams.get(row.livestream_id),
            store=links.stores.get(row.store_id),
            product=links.products.get(row.product_id),
        )


@dataclass(frozen=True)
class TimelineLinks:
    """What the events of a timeline page link to, by id (only what the query asks for)."""

    livestreams: dict[int, Livestream]
    stores: dict[int, Store]
    products: dict[int, Product]

    @classmethod
    async def load(cls, info: strawberry.Info, rows: list[Any], asked: set[str]) -> TimelineLinks:
        async def linked(field: str, load, convert, ids) -> dict[int, Any]:
            ids = sorted({i for i in ids if i is not None}) if field in asked else []
            found = await info.context.loader(load).load_many(ids) if ids else []
            return {i: convert(row) for i, row in zip(ids, found, strict=False) if row}

        livestreams, stores, products = await asyncio.gather(
            linked("livestream", livestreams_by_ids, Livestream.from_row, [r.livestream_id for r in rows]),
            linked("store", stores_by_ids, Store.from_row, [r.store_id for r in rows]),
            linked("product", products_by_ids, Product.from_row, [r.product_id for r in rows]),
        )
        return cls(livestreams, stores, products)


def _fields_at(selections: list, path: tuple[str, ...]) -> set[str]:
    """Names of the fields selected at ``path`` below ``selections`` (through fragments)."""
    names: set[str] = set()
    for selection in selections:
        if isinstance(selection, (FragmentSpread, InlineFragment)):
            names |= _fields_at(selection.selections, path)
        elif not path:
            names.add(selection.name)
        elif selection.name == path[0]:
            names |= _fields_at(selection.selections, path[1:])
    return names


async def _display_name(root: Customer, info: strawberry.Info) -> str:
    name = await root.name(info)
    if name:
        return name
    phone = await root.phone(info)
    return phone or f"顾客 {root.id}"


@strawberry.type(description="A customer: one person across every touchpoint (OneID), and her 360° view.")
class Customer(relay.Node, Viewer):
    id: relay.NodeID[int]
    masked: bool = strawberry.field(description="True when phone, name and identifiers are masked for you.")
    erased: bool = strawberry.field(description="True once erased (personErase): no personal data is left.")
    _interest_task: strawberry.Private[asyncio.Future | None] = None
    # Viewer's displayName, resolved: a field with a resolver rather than a method, which mypy refuses in
    # place of a dataclass attribute; as a resolved field it is still no argument of Customer(...).
    display_name: str = strawberry.field(
        resolver=_display_name, description="Name, or phone, or a placeholder; masked unless you may see her."
    )

    @strawberry.field(description="Her name (masked unless you may see her); null if unknown.")
    async def name(self, info: strawberry.Info) -> str | None:
        trait = (await _traits(info, self.id)).get("name")
        if trait is None or not trait.value:
            return None
        return mask_name(trait.value) if self.masked else trait.value

    @strawberry.field(description="Her first phone number, masked unless you may see it.")
    async def phone(self, info: strawberry.Info) -> str | None:
        phones = [i for i in await _identifiers(info, self.id) if i.type == IdentifierTypeValue.PHONE.value]
        if not phones:
            return None
        return mask_phone(phones[0].value) if self.masked else phones[0].value

    @strawberry.field(description="Every identifier OneID linked to her, values masked unless you may see her.")
    async def identifiers(self, info: strawberry.Info) -> list[CustomerIdentifier]:
        return [
            CustomerIdentifier(
                type=IdentifierTypeValue(row.type),
                namespace=row.namespace,
                created_at=row.created_at,
                value=_mask_value(IdentifierTypeValue(row.type), row.value) if self.masked else row.value,
            )
            for row in await _identifiers(info, self.id)
        ]

    @strawberry.field(description="Her profile traits.")
    async def traits(self, info: strawberry.Info) -> CustomerTraits:
        traits = await _traits(info, self.id)

        def value(name: str, default: Any = None) -> Any:
            return traits[name].value if name in traits and traits[name].value is not None else default

        updated = max((t.occurred_at for t in traits.values()), default=None)
        name = value("name")
        return CustomerTraits(
            name=mask_name(name) if name and self.masked else name,
            gender=value("gender"),
            birthday=None if self.masked else value("birthday"),
            city=value("city"),
            skin_type=value("skinType"),
            preferred_categories=value("preferredCategories", []),
            tags=value("tags", []),
            updated_at=updated,
        )

    @strawberry.field(description="Labels staff or systems gave her (traits.tags).")
    async def tags(self, info: strawberry.Info) -> list[str]:
        trait = (await _traits(info, self.id)).get("tags")
        return list(trait.value or []) if trait else []

    @strawberry.field(description="Her consent decisions, one per kind she decided on.")
    async def consents(self, info: strawberry.Info) -> list[Consent]:
        rows = (await _profile(info, self.id)).consents
        return [Consent(kind=r.kind, granted=r.granted, updated_at=r.occurred_at) for r in rows]

    @strawberry.field(description="Her events, newest first (by when they happened).")
    async def timeline(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        types: Annotated[list[EventType] | None, strawberry.argument(description="Only events of these types.")] = None,
    ) -> Connection[CustomerEvent]:
        statement = view.timeline_statement(self.id, types)

        async def whole_history() -> int:  # the summary counts it already
            return (await _summary(info, self.id)).event_count

        page = await paginate(
            info,
            statement,
            lambda row: row,
            first=first,
            after=after,
            newest_by=EventRow.occurred_at,
            total=None if types else whole_history,
        )
        rows = [edge.node for edge in page.edges]
        asked = _fields_at(info.selected_fields, (info.field_name, "edges", "node"))
        links = await TimelineLinks.load(info, rows, asked)
        for edge, row in zip(page.edges, rows, strict=False):
            edge.node = CustomerEvent.from_row(row, self.masked, links)
        return page

    @strawberry.field(description="Livestreams she joined, most recent first.")
    async def livestreams_watched(self, info: strawberry.Info) -> list[Livestream]:
        ids = (await _activity(info, self.id)).livestreams
        rows = await info.context.loader(livestreams_by_ids).load_many(ids)
        return [Livestream.from_row(r) for r in rows if r]

    async def _interests(self, info: strawberry.Info) -> list[view.Interest]:
        """Read once per Customer object: productsOfInterest and recommendations share it."""
        if self._interest_task is None:

            async def read() -> list[view.Interest]:
                async with info.context.db_beside() as session:
                    return await view.interests_of(session, self.id, info.context.runtime.clock.now(), MAX_INTERESTS)

            self._interest_task = asyncio.ensure_future(read())
        return await self._interest_task

    async def _co_purchases(self, info: strawberry.Info, first: int) -> list[tuple[int, int]]:
        async with info.context.db_beside() as session:
            return await view.co_purchases(session, self.id, first)

    @strawberry.field(
        description="Products ranked by her interactions, with recency decay, explained.", directives=[Cost(weight=5)]
    )
    async def products_of_interest(
        self,
        info: strawberry.Info,
        first: Annotated[int, strawberry.argument(description="How many, at most 50 (more is read as 50).")] = 10,
    ) -> list[ProductInterest]:
        interests = (await self._interests(info))[: max(0, min(first, MAX_INTERESTS))]
        rows = await info.context.loader(products_by_ids).load_many([i.product_id for i in interests])
        return [
            ProductInterest(product=Product.from_row(r), score=i.score, reason=i.reason)
            for i, r in zip(interests, rows, strict=False)
            if r
        ]

    @strawberry.field(
        description="Suggestions: her top interests not yet bought, then what similar buyers bought.",
        directives=[Cost(weight=10)],
    )
    async def recommendations(
        self,
        info: strawberry.Info,
        first: Annotated[int, strawberry.argument(description="How many, at most 20 (more is read as 20).")] = 5,
    ) -> list[Recommendation]:
        first = max(0, min(first, MAX_RECOMMENDATIONS))
        interests, peers = await asyncio.gather(self._interests(info), self._co_purchases(info, first))
        picks = view.recommend(interests, peers, first)
        rows = await info.context.loader(products_by_ids).load_many([p for p, _ in picks])
        pairs = zip(picks, rows, strict=True)
        return [Recommendation(product=Product.from_row(r), reason=reason) for (_, reason), r in pairs if r]

    @strawberry.field(description="How many events are on her timeline.")
    async def event_count(self, info: strawberry.Info) -> int:
        return (await _summary(info, self.id)).event_count

    @strawberry.field(description="Her earliest event; null if none.")
    async def first_seen_at(self, info: strawberry.Info) -> dt.datetime | None:
        return (await _summary(info, self.id)).first_seen_at

    @strawberry.field(description="Her latest event; null if none.")
    async def last_seen_at(self, info: strawberry.Info) -> dt.datetime | None:
        return (await _summary(info, self.id)).last_seen_at

    @strawberry.field(description="Her last store visit or in-store purchase.")
    async def last_visit_at(self, info: strawberry.Info) -> dt.datetime | None:
        return (await _summary(info, self.id)).last_visit_at

    @strawberry.field(description="How many in-store purchases (POS_PURCHASE events) she made.")
    async def purchase_count(self, info: strawberry.Info) -> int:
        return (await _summary(info, self.id)).purchase_count

    @strawberry.field(
        description="Sum of her purchases (POS_PURCHASE events' amount), in minor units of the brand's currency.",
    )
    async def lifetime_value(self, info: strawberry.Info) -> Money:
        return Money(
            amount=MoneyAmount((await _summary(info, self.id)).lifetime_value),
            currency=info.context.settings.brand_currency,
        )

    @strawberry.field(description="Her own guide (专属导购), who gets her bookings first.")
    async def relationship_guide(self, info: strawberry.Info) -> StaffUser | None:
        person = await info.context.loader(persons_by_ids).load(self.id)
        if person is None or person.relationship_guide_id is None:
            return None
        row = await info.context.loader(staff_by_ids).load(person.relationship_guide_id)
        return StaffUser.from_row(row) if row else None

    @strawberry.field(
        extensions=roles(RoleValue.HQ_ADMIN), description="Persons merged into her (for personSplit). HQ_ADMIN only."
    )
    async def merges(self, info: strawberry.Info) -> list[PersonMerge]:
        async with info.context.db() as session:
            rows = await merges_into(session, self.id)
        return [PersonMerge.from_row(r) for r in rows]

    @classmethod
    async def resolve_nodes(cls, *, info, node_ids, required=False):
        return [await open_customer(info, int(i) if str(i).isdigit() else -1, hidden_as_none=True) for i in node_ids]


async def _profile(info, person_id: int) -> view.Profile:
    return await info.context.loader(view.profiles_of).load(person_id)


async def _identifiers(info, person_id: int) -> list[view.IdentifierRow]:
    return (await _profile(info, person_id)).identifiers


async def _traits(info, person_id: int) -> dict[str, view.TraitRow]:
    return (await _profile(info, person_id)).traits


async def _activity(info, person_id: int) -> view.Activity:
    return await info.context.loader(view.activities_of).load(person_id)


async def _summary(info, person_id: int) -> view.Summary:
    return (await _activity(info, person_id)).summary


def _customer_ref(person_id: int) -> relay.GlobalID:
    return relay.GlobalID("Customer", str(person_id))


@strawberry.type(description="A merge of one person into another; personSplit undoes it.")
class PersonMerge(relay.Node):
    id: relay.NodeID[int]
    survivor_id: relay.GlobalID = strawberry.field(description="The Customer id that remained.")
    merged_id: relay.GlobalID = strawberry.field(description="Resolves to the survivor while the merge stands.")
    actor: str = strawberry.field(description="Who caused it: a source (src:<id>), staff:<id> or system.")
    created_at: dt.datetime = strawberry.field(description="When the persons were merged.")
    undone_at: dt.datetime | None = strawberry.field(description="When personSplit undid it; null while it stands.")

    @classmethod
    def from_row(cls, row: MergeRow) -> PersonMerge:
        return cls(
            id=saved_id(row),
            survivor_id=_customer_ref(row.survivor_id),
            merged_id=_customer_ref(row.merged_id),
            actor=row.actor,
            created_at=row.created_at,
            undone_at=row.undone_at,
        )

    @classmethod
    async def resolve_nodes(cls, *, info, node_ids, required=False):
        return await load_nodes(
            info,
            lambda session, ids: rows_by_id(session, MergeRow, ids),
            node_ids,
            cls.from_row,
            visible=lambda actor, row: actor.has_role(RoleValue.HQ_ADMIN),
        )


@strawberry.type(description="An event that would have joined persons with different values of a limited type.")
class IdentityConflict(relay.Node):
    id: relay.NodeID[int]
    customer_id: relay.GlobalID = strawberry.field(description="Where the event went.")
    other_customer_ids: list[relay.GlobalID] = strawberry.field(
        description="The customers it was not joined with (they hold other values of the type)."
    )
    identifier_type: IdentifierType = strawberry.field(description="The limited type whose values differed.")
    created_at: dt.datetime = strawberry.field(description="When the event arrived.")
    event_row: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: ConflictRow) -> IdentityConflict:
        return cls(
            id=saved_id(row),
            customer_id=_customer_ref(row.person_id),
            other_customer_ids=[_customer_ref(p) for p in row.other_person_ids],
            identifier_type=IdentifierTypeValue(row.identifier_type),
            created_at=row.created_at,
            event_row=row.event_id,
        )

    @classmethod
    async def resolve_nodes(cls, *, info, node_ids, required=False):
        return await load_nodes(
            info,
            lambda session, ids: rows_by_id(session, ConflictRow, ids),
            node_ids,
            cls.from_row,
            visible=lambda actor, row: actor.has_role(RoleValue.HQ_ADMIN, RoleValue.ANALYST),
        )


@strawberry.type(description="A touchpoint system that sends events with its API key.")
class TouchpointSource(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Unique name.")
    kind: SourceKind = strawberry.field(description="What kind of system it is.")
    key_prefix: str = strawberry.field(description="The key's first characters, to tell keys apart.")
    active: bool = strawberry.field(description="False once disabled: its key is refused.")
    created_at: dt.datetime = strawberry.field(description="When it was registered.")
    key_rotated_at: dt.datetime = strawberry.field(description="When its current key was issued.")

    @classmethod
    def from_row(cls, row: SourceRow) -> TouchpointSource:
        return cls(
            id=saved_id(row),
            name=row.name,
            kind=SourceKindValue(row.kind),
            key_prefix=row.key_prefix,
            active=row.active,
            created_at=row.created_at,
            key_rotated_at=row.key_rotated_at,
        )

    @classmethod
    async def resolve_nodes(cls, *, info, node_ids, required=False):
        return await load_nodes(
            info,
            lambda session, ids: rows_by_id(session, SourceRow, ids),
            node_ids,
            cls.from_row,
            visible=lambda actor, row: actor.has_role(RoleValue.HQ_ADMIN),
        )


@strawberry.type(description="What happened to one ingested event.")
class EventResult:
    event_id: str = strawberry.field(description="The eventId you sent.")
    status: EventStatus = strawberry.field(description="Stored, duplicate or rejected.")
    customer_id: relay.GlobalID | None = strawberry.field(
        description="The Customer it was linked to, when ACCEPTED; else null."
    )
    code: EventRejection | None = strawberry.field(description="Why it was rejected.")
    message: str | None = strawberry.field(description="Why it was rejected, in English.")


async def audit_reads(info: strawberry.Info, customers: list[Customer]) -> None:
    """Staff saw these customers unmasked (a search's page): each read goes to the audit log."""
    actor = await info.context.viewer()
    for customer in customers:
        if not customer.masked:
            await _audit_read(info, actor.key, customer.id)


async def _audit_read(info: strawberry.Info, actor_key: str, person_id: int) -> None:
    """A query records the read in a short transaction of its own, beside the read; a mutation (whose
    own writes are committed by now) in its session: on SQLite a second writer would wait for it."""
    runtime = info.context.runtime
    entry = (actor_key, person_id, runtime.clock.now(), info.context.request_id)
    if info.context.operation_writes:
        async with info.context.db() as session:
            await view.record_unmasked_read(session, *entry)
        return

    async def write() -> None:
        async with runtime.db.writer() as writer:
            await view.record_unmasked_read(writer, *entry)

    info.context.write_beside(write)


async def open_customer(info: strawberry.Info, person_id: int, *, hidden_as_none: bool = False) -> Customer | None:
    """The customer as this viewer may see her; None when unknown.

    A merged id opens the person she was merged into. A viewer who may not see
    her gets FORBIDDEN (or None, for node(id:)). Unmasked reads by staff are
    written to the audit log.
    """
    actor = await info.context.viewer()
    async with info.context.db() as session:
        person = await root_person(session, person_id)
        if person is None:
            return None
        root_id = saved_id(person)
        try:
            access = await view.access_for(session, actor, root_id)
        except Forbidden:
            if hidden_as_none:
                return None
            raise
    if access.audited:
        await _audit_read(info, actor.key, root_id)
    return Customer(id=root_id, masked=access.masked, erased=person.erased_at is not None)

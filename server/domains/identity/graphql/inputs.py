"""GraphQL inputs of OneID."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.scalars import JSON

from ....api.nodes import MalformedGlobalId, local_id
from ..events import RawEvent, RawIdentifier
from .types import EventType, IdentifierType, SourceKind


@strawberry.input(
    description="An identifier as the touchpoint knows it; it is normalised (E.164 phones, lower-case e-mail)."
)
class IdentifierInput:
    type: IdentifierType = strawberry.field(description="What kind of identifier it is.")
    value: str = strawberry.field(
        description="As the touchpoint knows it; placeholders such as 'unknown' or '0' never link."
    )
    namespace: str | None = strawberry.field(
        default=None, description="Required for WECHAT_OPENID (the appId) and LIVESTREAM_VIEWER_ID (the platform)."
    )


@strawberry.input(description="One touchpoint event.")
class EventInput:
    event_id: str = strawberry.field(description="Unique per source: a repeat is acknowledged as DUPLICATE.")
    type: EventType = strawberry.field(description="What she did.")
    occurred_at: dt.datetime = strawberry.field(description="When it happened; at most 24 hours in the future.")
    identifiers: list[IdentifierInput] = strawberry.field(description="1 to 20.")
    livestream_id: strawberry.ID | None = strawberry.field(default=None, description="The Livestream it concerns.")
    store_id: strawberry.ID | None = strawberry.field(default=None, description="The Store it concerns.")
    product_id: strawberry.ID | None = strawberry.field(default=None, description="The Product it concerns.")
    properties: JSON | None = strawberry.field(
        default=None, description="At most 8 KB of JSON; see EventType for what some types carry."
    )

    def to_raw(self) -> RawEvent:
        references, problem = {}, None
        for name, value, type_name in (
            ("livestreamId", self.livestream_id, "Livestream"),
            ("storeId", self.store_id, "Store"),
            ("productId", self.product_id, "Product"),
        ):
            try:
                references[name] = local_id(value, type_name)
            except MalformedGlobalId:  # this event alone is rejected, not the batch
                references[name], problem = None, f"{name} is not a valid global id"
        return RawEvent(
            event_id=self.event_id,
            type=self.type,
            occurred_at=self.occurred_at,
            identifiers=[RawIdentifier(i.type, i.value, i.namespace) for i in self.identifiers],
            livestream_id=references["livestreamId"],
            store_id=references["storeId"],
            product_id=references["productId"],
            unreadable=problem,
            properties=self.properties
            if isinstance(self.properties, dict)
            else ({} if self.properties is None else {"value": self.properties}),
        )


@strawberry.input(description="A new touchpoint system.")
class SourceCreateInput:
    name: str = strawberry.field(description="Unique, 1-64 characters.")
    kind: SourceKind = strawberry.field(description="What kind of system it is.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="1-128 characters: a retry with the same key by you returns the first result and writes nothing.",
    )


@strawberry.input(description="Staff edits of a customer's profile; fields left out stay as they are.")
class CustomerTraitsInput:
    customer_id: strawberry.ID = strawberry.field(description="The Customer; you must see her unmasked.")
    name: str | None = strawberry.field(default=None, description="At most 100 characters.")
    gender: str | None = strawberry.field(default=None, description="At most 100 characters.")
    birthday: str | None = strawberry.field(default=None, description="YYYY-MM-DD")
    city: str | None = strawberry.field(default=None, description="At most 100 characters.")
    skin_type: str | None = strawberry.field(default=None, description="At most 100 characters.")
    preferred_categories: list[str] | None = strawberry.field(
        default=None, description="Replaces them: at most 30, each 1-100 characters."
    )
    tags: list[str] | None = strawberry.field(
        default=None, description="Replaces them: at most 30, each 1-100 characters."
    )

    def properties(self) -> dict:
        values = {
            "name": self.name,
            "gender": self.gender,
            "birthday": self.birthday,
            "city": self.city,
            "skinType": self.skin_type,
            "preferredCategories": self.preferred_categories,
            "tags": self.tags,
        }
        return {k: v for k, v in values.items() if v is not None}


@strawberry.input(description="Sign in with phone + smsCode, or with wechatAppId + wechatCode (from wx.login).")
class CustomerLoginInput:
    phone: str | None = strawberry.field(default=None, description="Her phone, as customerSmsCodeRequest got it.")
    sms_code: str | None = strawberry.field(
        default=None, description="The six-digit code sent by SMS (5 tries, valid 5 minutes)."
    )
    wechat_app_id: str | None = strawberry.field(default=None, description="The mini-program's appId.")
    wechat_code: str | None = strawberry.field(default=None, description="The code wx.login gave (single use).")


@strawberry.input(description="The source to give a new API key.")
class SourceRotateKeyInput:
    id: strawberry.ID = strawberry.field(description="The TouchpointSource.")


@strawberry.input(description="The source to stop.")
class SourceDisableInput:
    id: strawberry.ID = strawberry.field(description="The TouchpointSource.")


@strawberry.input(description="A batch of touchpoint events.")
class EventsIngestInput:
    events: list[EventInput] = strawberry.field(description="At most 500 events.")


@strawberry.input(description="The merge to undo.")
class PersonSplitInput:
    merge_id: strawberry.ID = strawberry.field(description="The PersonMerge (Customer.merges).")


@strawberry.input(description="The customer to erase.")
class PersonEraseInput:
    customer_id: strawberry.ID = strawberry.field(description="The Customer.")


@strawberry.input(description="The customer and her own guide.")
class CustomerRelationshipGuideSetInput:
    customer_id: strawberry.ID = strawberry.field(description="The Customer.")
    guide_id: strawberry.ID | None = strawberry.field(
        default=None, description="An active guide (StaffUser); null clears it."
    )


@strawberry.input(description="Where to send a sign-in code.")
class CustomerSmsCodeRequestInput:
    phone: str = strawberry.field(description="Her phone number (mainland numbers without +86 work).")


@strawberry.input(description="A walk-in: the customer in front of you and her phone number.")
class CustomerWalkInInput:
    store_id: strawberry.ID = strawberry.field(description="Your store (HQ_ADMIN: the store she is in).")
    phone: str = strawberry.field(description="Her phone number (mainland numbers without +86 work).")

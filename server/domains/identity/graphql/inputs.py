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
    type: IdentifierType
    value: str
    namespace: str | None = strawberry.field(
        default=None, description="Required for WECHAT_OPENID (the appId) and LIVESTREAM_VIEWER_ID (the platform)."
    )


@strawberry.input(description="One touchpoint event.")
class EventInput:
    event_id: str = strawberry.field(description="Unique per source: a repeat is acknowledged as DUPLICATE.")
    type: EventType
    occurred_at: dt.datetime
    identifiers: list[IdentifierInput] = strawberry.field(description="1 to 20.")
    livestream_id: strawberry.ID | None = None
    store_id: strawberry.ID | None = None
    product_id: strawberry.ID | None = None
    properties: JSON | None = strawberry.field(default=None, description="At most 8 KB of JSON.")

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


@strawberry.input
class SourceCreateInput:
    name: str
    kind: SourceKind
    idempotency_key: str | None = None


@strawberry.input(description="Staff edits of a customer's profile; fields left out stay as they are.")
class CustomerTraitsInput:
    customer_id: strawberry.ID
    name: str | None = None
    gender: str | None = None
    birthday: str | None = strawberry.field(default=None, description="YYYY-MM-DD")
    city: str | None = None
    skin_type: str | None = None
    preferred_categories: list[str] | None = None
    tags: list[str] | None = None

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
    phone: str | None = None
    sms_code: str | None = None
    wechat_app_id: str | None = None
    wechat_code: str | None = None

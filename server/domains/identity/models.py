"""OneID: persons, their identifiers, touchpoint sources and the event timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ...clock import utcnow
from ...columns import enum_field, json_field, utc_field


class TouchpointSource(SQLModel, table=True):
    """A system that feeds identity events (mini-program, app, community tool, POS …)."""

    __tablename__ = "touchpoint_source"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    kind: str = enum_field()
    key_hash: str = Field(max_length=64, unique=True)
    key_prefix: str = Field(max_length=16, description="first characters of the key, to recognise it")
    active: bool = True
    created_at: datetime = utc_field(default_factory=utcnow)
    key_rotated_at: datetime = utc_field(default_factory=utcnow)


class Person(SQLModel, table=True):
    """One customer. A merged person points at the person she was merged into (an alias)."""

    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = utc_field(default_factory=utcnow)
    merged_into_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    erased_at: datetime | None = utc_field(nullable=True, default=None)
    # Her own guide (专属导购): dispatch gives her bookings to this guide first.
    relationship_guide_id: int | None = Field(default=None, foreign_key="staff_user.id", index=True)


class Identifier(SQLModel, table=True):
    """A (type, namespace, value) that belongs to one person.

    ``person_id`` is the person it belongs to now; ``home_person_id`` the person
    it first belonged to (what a split gives back).
    """

    __tablename__ = "identifier"
    # value leads: it is what lookups are selective on (a batch asks for ~1,000 of them).
    __table_args__ = (sa.UniqueConstraint("value", "type", "namespace"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    home_person_id: int = Field(foreign_key="person.id", index=True)
    type: str = enum_field()
    namespace: str = Field(default="", max_length=64)
    value: str = Field(max_length=128)
    created_at: datetime = utc_field(default_factory=utcnow)


_PURCHASES_ONLY = "type = 'POS_PURCHASE'"


class CustomerEvent(SQLModel, table=True):
    """Something a person did at a touchpoint: the timeline of the 360° view."""

    __tablename__ = "customer_event"
    __table_args__ = (
        # event_key leads: the duplicate check looks up 500 keys of one source at a time.
        sa.UniqueConstraint("event_key", "source"),
        sa.Index("ix_customer_event_person_time", "person_id", "occurred_at", "id"),
        sa.Index("ix_customer_event_product_time", "product_id", "occurred_at"),
        # Purchases only (a few of the events): who bought a product, and what a person bought,
        # without reading her whole timeline or every event of the product (the 360° co-purchases).
        sa.Index(
            "ix_customer_event_purchase_product",
            "product_id",
            "person_id",
            postgresql_where=sa.text(_PURCHASES_ONLY),
            sqlite_where=sa.text(_PURCHASES_ONLY),
        ),
        sa.Index(
            "ix_customer_event_purchase_person",
            "person_id",
            "product_id",
            postgresql_where=sa.text(_PURCHASES_ONLY),
            sqlite_where=sa.text(_PURCHASES_ONLY),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=64, description="src:<id> for a touchpoint, or a domain name")
    event_key: str = Field(max_length=64, description="the sender's eventId")
    type: str = enum_field()
    occurred_at: datetime = utc_field()
    received_at: datetime = utc_field(default_factory=utcnow)
    # Few indexes and no foreign keys on purpose: this append-only timeline takes thousands of rows
    # a second, and PostgreSQL checks a foreign key with a trigger per row (they cost a quarter of
    # the ingest time). The ingest checks the references itself; persons are never deleted (an
    # erased person stays as a pseudonym), nor are stores, products or livestreams.
    # Reads go through the person's index (timeline, split, store relationship) or product/time.
    person_id: int
    home_person_id: int
    livestream_id: int | None = None
    store_id: int | None = None
    product_id: int | None = None
    properties: dict[str, Any] = json_field(default_factory=dict)


class PersonMerge(SQLModel, table=True):
    """Who was merged into whom, when, and by which event; undone by a split."""

    __tablename__ = "person_merge"

    id: int | None = Field(default=None, primary_key=True)
    survivor_id: int = Field(foreign_key="person.id", index=True)
    merged_id: int = Field(foreign_key="person.id", index=True)
    event_id: int | None = Field(default=None, foreign_key="customer_event.id")
    actor: str = Field(max_length=64)
    # Home persons of the survivor-side identifiers the event matched: a later
    # split of one of them may take this merge's reason away.
    via_home_ids: list[int] = json_field()
    created_at: datetime = utc_field(default_factory=utcnow)
    undone_at: datetime | None = utc_field(nullable=True, default=None)
    undone_by: str | None = Field(default=None, max_length=64)


class IdentityConflict(SQLModel, table=True):
    """An event that would have joined persons holding different values of a limited type."""

    __tablename__ = "identity_conflict"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="customer_event.id", index=True)
    person_id: int = Field(foreign_key="person.id", description="the person the event went to")
    other_person_ids: list[int] = json_field()
    identifier_type: str = enum_field()
    created_at: datetime = utc_field(default_factory=utcnow)
    resolved_at: datetime | None = utc_field(nullable=True, default=None)


class PersonTrait(SQLModel, table=True):
    """The latest value of one trait (by occurredAt), projected from PROFILE_UPDATE events."""

    __tablename__ = "person_trait"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    name: str = Field(primary_key=True, max_length=32)
    value: Any = Field(sa_type=sa.JSON, nullable=True)
    occurred_at: datetime = utc_field()


class PersonConsent(SQLModel, table=True):
    """The latest consent decision per kind, projected from CONSENT_UPDATE events."""

    __tablename__ = "person_consent"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    kind: str = Field(primary_key=True, max_length=32)
    granted: bool
    occurred_at: datetime = utc_field()


class SmsCode(SQLModel, table=True):
    """A one-time sign-in code sent by SMS, kept only as a hash."""

    __tablename__ = "sms_code"

    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(max_length=20, index=True)
    code_hash: str = Field(max_length=64)
    attempts: int = 0
    created_at: datetime = utc_field(default_factory=utcnow)
    expires_at: datetime = utc_field()
    used_at: datetime | None = utc_field(nullable=True, default=None)


class SmsThrottle(SQLModel, table=True):
    """When a code was last sent to a phone: one a minute, enforced by a conditional update."""

    __tablename__ = "sms_throttle"

    phone: str = Field(primary_key=True, max_length=20)
    last_sent_at: datetime = utc_field()


class ErasureTombstone(SQLModel, table=True):
    """A salted hash of an erased identifier: older replayed events must not link it again."""

    __tablename__ = "erasure_tombstone"

    digest: str = Field(primary_key=True, max_length=64)
    erased_at: datetime = utc_field()

"""Shorthand for identity tests: events from identifier strings like "phone:13812345678"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from server.domains.identity.events import EventType, RawEvent, RawIdentifier
from server.domains.identity.identifiers import IdentifierType
from server.domains.identity.ingestion import ingest
from server.domains.identity.policy import IdentityPolicy

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
POLICY = IdentityPolicy(tombstone_salt=b"test-salt")
TYPES = {
    "phone": IdentifierType.PHONE,
    "openid": IdentifierType.WECHAT_OPENID,
    "unionid": IdentifierType.WECHAT_UNIONID,
    "app": IdentifierType.APP_USER_ID,
    "pos": IdentifierType.POS_MEMBER_ID,
    "viewer": IdentifierType.LIVESTREAM_VIEWER_ID,
    "email": IdentifierType.EMAIL,
}
NAMESPACED = {"openid": "wx-app-1", "viewer": "douyin"}


def ident(text: str) -> RawIdentifier:
    kind, _, value = text.partition(":")
    return RawIdentifier(TYPES[kind], value, NAMESPACED.get(kind))


def event(
    event_id: str, *identifiers: str, kind: EventType = EventType.PRODUCT_VIEW, minutes: int = 0, **fields
) -> RawEvent:
    return RawEvent(
        event_id=event_id,
        type=kind,
        occurred_at=T0 + timedelta(minutes=minutes),
        identifiers=[ident(i) for i in identifiers],
        **fields,
    )


async def send(db, *events: RawEvent, source: str = "src:test", now: datetime | None = None):
    async with db.writer() as session:
        return await ingest(session, POLICY, source, list(events), now or T0 + timedelta(hours=1))


async def grouping(db) -> set[frozenset[str]]:
    """Identifiers grouped by the person holding them: the observable result of resolution."""
    async with db.engine.connect() as connection:
        rows = (await connection.execute(sa.text("SELECT person_id, type, namespace, value FROM identifier"))).all()
    groups: dict[int, set[str]] = {}
    for person_id, kind, namespace, value in rows:
        groups.setdefault(person_id, set()).add(f"{kind}:{namespace}:{value}")
    return {frozenset(g) for g in groups.values()}


async def scalar(db, sql: str, **params):
    async with db.engine.connect() as connection:
        return (await connection.execute(sa.text(sql), params)).scalar()

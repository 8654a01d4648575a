"""Queueing messages to customers in a transaction, and sending them afterwards (a scheduler job)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...db import claim
from ...unit_of_work import use_case
from ..common.dialect import insert_ignore
from ..common.rows import table_of
from ..identity.identifiers import IdentifierType
from ..identity.models import Identifier
from .channels import ChannelUnavailable, MessageChannel, Recipient, Rendered
from .models import OutboundMessage

MAX_ATTEMPTS = 5
SEND_BATCH = 100


class MessageKind(StrEnum):
    BOOKING_REMINDER = "BOOKING_REMINDER"
    ORDER_READY_FOR_PICKUP = "ORDER_READY_FOR_PICKUP"
    SHARE_INVITATION = "SHARE_INVITATION"


class MessageStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"  # no channel reaches her


async def queue(
    session: AsyncSession, person_id: int, kind: MessageKind, dedupe_key: str, params: dict[str, Any], now: datetime
) -> None:
    """In the caller's transaction; a second message with the same key is not queued."""
    await session.exec(
        insert_ignore(
            session,
            OutboundMessage,
            {
                "person_id": person_id,
                "kind": kind.value,
                "dedupe_key": dedupe_key,
                "params": params,
                "status": MessageStatus.PENDING.value,
                "attempts": 0,
                "created_at": now,
            },
        )
    )


async def withdraw(session: AsyncSession, dedupe_key: str) -> None:
    """In the caller's transaction: the message with this key is dropped if it has not gone yet (no
    longer true: the booking moved or was cancelled). Its key is free again: moved back, she is
    reminded of that time."""
    table = table_of(OutboundMessage)
    await session.exec(
        sa.delete(table).where(table.c.dedupe_key == dedupe_key, table.c.status == MessageStatus.PENDING.value)
    )


def render(message: OutboundMessage) -> Rendered:
    if message.kind == MessageKind.ORDER_READY_FOR_PICKUP.value:
        return _render_pickup(message.params)
    if message.kind == MessageKind.SHARE_INVITATION.value:
        return _render_share_invitation(message.params)
    params = message.params
    local = datetime.fromisoformat(params["slotStart"]).astimezone(ZoneInfo(params["timezone"]))
    when = local.strftime("%m月%d日 %H:%M")
    return Rendered(
        text=f"【{params['brand']}】您预约的 {params['storeName']} 到店体验将于 {when} 开始，导购已在等您。",
        fields={
            "thing1": params["storeName"][:20],
            "time2": local.strftime("%Y-%m-%d %H:%M"),
            "thing3": "导购已为您准备好直播同款",
        },
        page=f"pages/booking/detail?id={params['bookingId']}",
    )


def _render_pickup(params: dict[str, Any]) -> Rendered:
    return Rendered(
        text=f"【{params['brand']}】您的订单 {params['orderId']} 已可到店自提，取货码 {params['pickupCode']}。",
        fields={
            "character_string1": str(params["orderId"]),
            "thing2": "已备货，可到店自提",
            "number3": str(params["pickupCode"]),
        },
        page=f"pages/order/detail?id={params['orderId']}",
    )


def _render_share_invitation(params: dict[str, Any]) -> Rendered:
    return Rendered(
        text=f"【{params['brand']}】感谢您光临 {params['storeName']}！欢迎分享您的到店体验，好友通过您的链接"
        f"首次购买，您将获得奖励：{params['shareUrl']}",
        fields={"thing1": params["storeName"][:20], "thing2": "分享到店体验，邀请好友得奖励"},
        page=f"pages/share/new?booking={params['bookingId']}",
    )


async def recipient_of(session: AsyncSession, person_id: int) -> Recipient:
    rows = await session.exec(
        select(Identifier.type, Identifier.namespace, Identifier.value).where(Identifier.person_id == person_id)
    )
    openids, phone = {}, None
    for kind, namespace, value in rows:
        if kind == IdentifierType.WECHAT_OPENID.value:
            openids[namespace] = value
        elif kind == IdentifierType.PHONE.value:
            phone = value
    return Recipient(openids=openids, phone=phone)


@use_case
async def send_pending(session: AsyncSession, channels: Sequence[MessageChannel], now: datetime) -> int:
    """Send one batch through the first channel that reaches each customer. Returns how many."""
    statement = (
        select(OutboundMessage)
        .where(OutboundMessage.status == MessageStatus.PENDING.value)
        .order_by(col(OutboundMessage.id))
        .limit(SEND_BATCH)
    )
    messages = list((await session.exec(claim(statement, session))).all())
    for message in messages:
        await _send_one(session, message, channels, now)
    return len(messages)


async def _send_one(session: AsyncSession, message: OutboundMessage, channels, now: datetime) -> None:
    recipient = await recipient_of(session, message.person_id)
    channel = next((c for c in channels if c.reaches(recipient)), None)
    if channel is None:
        message.status = MessageStatus.SKIPPED.value
        return
    message.attempts += 1
    try:
        await channel.send(recipient, render(message))
    except ChannelUnavailable as error:
        message.last_error = str(error)[:200]
        if message.attempts >= MAX_ATTEMPTS:
            message.status = MessageStatus.FAILED.value
        return
    message.status, message.channel, message.sent_at = MessageStatus.SENT.value, channel.name, now

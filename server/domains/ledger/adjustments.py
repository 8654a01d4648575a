"""Adjustments: HQ corrects what a beneficiary was credited for an order, in an open period, by hand."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from ...outbox import emit
from ...unit_of_work import use_case
from ..common.actor import Actor, Role
from ..common.errors import CommonErrorCode as Common
from ..common.idempotency import create_once
from ..common.validation import Validator, is_row_id
from ..identity.models import Person
from ..staff.models import StaffUser, Team
from ..stores.models import Store
from . import standings
from .errors import LedgerErrorCode as Code
from .models import EntryKind, LedgerEntry, OrderAttribution, Participant
from .periods import period_of, posting_period, window_of
from .topics import LEDGER_TOPIC

ADJUST_KEY_SCOPE = "ledgerAdjust"
MAX_ADJUSTMENT = 10**10  # fen, either way
BENEFICIARY_ROWS: dict[Participant, Any] = {
    Participant.GUIDE: StaffUser,
    Participant.LIVESTREAM_TEAM: Team,
    Participant.STORE: Store,
    Participant.REFERRER: Person,
}


@dataclass(frozen=True)
class AdjustmentDraft:
    beneficiary_kind: Participant
    beneficiary_id: int
    order_id: int
    commission: int
    revenue: int
    note: str
    period: str | None = None  # the month to post in; None: the current one


async def _check(session: AsyncSession, draft: AdjustmentDraft, now: datetime, zone: ZoneInfo) -> Validator:
    check = Validator()
    check.text(("note",), draft.note, max_length=200)
    check.number_range(("commission",), draft.commission, -MAX_ADJUSTMENT, MAX_ADJUSTMENT)
    check.number_range(("revenue",), draft.revenue, -MAX_ADJUSTMENT, MAX_ADJUSTMENT)
    if draft.commission == 0 and draft.revenue == 0:
        check.add(Common.INVALID_VALUE, "an adjustment changes the commission or the revenue", ("commission",))
    model = BENEFICIARY_ROWS[draft.beneficiary_kind]
    if not is_row_id(draft.beneficiary_id) or await session.get(model, draft.beneficiary_id) is None:
        check.add(Common.NOT_FOUND, "no such beneficiary", ("beneficiaryId",))
    if not is_row_id(draft.order_id) or await session.get(OrderAttribution, draft.order_id) is None:
        check.add(Code.ORDER_NOT_CREDITED, "the ledger has not credited this order", ("orderId",))
    if draft.period is not None:
        window = window_of(draft.period, zone, ("period",))
        if not window.is_month or window.name > period_of(now, zone):
            check.add(Code.INVALID_PERIOD, "a month that has begun, YYYY-MM", ("period",))
    return check


@use_case
async def adjust(
    session: AsyncSession,
    actor: Actor,
    draft: AdjustmentDraft,
    now: datetime,
    zone: ZoneInfo,
    idempotency_key: str | None = None,
) -> LedgerEntry:
    """An ADJUSTMENT entry (HQ_ADMIN) for a credited order, posted in an open period; a closed one is
    refused (PERIOD_CLOSED): closed periods never change."""
    actor.require_role(Role.HQ_ADMIN)

    async def create() -> LedgerEntry:
        check = await _check(session, draft, now, zone)
        check.raise_if_any()
        attribution = await session.get(OrderAttribution, draft.order_id)
        assert attribution is not None  # checked above
        at = now if draft.period is None else window_of(draft.period, zone).start
        period = await posting_period(session, at, now, zone)
        if draft.period is not None and period != draft.period:
            check.add(Code.PERIOD_CLOSED, f"{draft.period} is closed: it never changes", ("period",))
            check.raise_if_any()
        entry = _entry(draft, attribution, period, actor, now)
        session.add(entry)
        await session.flush()
        await standings.record(session, [entry.model_dump()], zone)
        emit(session, LEDGER_TOPIC, EntryKind.ADJUSTMENT.value, _announcement(entry), now)
        return entry

    return await create_once(
        session,
        actor=actor.key,
        scope=ADJUST_KEY_SCOPE,
        key=idempotency_key,
        payload={**asdict(draft), "beneficiary_kind": draft.beneficiary_kind.value},
        create=create,
        model=LedgerEntry,
    )


def _entry(
    draft: AdjustmentDraft,
    attribution: OrderAttribution,
    period: str,
    actor: Actor,
    now: datetime,
) -> LedgerEntry:
    return LedgerEntry(
        beneficiary_kind=draft.beneficiary_kind.value,
        beneficiary_id=draft.beneficiary_id,
        order_id=draft.order_id,
        line_id=None,
        kind=EntryKind.ADJUSTMENT.value,
        revenue=draft.revenue,
        commission=draft.commission,
        period=period,
        event_key=f"adjust:{secrets.token_hex(12)}",
        store_id=attribution.store_id,
        livestream_id=attribution.livestream_id,
        note=f"{draft.note.strip()} ({actor.key})"[:200],
        occurred_at=now,
        created_at=now,
    )


def _announcement(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "orderId": entry.order_id,
        "storeId": entry.store_id,
        "livestreamId": entry.livestream_id,
        "period": entry.period,
        "beneficiaries": [
            {
                "kind": entry.beneficiary_kind,
                "id": entry.beneficiary_id,
                "revenue": entry.revenue,
                "commission": entry.commission,
            }
        ],
    }

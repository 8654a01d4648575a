"""One livestream's live figures, read through the other domains' services in a few aggregate statements."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from ..bookings.tallies import (
    BookingTally,
    livestream_booking_ids,
    livestream_booking_tally,
    livestream_bookings_by_store,
    livestream_bookings_per_minute,
)
from ..ledger.models import Participant
from ..ledger.services import credit_by_beneficiary_kind, top_guides
from ..livestreams.services import livestreams_by_ids
from ..orders.tallies import SalesTally, sales_of_bookings
from ..staff.services import staff_by_ids
from ..stores.services import stores_by_ids

TOP_STORES = 10
TOP_GUIDES = 10
MAX_CITIES = 50
TIMELINE = timedelta(minutes=60)


@dataclass(frozen=True)
class StoreBookings:
    store_id: int
    name: str
    city: str
    bookings: int


@dataclass(frozen=True)
class CityBookings:
    city: str
    bookings: int


@dataclass(frozen=True)
class MinuteBookings:
    minute: datetime
    bookings: int


@dataclass(frozen=True)
class GuideCredit:
    staff_id: int
    name: str
    revenue: int  # fen credited, net of reversals
    commission: int  # fen


@dataclass(frozen=True)
class BeneficiaryCredit:
    kind: Participant
    revenue: int  # fen credited, net of reversals
    commission: int  # fen


@dataclass(frozen=True)
class LiveFigures:
    """What one livestream's dashboard shows, as of ``at``."""

    livestream_id: int
    at: datetime
    bookings: BookingTally
    by_city: list[CityBookings]  # most bookings first, at most MAX_CITIES
    top_stores: list[StoreBookings]  # most bookings first, at most TOP_STORES
    per_minute: list[MinuteBookings]  # the last TIMELINE, oldest first, empty minutes left out
    sales: SalesTally
    top_guides: list[GuideCredit]  # most credited revenue first, at most TOP_GUIDES
    credit_by_kind: list[BeneficiaryCredit]  # every kind of beneficiary, in Participant order

    @property
    def arrival_rate(self) -> float | None:
        """Checked in / booked; None before the first booking."""
        return _ratio(self.bookings.checked_in, self.bookings.booked)

    @property
    def purchase_rate(self) -> float | None:
        """Paying visits / check-ins; None before the first check-in."""
        return _ratio(self.sales.paying_visits, self.bookings.checked_in)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


async def livestream_exists(session: AsyncSession, livestream_id: int) -> bool:
    return livestream_id in await livestreams_by_ids(session, [livestream_id])


async def livestream_figures(session: AsyncSession, livestream_id: int, now: datetime) -> LiveFigures:
    """Eight statements whatever the livestream's size: bookings (tallies, by store, per minute), the stores,
    sales, the ledger (by kind of beneficiary, top guides) and the guides' names."""
    by_store = await livestream_bookings_by_store(session, livestream_id)
    stores = await _ranked_stores(session, by_store)
    return LiveFigures(
        livestream_id=livestream_id,
        at=now,
        bookings=await livestream_booking_tally(session, livestream_id),
        by_city=_by_city(stores),
        top_stores=stores[:TOP_STORES],
        per_minute=[
            MinuteBookings(minute, count)
            for minute, count in await livestream_bookings_per_minute(session, livestream_id, now - TIMELINE)
        ],
        sales=await sales_of_bookings(session, livestream_booking_ids(livestream_id)),
        top_guides=await _top_guides(session, livestream_id),
        credit_by_kind=await _credit_by_kind(session, livestream_id),
    )


async def _top_guides(session: AsyncSession, livestream_id: int) -> list[GuideCredit]:
    ranked = await top_guides(session, livestream_id, TOP_GUIDES)
    staff = await staff_by_ids(session, [staff_id for staff_id, _, _ in ranked]) if ranked else {}
    return [
        GuideCredit(staff_id, staff[staff_id].display_name if staff_id in staff else "", revenue, commission)
        for staff_id, revenue, commission in ranked
    ]


async def _credit_by_kind(session: AsyncSession, livestream_id: int) -> list[BeneficiaryCredit]:
    credited = await credit_by_beneficiary_kind(session, livestream_id)
    return [BeneficiaryCredit(kind, *credited.get(kind.value, (0, 0))) for kind in Participant]


async def _ranked_stores(session: AsyncSession, by_store: dict[int, int]) -> list[StoreBookings]:
    """Every store with bookings, most first (ties by store id)."""
    rows = await stores_by_ids(session, list(by_store))
    ranked = sorted(by_store.items(), key=lambda item: (-item[1], item[0]))
    return [StoreBookings(i, rows[i].name, rows[i].city, count) for i, count in ranked if i in rows]


def _by_city(stores: list[StoreBookings]) -> list[CityBookings]:
    totals: Counter[str] = Counter()
    for store in stores:
        totals[store.city] += store.bookings
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return [CityBookings(city, count) for city, count in ranked[:MAX_CITIES]]

"""What liveDashboard streams: one livestream's figures, as plain values (no per-subscriber loading)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from ....api.scalars import Money, MoneyAmount
from ...ledger.graphql.types import Participant
from ..boards import Snapshot
from ..services import BeneficiaryCredit, CityBookings, GuideCredit, LiveFigures, MinuteBookings, StoreBookings


def _money(amount: int, currency: str) -> Money:
    return Money(amount=MoneyAmount(amount), currency=currency)


@strawberry.type(description="Bookings of one city's stores.")
class CityBookingCount:
    city: str = strawberry.field(description="The stores' city, e.g. 上海.")
    bookings: int = strawberry.field(description="Bookings not cancelled.")

    @classmethod
    def of(cls, row: CityBookings) -> CityBookingCount:
        return cls(city=row.city, bookings=row.bookings)


@strawberry.type(description="Bookings of one store.")
class StoreBookingCount:
    store_id: strawberry.ID = strawberry.field(description="The Store.")
    name: str = strawberry.field(description="The store's name.")
    city: str = strawberry.field(description="The store's city.")
    bookings: int = strawberry.field(description="Bookings not cancelled.")

    @classmethod
    def of(cls, row: StoreBookings) -> StoreBookingCount:
        store_id = strawberry.ID(str(relay.GlobalID("Store", str(row.store_id))))
        return cls(store_id=store_id, name=row.name, city=row.city, bookings=row.bookings)


@strawberry.type(description="Bookings made in one minute.")
class MinuteBookingCount:
    minute: datetime = strawberry.field(description="The minute's start (UTC).")
    bookings: int = strawberry.field(description="Bookings made in it (cancelled ones too).")

    @classmethod
    def of(cls, row: MinuteBookings) -> MinuteBookingCount:
        return cls(minute=row.minute, bookings=row.bookings)


@strawberry.type(description="What the livestream's sales credited one guide in the commission ledger.")
class GuideCreditFigure:
    staff_id: strawberry.ID = strawberry.field(description="The StaffUser.")
    name: str = strawberry.field(description="Her display name.")
    revenue: Money = strawberry.field(description="Sales revenue credited to her, net of refunds.")
    commission: Money = strawberry.field(description="Her commission on it, net of refunds.")

    @classmethod
    def of(cls, row: GuideCredit, currency: str) -> GuideCreditFigure:
        return cls(
            staff_id=strawberry.ID(str(relay.GlobalID("StaffUser", str(row.staff_id)))),
            name=row.name,
            revenue=_money(row.revenue, currency),
            commission=_money(row.commission, currency),
        )


@strawberry.type(description="What the livestream's sales credited one kind of beneficiary in the commission ledger.")
class BeneficiaryCreditFigure:
    kind: Participant = strawberry.field(description="The kind of beneficiary.")
    revenue: Money = strawberry.field(description="Sales revenue credited, net of refunds.")
    commission: Money = strawberry.field(description="Commission on it, net of refunds.")

    @classmethod
    def of(cls, row: BeneficiaryCredit, currency: str) -> BeneficiaryCreditFigure:
        return cls(kind=row.kind, revenue=_money(row.revenue, currency), commission=_money(row.commission, currency))


@strawberry.type(
    description="One livestream's live figures. Bookings are those made from the livestream; orders are the paid "
    "orders of their visits."
)
class LiveDashboard:
    livestream_id: strawberry.ID = strawberry.field(description="The Livestream.")
    sequence: int = strawberry.field(
        description="1, 2, … per server process: a client that sees a smaller one after a larger one reconnected "
        "to another replica."
    )
    at: datetime = strawberry.field(description="When the figures were read: they include everything committed then.")
    bookings: int = strawberry.field(description="Bookings made from the livestream, cancelled ones left out.")
    cancelled: int = strawberry.field(description="Bookings cancelled.")
    checked_in: int = strawberry.field(description="Bookings whose customer checked in at the store.")
    no_shows: int = strawberry.field(description="Bookings whose customer did not come.")
    bookings_by_city: list[CityBookingCount] = strawberry.field(
        description="Bookings by city, most first (50 at most)."
    )
    top_stores: list[StoreBookingCount] = strawberry.field(description="The 10 stores with the most bookings.")
    bookings_per_minute: list[MinuteBookingCount] = strawberry.field(
        description="Bookings made in each minute of the last hour, oldest first; minutes without any left out."
    )
    paid_orders: int = strawberry.field(description="Paid orders tied to the livestream's bookings.")
    gmv: Money = strawberry.field(description="The paid orders' totals, refunds not taken off.")
    refunded: Money = strawberry.field(description="What was refunded of those orders.")
    paying_visits: int = strawberry.field(description="Bookings with at least one paid order.")
    arrival_rate: float | None = strawberry.field(description="checkedIn / bookings; null before the first booking.")
    purchase_rate: float | None = strawberry.field(
        description="payingVisits / checkedIn; null before the first check-in."
    )
    top_guides: list[GuideCreditFigure] = strawberry.field(
        description="The 10 guides the livestream's sales credited most revenue (commission ledger)."
    )
    commission_by_beneficiary: list[BeneficiaryCreditFigure] = strawberry.field(
        description="Revenue and commission the livestream's sales credited, by kind of beneficiary (every kind)."
    )

    @classmethod
    def of(cls, snapshot: Snapshot, currency: str) -> LiveDashboard:
        figures: LiveFigures = snapshot.figures
        return cls(
            livestream_id=strawberry.ID(str(relay.GlobalID("Livestream", str(figures.livestream_id)))),
            sequence=snapshot.sequence,
            at=figures.at,
            bookings=figures.bookings.booked,
            cancelled=figures.bookings.cancelled,
            checked_in=figures.bookings.checked_in,
            no_shows=figures.bookings.no_shows,
            bookings_by_city=[CityBookingCount.of(row) for row in figures.by_city],
            top_stores=[StoreBookingCount.of(row) for row in figures.top_stores],
            bookings_per_minute=[MinuteBookingCount.of(row) for row in figures.per_minute],
            paid_orders=figures.sales.paid_orders,
            gmv=_money(figures.sales.gmv, currency),
            refunded=_money(figures.sales.refunded, currency),
            paying_visits=figures.sales.paying_visits,
            arrival_rate=figures.arrival_rate,
            purchase_rate=figures.purchase_rate,
            top_guides=[GuideCreditFigure.of(row, currency) for row in figures.top_guides],
            commission_by_beneficiary=[BeneficiaryCreditFigure.of(row, currency) for row in figures.credit_by_kind],
        )

"""Sales of a set of bookings' visits, for live dashboards: one aggregate statement."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from .models import OrderStatus, SalesOrder


@dataclass(frozen=True)
class SalesTally:
    paid_orders: int
    gmv: int  # fen: the paid orders' totals, refunds not taken off
    refunded: int  # fen refunded of those orders
    paying_visits: int  # bookings with at least one paid order


async def sales_of_bookings(session: AsyncSession, booking_ids: SelectOfScalar[int | None]) -> SalesTally:
    """What the paid orders tied to ``booking_ids`` (a subquery) came to."""
    statement = select(
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(col(SalesOrder.total)), 0),
        sa.func.coalesce(sa.func.sum(col(SalesOrder.refunded_amount)), 0),
        sa.func.count(sa.distinct(col(SalesOrder.booking_id))),
    ).where(col(SalesOrder.status) == OrderStatus.PAID.value, col(SalesOrder.booking_id).in_(booking_ids))
    paid, gmv, refunded, visits = (await session.exec(statement)).one()
    return SalesTally(int(paid), int(gmv), int(refunded), int(visits))

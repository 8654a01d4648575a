"""Order lists for the API: a store's, a customer's."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.sql.expression import SelectOfScalar

from .models import OrderStatus, SalesOrder


def store_orders(store_id: int, status: OrderStatus | None = None) -> SelectOfScalar[SalesOrder]:
    statement = select(SalesOrder).where(SalesOrder.store_id == store_id)
    if status is not None:
        statement = statement.where(SalesOrder.status == status.value)
    return statement


def customer_orders(person_id: int) -> SelectOfScalar[SalesOrder]:
    return select(SalesOrder).where(SalesOrder.person_id == person_id)

"""Two replicas' ledger consumers racing over the same outbox credit each event exactly once."""

from __future__ import annotations

import asyncio

from server.app import ledger_consumer
from server.domains.ledger.models import LedgerEntry, LedgerStanding, OrderAttribution
from server.outbox import OutboxReceipt, emit
from tests.conftest import make_settings
from tests.server.assertions import fetch
from tests.server.bookings.helpers import customer
from tests.server.orders.conftest import stock

from .helpers import drain, sell, standard_plans

SALES = 12


async def test_two_consumers_racing_credit_each_paid_order_once(api, db, world, clock, token_for, tmp_root):
    await standard_plans(api, token_for, clock)
    await stock(db, world, SALES)
    _, buyer = await customer(api, "13900000005")
    for _ in range(SALES):
        await sell(api, world, token_for, buyer, 1)
    settings = make_settings(db.engine.url.render_as_string(hide_password=False), tmp_root)
    replicas = [ledger_consumer(db, clock, settings) for _ in range(2)]
    handled = await asyncio.gather(*(replica.drain() for replica in replicas))
    assert sum(handled) == SALES
    assert len(await fetch(db, OrderAttribution)) == SALES
    assert len(await fetch(db, OutboxReceipt)) == SALES
    entries = await fetch(db, LedgerEntry)
    assert len(entries) == SALES and sum(e.revenue for e in entries) == SALES * 89000
    stores = [row for row in await fetch(db, LedgerStanding) if row.board == "STORE" and len(row.period) == 7]
    assert [(row.revenue, row.orders) for row in stores] == [(SALES * 89000, SALES)]  # both added, none twice
    assert await asyncio.gather(*(replica.drain() for replica in replicas)) == [0, 0]


async def test_a_message_the_ledger_cannot_handle_stays_pending_and_holds_up_nothing(api, db, world, clock, token_for):
    await standard_plans(api, token_for, clock)
    await stock(db, world, 1)
    async with db.writer() as session:  # a PAID event that names no order (a bug upstream, say)
        emit(session, "orders.all", "PAID", {"orderTotal": 1}, clock.now())
        await session.commit()
    _, buyer = await customer(api, "13900000005")
    await sell(api, world, token_for, buyer, 1)
    assert await drain(api) == 1
    assert len(await fetch(db, OrderAttribution)) == 1
    assert len(await fetch(db, OutboxReceipt)) == 1  # the bad one has none: it is tried again, and logged

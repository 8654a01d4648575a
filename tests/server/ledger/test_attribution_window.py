"""Last touch within the window, for many orders credited in one batch (the consumer reads their journeys
ahead, a statement per kind) and without the read-ahead: the same journeys either way."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.app import ledger_consumer
from server.domains.identity.events import EventType, RawEvent
from tests.conftest import make_settings
from tests.server.bookings.helpers import customer
from tests.server.coupons.helpers import add_livestream
from tests.server.identity.helpers import ident, send
from tests.server.orders.conftest import stock
from tests.world import gid

from .helpers import ATTRIBUTION, drain, later, sell, standard_plans

JOIN, CLICK = EventType.LIVESTREAM_JOIN, EventType.LIVESTREAM_PRODUCT_CLICK


def touch(clock, phone: str, kind: EventType, livestream_id: int, days_ago: float) -> RawEvent:
    at = clock.now() - timedelta(days=days_ago)
    return RawEvent(f"{phone}-{kind.value}-{days_ago}", kind, at, [ident(f"phone:{phone}")], livestream_id)


async def journeys(api, db, world, clock, token_for) -> dict[str, tuple[str | None, list[str]]]:
    """Four customers who watched differently buy; returns each one's (livestream credited, touch types)."""
    await standard_plans(api, token_for, clock)
    await stock(db, world, 10)
    autumn = await add_livestream(db, world, clock)
    winter = await add_livestream(db, world, clock)
    watched = {
        "13900000011": [(JOIN, autumn, 2)],  # inside the 7 days
        "13900000013": [(JOIN, autumn, 3), (CLICK, winter, 1)],  # the last touch wins
        "13900000014": [],
        "13900000012": [(JOIN, autumn, 8)],  # outside them; she buys 3 days after the others, so her touch
    }  # is inside what the batch reads ahead for them all, and only her own window leaves it out
    orders = {}
    for phone, touches in watched.items():
        if phone == "13900000012":
            later(clock, days=3)
        _, buyer = await customer(api, phone)
        await send(db, *(touch(clock, phone, *t) for t in touches), now=clock.now())
        orders[phone] = (await sell(api, world, token_for, buyer, 1))["id"]
    await drain(api)
    found = {}
    manager = await token_for("sh.manager")
    for phone, order in orders.items():
        attribution = (await api.data(ATTRIBUTION, {"id": order}, manager))["node"]["attribution"]
        found[phone] = (attribution["livestreamId"], [t["type"] for t in attribution["touches"]])
    names = {gid("Livestream", autumn): "autumn", gid("Livestream", winter): "winter"}
    return {phone: (names.get(live) if live else None, types) for phone, (live, types) in found.items()}


EXPECTED = {
    "13900000011": ("autumn", ["LIVESTREAM_JOIN"]),
    "13900000012": (None, []),
    "13900000013": ("winter", ["LIVESTREAM_PRODUCT_CLICK", "LIVESTREAM_JOIN"]),
    "13900000014": (None, []),
}


async def test_the_last_livestream_touched_within_the_window_is_credited_for_a_batch(api, db, world, clock, token_for):
    assert await journeys(api, db, world, clock, token_for) == EXPECTED


@pytest.mark.parametrize("read_ahead", ["none", "failing"])
async def test_journeys_are_the_same_without_the_read_ahead(
    api, db, world, clock, token_for, tmp_root, monkeypatch, read_ahead
):
    async def fails(session, messages):
        raise RuntimeError("the read-ahead broke")

    consumer = ledger_consumer(db, clock, make_settings(db.engine.url.render_as_string(hide_password=False), tmp_root))
    consumer.read_ahead = None if read_ahead == "none" else fails
    monkeypatch.setattr(api.app.state, "ledger", consumer)
    assert await journeys(api, db, world, clock, token_for) == EXPECTED

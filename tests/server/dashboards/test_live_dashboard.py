"""liveDashboard over a real WebSocket (graphql-transport-ws): figures as the database has them, shared boards,
who may watch, and bad ids."""

from __future__ import annotations

import asyncio
import json

import pytest
import sqlalchemy as sa

from server.domains.bookings.topics import livestream_bookings_topic
from tests.live_server import graphql_socket, next_payload, subscribe
from tests.server.bookings.helpers import next_local
from tests.server.bookings.test_booking_feed import local_id
from tests.server.orders.conftest import stock
from tests.world import gid

from .steps import DASHBOARD, HOUR, MONDAY, book, customer_on, livestream_day, login_on, sell_and_pay

SERUMS = 178000  # two serums, fen


async def database_figures(db, livestream: int) -> dict:
    """The figures, counted straight from the tables."""
    sql = """
      SELECT
        (SELECT count(*) FROM booking WHERE livestream_id = :l AND status <> 'CANCELLED'),
        (SELECT count(*) FROM booking WHERE livestream_id = :l AND status = 'CANCELLED'),
        (SELECT count(*) FROM booking WHERE livestream_id = :l AND checked_in_at IS NOT NULL),
        (SELECT count(*) FROM sales_order o JOIN booking b ON b.id = o.booking_id
           WHERE b.livestream_id = :l AND o.status = 'PAID'),
        (SELECT coalesce(sum(o.total), 0) FROM sales_order o JOIN booking b ON b.id = o.booking_id
           WHERE b.livestream_id = :l AND o.status = 'PAID')"""
    async with db.engine.connect() as connection:
        booked, cancelled, checked_in, paid, gmv = (await connection.execute(sa.text(sql), {"l": livestream})).one()
    return {"bookings": booked, "cancelled": cancelled, "checkedIn": checked_in, "paidOrders": paid, "gmv": gmv}


async def first_answer(socket_) -> dict:
    """The first result's payload, or ``{"errors": …}`` when the subscription was refused before it."""
    async with asyncio.timeout(30):
        while True:
            message = json.loads(await socket_.recv())
            if message["type"] in ("next", "error"):
                return message["payload"] if message["type"] == "next" else {"errors": message["payload"]}


async def first_snapshot(address: str, token: str, livestream: str) -> dict:
    async with graphql_socket(address, token) as socket_:
        await subscribe(socket_, DASHBOARD, {"l": livestream})
        return await first_answer(socket_)


async def test_the_snapshot_matches_the_database_and_follows_a_new_booking(server, db, world, clock):
    day = await livestream_day(server, db, world, clock)
    analyst = await login_on(server, "analyst")
    async with graphql_socket(server.address, analyst) as socket_:
        await subscribe(socket_, DASHBOARD, {"l": day.livestream})
        first = (await next_payload(socket_, timeout=30))["data"]["liveDashboard"]
        expected = await database_figures(db, local_id(day.livestream))
        assert {key: first[key] for key in ("bookings", "cancelled", "checkedIn", "paidOrders")} == {
            key: expected[key] for key in ("bookings", "cancelled", "checkedIn", "paidOrders")
        }
        assert first["gmv"] == {"amount": expected["gmv"], "currency": "CNY"}
        assert (first["bookings"], first["cancelled"], first["checkedIn"], first["noShows"]) == (3, 1, 1, 0)
        assert first["bookingsByCity"] == [{"city": "上海", "bookings": 2}, {"city": "北京", "bookings": 1}]
        assert first["topStores"] == [
            {"storeId": world.gid("Store", "shanghai"), "name": "上海店", "city": "上海", "bookings": 2},
            {"storeId": world.gid("Store", "beijing"), "name": "北京店", "city": "北京", "bookings": 1},
        ]
        assert (first["paidOrders"], first["gmv"]["amount"], first["payingVisits"]) == (1, SERUMS, 1)
        assert first["arrivalRate"] == pytest.approx(1 / 3) and first["purchaseRate"] == 1.0
        assert first["bookingsPerMinute"] == []  # made yesterday: out of the last hour
        assert first["sequence"] == 1 and first["at"] == clock.now().isoformat().replace("+00:00", "Z")

        newcomer = await customer_on(server, "13900000009")
        await book(server, newcomer, world, day.slot + HOUR, livestreamId=day.livestream)
        second = (await next_payload(socket_, timeout=30))["data"]["liveDashboard"]
    assert (second["sequence"], second["bookings"], second["arrivalRate"]) == (2, 4, 0.25)
    minute = clock.now().replace(second=0).isoformat().replace("+00:00", "Z")
    assert second["bookingsPerMinute"] == [{"minute": minute, "bookings": 1}]
    assert (await database_figures(db, local_id(day.livestream)))["bookings"] == 4


async def test_subscribers_of_one_process_share_one_board_which_goes_with_the_last(server, db, world, clock):
    day = await livestream_day(server, db, world, clock)
    ops, admin = await login_on(server, "ops"), await login_on(server, "admin")
    boards = server.app.state.runtime.live_boards
    async with graphql_socket(server.address, ops) as one, graphql_socket(server.address, admin) as two:
        await subscribe(one, DASHBOARD, {"l": day.livestream})
        await subscribe(two, DASHBOARD, {"l": day.livestream})
        firsts = [(await next_payload(s, timeout=30))["data"]["liveDashboard"] for s in (one, two)]
        assert (
            list(boards.boards) == [local_id(day.livestream)] and boards.boards[local_id(day.livestream)].watchers == 2
        )
        guide = await login_on(server, "sh.guide")
        shopper = await customer_on(server, "13900000008")
        visit = await book(server, shopper, world, day.slot + HOUR * 6, livestreamId=day.livestream)
        await sell_and_pay(server, world, guide, shopper, visit)
        board = boards.boards[local_id(day.livestream)]
        latest = [await _settled(s, board, lambda snapshot: snapshot["paidOrders"] == 2) for s in (one, two)]
    assert firsts[0]["sequence"] == firsts[1]["sequence"]
    assert latest[0] == latest[1] and (latest[0]["bookings"], latest[0]["paidOrders"]) == (4, 2)
    for _ in range(500):
        if not boards.boards:
            break
        await asyncio.sleep(0.01)
    assert boards.boards == {} and not server.listening(livestream_bookings_topic(local_id(day.livestream)))


async def _settled(socket_, board, shows=lambda _snapshot: True) -> dict:
    """The snapshot a subscriber holds once it ``shows`` what the test waits for and the board has nothing left to
    compute. News of a change reaches the board through the outbox relay a moment after the change commits: on
    a loaded machine the board may be idle before the last news arrived."""
    latest = None
    while latest is None or not shows(latest) or latest["sequence"] < board.latest.sequence or not board.idle.is_set():
        if latest is not None and shows(latest) and latest["sequence"] == board.latest.sequence:
            await board.idle.wait()
            continue
        latest = (await next_payload(socket_, timeout=30))["data"]["liveDashboard"]
    return latest


@pytest.mark.parametrize("username", ["sh.guide", "sh.manager"])
async def test_store_staff_may_not_watch(server, db, world, clock, username):
    day = await livestream_day(server, db, world, clock)
    payload = await first_snapshot(server.address, await login_on(server, username), day.livestream)
    assert payload.get("data") is None and payload["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_customer_may_not_watch(server, world):
    shopper = await customer_on(server, "13900000007")
    payload = await first_snapshot(server.address, shopper.token, gid("Livestream", 1))
    assert payload["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_an_anonymous_socket_is_told_to_sign_in(server, world):
    from websockets.asyncio.client import connect

    async with connect(f"ws://{server.address}/graphql", subprotocols=["graphql-transport-ws"]) as socket_:
        await socket_.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await socket_.recv())["type"] == "connection_ack"
        await subscribe(socket_, DASHBOARD, {"l": gid("Livestream", 1)})
        payload = await first_answer(socket_)
    assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("livestream_id", "code", "reason"),
    [
        (gid("Livestream", 999_999), "BAD_USER_INPUT", "NOT_FOUND"),
        (gid("Store", 1), "BAD_USER_INPUT", "NOT_FOUND"),
        (gid("Livestream", 2**31), "BAD_USER_INPUT", None),
        (gid("Livestream", 10**30), "BAD_USER_INPUT", None),
        ("not an id", "BAD_USER_INPUT", None),
    ],
)
async def test_an_unknown_or_malformed_livestream_is_refused_and_no_board_is_made(
    server, world, livestream_id, code, reason
):
    payload = await first_snapshot(server.address, await login_on(server, "ops"), livestream_id)
    (error,) = payload["errors"]
    assert (error["extensions"]["code"], error["extensions"].get("reason")) == (code, reason), error
    assert server.app.state.runtime.live_boards.boards == {}


LEDGER_FIGURES = """subscription($l: ID!) { liveDashboard(livestreamId: $l) { sequence paidOrders
  topGuides { staffId name revenue { amount } commission { amount } }
  commissionByBeneficiary { kind revenue { amount } commission { amount } } } }"""


async def ledger_by_kind(db, livestream: int) -> dict:
    sql = """SELECT beneficiary_kind, sum(revenue), sum(commission) FROM ledger_entry WHERE livestream_id = :l
             GROUP BY beneficiary_kind"""
    async with db.engine.connect() as connection:
        rows = (await connection.execute(sa.text(sql), {"l": livestream})).all()
    return {kind: (int(revenue), int(commission)) for kind, revenue, commission in rows}


async def test_top_guides_and_commission_by_beneficiary_come_from_the_ledger(server, db, world, clock):
    from tests.server.coupons.helpers import add_livestream
    from tests.server.ledger.helpers import plan_input, shares

    admin = await login_on(server, "admin")
    live = plan_input(clock, "LIVESTREAM", shares=shares(GUIDE=7000, LIVESTREAM_TEAM=3000), rateBasisPoints=1000)
    for given in (plan_input(clock), live):
        created = await server.graphql(
            """mutation($input: CommissionPlanCreateInput!) { commissionPlanCreate(input: $input) {
               errors { code } } }""",
            {"input": given},
            admin,
        )
        assert created["commissionPlanCreate"]["errors"] == []
    await stock(db, world, 10)
    livestream = await add_livestream(db, world, clock)
    async with graphql_socket(server.address, admin) as socket_:
        await subscribe(socket_, LEDGER_FIGURES, {"l": gid("Livestream", livestream)})
        empty = (await next_payload(socket_, timeout=30))["data"]["liveDashboard"]
        shopper = await customer_on(server, "13900000006")
        visit = await book(
            server, shopper, world, next_local(clock, MONDAY, 15), livestreamId=gid("Livestream", livestream)
        )
        await sell_and_pay(server, world, await login_on(server, "sh.guide"), shopper, visit)
        assert await server.app.state.ledger.drain() >= 1
        credited = await ledger_by_kind(db, livestream)
        figures = empty
        while [row["revenue"]["amount"] for row in figures["commissionByBeneficiary"]][:2] != [
            credited["GUIDE"][0],
            credited["LIVESTREAM_TEAM"][0],
        ]:
            figures = (await next_payload(socket_, timeout=30))["data"]["liveDashboard"]
    assert empty["topGuides"] == [] and {row["revenue"]["amount"] for row in empty["commissionByBeneficiary"]} == {0}
    assert figures["commissionByBeneficiary"] == [
        {"kind": kind, "revenue": {"amount": revenue}, "commission": {"amount": commission}}
        for kind, (revenue, commission) in (
            (k, credited.get(k, (0, 0))) for k in ("GUIDE", "LIVESTREAM_TEAM", "STORE", "REFERRER")
        )
    ]
    assert credited["GUIDE"] == (SERUMS * 7 // 10, SERUMS * 7 // 100)
    assert figures["topGuides"] == [
        {
            "staffId": world.gid("StaffUser", "sh.guide"),
            "name": "Sh.Guide",
            "revenue": {"amount": credited["GUIDE"][0]},
            "commission": {"amount": credited["GUIDE"][1]},
        }
    ]

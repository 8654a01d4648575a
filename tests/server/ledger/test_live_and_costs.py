"""leaderboardChanged over a real WebSocket, and queries whose statement count does not grow with the data."""

from __future__ import annotations

import sqlalchemy as sa

from server.domains.ledger.models import LedgerEntry
from tests.live_server import graphql_socket, next_payload, subscribe
from tests.server.assertions import ReadsOnly, fetch
from tests.server.bookings.helpers import customer, give_shifts
from tests.server.live import serve
from tests.server.orders.conftest import stock
from tests.world import login

from .helpers import BOARD, PLAN_CREATE, drain, month, plan_input, sell, standard_plans
from .test_performance import PERFORMANCE

CHANGED = """subscription($period: String!) { leaderboardChanged(scope: GUIDE, period: $period, first: 5) {
  total entries { rank creditedRevenue { amount } } me { rank } } }"""


async def test_a_guide_watches_the_leaderboard_move_when_a_sale_is_credited(db, world, clock, tmp_root):
    await give_shifts(db, world)
    await stock(db, world, 5)
    async with serve(db.engine.url.render_as_string(hide_password=False), tmp_root, clock) as server:
        over_http = OverHttp(server)
        admin, guide = await login(over_http, "admin"), await login(over_http, "sh.guide")
        created = await over_http.data(PLAN_CREATE, {"input": plan_input(clock)}, admin)
        assert created["commissionPlanCreate"]["errors"] == []
        async with graphql_socket(server.address, guide) as socket_:
            await subscribe(socket_, CHANGED, {"period": month(clock)})
            first = (await next_payload(socket_))["data"]["leaderboardChanged"]
            assert first == {"total": 0, "entries": [], "me": None}
            _, buyer = await customer(over_http, "13900000001")
            await sell(over_http, world, lambda _: _token(guide), buyer, 1)
            await server.app.state.ledger.drain()
            moved = (await next_payload(socket_))["data"]["leaderboardChanged"]
            assert moved["total"] == 1 and moved["me"] == {"rank": 1}
            assert moved["entries"][0]["creditedRevenue"]["amount"] == 89000


class OverHttp:
    """The steps' ``api.data`` against a live server."""

    def __init__(self, server) -> None:
        self.server = server

    async def data(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        return await self.server.graphql(query, variables, token)


async def _token(token: str) -> str:
    return token


async def _clone_entries(db, copies: int) -> None:
    """The first sale's entry, again for ``copies`` other beneficiaries (statement counts, not sums)."""
    (entry,) = await fetch(db, LedgerEntry)
    async with db.writer() as session:
        for n in range(copies):
            values = entry.model_dump(exclude={"id"})
            await session.exec(
                sa.insert(LedgerEntry).values(**{**values, "beneficiary_id": 1000 + n, "event_key": f"copy:{n}"})
            )
        await session.commit()


async def test_leaderboards_and_performance_cost_the_same_statements_whatever_the_ledger_holds(
    api, db, world, clock, token_for
):
    await standard_plans(api, token_for, clock)
    await give_shifts(db, world)
    await stock(db, world, 5)
    _, buyer = await customer(api, "13900000001")
    await sell(api, world, token_for, buyer, 1)
    await drain(api)
    analyst = await token_for("analyst")
    counts = []
    for copies in (0, 40):
        await _clone_entries(db, copies)
        seen = []
        for _ in range(3):  # the least of three: background work can only add statements
            with ReadsOnly(api) as counter:
                for scope in ("GUIDE", "STORE", "CITY", "TEAM", "LIVESTREAM"):
                    await api.data(BOARD, {"scope": scope, "period": month(clock), "first": 10}, analyst)
                variables = {"scope": "STORE", "id": world.gid("Store", "shanghai"), "period": month(clock)}
                await api.data(PERFORMANCE, variables, analyst)
            seen.append(counter.count)
        counts.append(min(seen))
    assert counts[0] == counts[1], counts


async def test_bad_leaderboard_and_statement_arguments_are_clear_errors(api, world, token_for):
    from .helpers import STATEMENT

    analyst = await token_for("analyst")
    store = world.gid("Store", "shanghai")
    for variables in (
        {"scope": "GUIDE", "period": "2026-12", "first": 101},
        {"scope": "GUIDE", "period": "2026-12", "first": -1},
        {"scope": "GUIDE", "period": "2026-02-30", "first": 5},
        {"scope": "GUIDE", "period": "0001-01", "first": 5},
        {"scope": "GUIDE", "period": "9999-12-31", "first": 5},
        {"scope": "STORE", "period": "2026-12", "first": 5, "store": "U3RvcmU6OTk5OTk5OTk5OTk5"},
        {"scope": "STORE", "period": "2026-12", "first": 5, "store": world.gid("Sku", "sku:serum")},
        {"scope": "CITY", "period": "2026-12", "first": 5, "city": "城" * 65},
    ):
        body = await api(BOARD, variables, analyst)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (variables, body)
    for variables in (
        {"kind": "GUIDE", "id": world.gid("StaffUser", "sh.guide"), "period": "2026-12-01"},
        {"kind": "GUIDE", "id": store, "period": "2026-12"},
        {"kind": "STORE", "id": "not a global id", "period": "2026-12"},
    ):
        body = await api(STATEMENT, variables, analyst)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (variables, body)
    unauthenticated = await api(BOARD, {"scope": "GUIDE", "period": "2026-12", "first": 5})
    assert unauthenticated["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

"""业绩 through the performance presenter, against the real server: sales credited by the ledger show as her
revenue, commission and rank (today and this month, in her store and her city), on the two leaderboards
and in the bar chart; a later sale updates them live, and one made while her socket was down shows once
it is back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from guide_app.presenters.performance import BoardRow, chart_bars, periods, rank_text
from server.domains.tasks.topics import staff_topic

from .conftest import cash_sale, commission_plan, credit, eventually, signed_in_guide, stock


@pytest.fixture
async def selling(server, world, clock, guide_database) -> None:
    """Serums in the Shanghai store, and HQ's plan crediting each sale to its guide at 5 %."""
    await stock(guide_database, world, 20)
    await commission_plan(server, clock)


async def her_performance(server, world, make_session):
    """sh.guide signed in, with 业绩 open."""
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    performance = await session.open_performance()
    assert session.screen == "performance" and performance.loaded, performance.message
    return session, performance


async def test_before_any_sale_she_is_not_ranked(server, world, make_session):
    _session, performance = await her_performance(server, world, make_session)
    today = performance.today()
    assert (today.revenue, today.commission, today.store_rank) == ("¥0.00", "¥0.00", "未上榜")
    assert performance.store_rows() == [] and performance.bars() == []
    assert performance.city == "上海"


async def test_credited_sales_show_her_figures_ranks_boards_and_bars(server, world, make_session, selling):
    await cash_sale(server, world, "sh.manager", 2)  # ¥1,780.00 credited to the manager
    await cash_sale(server, world, "sh.guide", 1)  # ¥890.00 to her
    assert await credit(server) == 2

    _session, performance = await her_performance(server, world, make_session)
    for figures in (performance.today(), performance.this_month()):
        assert (figures.revenue, figures.commission) == ("¥890.00", "¥44.50")  # 5 %
        assert (figures.store_rank, figures.city_rank) == ("第 2 名 / 共 2 人", "第 2 名 / 共 2 人")
    assert performance.store_rows() == [
        BoardRow("1", "Sh.Manager", "¥1,780.00", "1 单", False),
        BoardRow("2", "Sh.Guide", "¥890.00", "1 单", True),
    ]
    assert performance.city_rows() == performance.store_rows()  # 上海 has one store
    assert [(bar.name, bar.height, bar.mine) for bar in performance.bars()] == [
        ("Sh.Manager", 1.0, False),
        ("Sh.Guide", 0.5, True),
    ]


async def test_a_sale_credited_later_updates_her_screen_live(server, world, make_session, selling):
    await cash_sale(server, world, "sh.manager", 2)
    await credit(server)
    _session, performance = await her_performance(server, world, make_session)
    assert performance.this_month().store_rank == "未上榜" and len(performance.store_rows()) == 1
    await eventually(lambda: performance.live is not None and performance.live.connected, what="the live board")

    await cash_sale(server, world, "sh.guide", 3)  # ¥2,670.00: she goes first
    await credit(server)
    await eventually(lambda: performance.today().revenue == "¥2,670.00", what="her sale, live")
    month = performance.this_month()
    assert (month.revenue, month.commission, month.store_rank) == ("¥2,670.00", "¥133.50", "第 1 名 / 共 2 人")
    assert performance.store_rows()[0].mine and performance.bars()[0].mine


async def test_a_sale_credited_while_her_socket_was_down_shows_when_it_is_back(
    server, start_server, world, make_session, selling
):
    session, performance = await her_performance(server, world, make_session)
    await eventually(lambda: performance.live.connected, what="the live board")
    await server.stop()
    await eventually(lambda: performance.offline, what="offline")

    replica = await start_server()  # another replica takes the sale, and credits it
    await cash_sale(replica, world, "sh.guide", 1)
    await credit(replica)
    assert performance.today().revenue == "¥0.00"

    await server.start()  # her phone's server is back: the catch-up query brings the sale
    await eventually(lambda: performance.today().revenue == "¥890.00", what="the catch-up")
    assert not performance.offline and performance.today().store_rank == "第 1 名 / 共 1 人"
    await eventually(lambda: server.listening(staff_topic(world.ids["sh.guide"])), what="her inbox back too")
    assert session.screen == "performance"


async def test_signing_out_closes_the_live_board_and_forgets_her_figures(server, world, make_session):
    session, performance = await her_performance(server, world, make_session)
    await session.sign_out()
    assert performance.live is None and performance.boards == {} and not performance.loaded


def test_periods_are_the_brands_day_and_month_in_shanghai():
    # 16:30 UTC on 30 November is already 1 December in Shanghai.
    assert periods(datetime(2026, 11, 30, 16, 30, tzinfo=UTC)) == ("2026-12", "2026-12-01")
    assert periods(datetime(2026, 11, 30, 15, 59, tzinfo=UTC)) == ("2026-11", "2026-11-30")


def entry(rank: int, name: str, fen: int, mine: bool = False) -> dict:
    return {"rank": rank, "name": name, "creditedRevenue": {"amount": fen, "currency": "CNY"}, "isMe": mine}


def test_she_is_always_in_the_chart_even_below_its_top_places():
    board = {"entries": [entry(rank, f"G{rank}", 1000 * (10 - rank)) for rank in range(1, 9)]}
    board["me"] = entry(12, "Me", 100)
    bars = chart_bars(board)
    assert [bar.name for bar in bars] == ["G1", "G2", "G3", "G4", "G5", "Me"]
    assert bars[-1].mine and bars[0].height == 1.0 and round(bars[-1].height, 3) == round(100 / 9000, 3)


def test_rank_text_falls_back_to_english_without_the_catalog():
    from guide_app.i18n import use_language

    use_language("en")
    assert rank_text({"me": {"rank": 3}, "total": 7}) == "No. 3 of 7"
    assert rank_text({"me": None, "total": 7}) == "Not ranked yet"

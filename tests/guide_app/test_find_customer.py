"""Finding the customer in front of her: search her store's customers, or serve a walk-in by her number;
both open the 360° view (with her bookings). Against the real server."""

from __future__ import annotations

from guide_app.presenters.formatting import event_type

from .conftest import customer_books, signed_in_guide


async def test_a_guide_finds_a_booked_customer_by_her_phones_last_digits(server, world, clock, make_session):
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    await customer_books(server, world, clock, phone="13812345678", hour=15)
    search = session.customer_search()
    assert session.screen == "search"
    search.edit("5678")
    assert await search.search(), search.message
    [row] = search.results
    assert row.phone == "138 1234 5678"
    await search.open_customer(row.id)
    assert session.screen == "customer" and session.customer.customer["id"] == row.id
    [booking] = session.customer.bookings()
    assert booking.store == "上海店" and booking.status == "已预约" and booking.when.endswith("15:00")


async def test_a_walk_in_by_her_number_opens_her_story_and_a_repeat_tap_does_nothing_twice(server, world, make_session):
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    search = session.customer_search()
    search.edit("139 0000 1111")
    assert search.can_walk_in
    assert await search.walk_in(), search.message
    assert session.screen == "customer"
    [visit] = session.customer.timeline()
    assert visit.what == event_type("STORE_VISIT") and "上海店" in visit.detail
    search.edit("1111")
    assert await search.search() and len(search.results) == 1  # in the store's care now


async def test_a_too_short_search_and_a_bad_number_say_so_in_chinese(server, world, make_session):
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    search = session.customer_search()
    search.edit("王")
    assert not await search.search() and search.message.startswith("请输入 2 到 50 个字")
    search.edit("12")
    assert not search.can_walk_in
    assert not await search.walk_in() and search.message == "这个手机号无效。"
    assert session.screen == "search"

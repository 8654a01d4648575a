"""Check-in without a camera, through the presenters against a real server: from the task itself, or by
the 6 digits she shows; a code that is no booking says so in Chinese, and no tap checks her in twice."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from .conftest import customer_books, eventually, signed_in_guide

CODE = "query($id: ID!) { node(id: $id) { ... on Booking { checkInCode } } }"


async def her_code(server, booked) -> str:
    return (await server.graphql(CODE, {"id": booked.booking_id}, booked.customer_token))["node"]["checkInCode"]


async def visits(guide_database) -> int:
    async with guide_database.engine.connect() as connection:
        return (
            await connection.execute(sa.text("SELECT count(*) FROM customer_event WHERE type = 'STORE_VISIT'"))
        ).scalar_one()


async def booking_status(guide_database) -> list[str]:
    async with guide_database.engine.connect() as connection:
        return list((await connection.execute(sa.text("SELECT status FROM booking ORDER BY id"))).scalars())


async def reception_of_her_task(session, server, world, clock, hour: int = 15, phone: str = "13812345678"):
    await signed_in_guide(session, server, world)
    booked = await customer_books(server, world, clock, hour=hour, phone=phone)
    await eventually(lambda: len(session.inbox.rows()) == 1, what="her task")
    reception = await session.open_reception(session.inbox.rows()[0].id)
    return booked, reception


async def test_her_six_digits_check_her_in_once(server, world, clock, make_session, guide_database):
    session = await make_session(server.base_url)
    booked, reception = await reception_of_her_task(session, server, world, clock)
    code = await her_code(server, booked)

    reception.edit_code("000000" if code != "000000" else "000001")  # a code that is no booking
    assert await reception.check_in() is False
    assert reception.message == "本店没有使用此核销码且当前可签到的预约：请核对数字和顾客的预约时间。"
    assert await booking_status(guide_database) == ["CONFIRMED"] and await visits(guide_database) == 0

    reception.edit_code(f"{code[:3]} {code[3:]}")
    assert await reception.check_in(), reception.message
    assert reception.checked_in and reception.notice == "已签到。" and reception.qr_code == ""
    assert reception.status == "接待中" and reception.message == ""
    # Typed again (a lost answer, a second tap after it): she stays checked in, once.
    reception.edit_code(code)
    assert await reception.check_in() is True
    assert await booking_status(guide_database) == ["CHECKED_IN"] and await visits(guide_database) == 1


async def test_a_code_not_yet_due_is_no_booking_here(server, world, clock, make_session, guide_database):
    session = await make_session(server.base_url)
    booked, reception = await reception_of_her_task(session, server, world, clock, hour=17)  # opens at 16:00
    reception.edit_code(await her_code(server, booked))
    assert await reception.check_in() is False
    assert reception.message == "本店没有使用此核销码且当前可签到的预约：请核对数字和顾客的预约时间。"
    assert not reception.checked_in and await booking_status(guide_database) == ["CONFIRMED"]
    # From the task, the server says why in words she understands.
    assert await reception.check_in_from_task() is False
    assert reception.message == "签到尚未开放，请在临近预约时间时再签到。"


async def test_check_in_from_the_task_with_a_double_tap_checks_her_in_once(
    server, world, clock, make_session, guide_database
):
    session = await make_session(server.base_url)
    _booked, reception = await reception_of_her_task(session, server, world, clock)
    first, second = await asyncio.gather(reception.check_in_from_task(), reception.check_in_from_task())
    assert (first, second) == (True, False)
    assert reception.checked_in and reception.status == "接待中"
    assert session.inbox.tasks[reception.task_id]["status"] == "IN_PROGRESS"  # the inbox heard of it too
    assert await booking_status(guide_database) == ["CHECKED_IN"] and await visits(guide_database) == 1

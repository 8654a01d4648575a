"""The guide's shift through the presenters, against a real server: live inbox to a finished reception."""

from __future__ import annotations

from .conftest import customer_books, eventually, livestream, signed_in_guide


async def test_a_livestream_booking_goes_from_the_live_inbox_to_a_finished_reception(
    server, world, clock, make_session
):
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    inbox = session.inbox
    assert session.screen == "inbox" and inbox.rows() == []

    show = await livestream(server, world, clock)
    booked = await customer_books(server, world, clock, livestream_id=show)
    await eventually(lambda: len(inbox.rows()) == 1, what="the booking's task in the inbox")
    [row] = inbox.rows()
    assert row.high_priority and row.can_acknowledge and row.status == "新任务"
    assert row.livestream == "双十一美妆专场"
    assert inbox.banner.startswith("新的直播顾客")
    assert session.inbox.notifier.shown == [("新的高优先级任务", inbox.banner)]
    assert session.inbox.notifier.vibrations == 1

    assert await inbox.acknowledge(row.id)
    assert inbox.rows()[0].status == "已确认" and not inbox.rows()[0].can_acknowledge

    reception = await session.open_reception(row.id)
    assert session.screen == "reception"
    assert reception.customer_name and reception.phone == "+8613812345678"  # she booked at his store
    assert reception.livestream_title == "双十一美妆专场"
    assert reception.talking_points == ["精华买一送一", "唇膏限量色"]
    assert reception.products[0] == "精华"
    required = [step.position for step in reception.steps if step.required]
    assert required and all(not step.done for step in reception.steps)

    for position in required:
        assert await reception.tick(position), reception.message
    assert reception.open_required_steps == []

    reception.edit_code(await booked.qr_token(server))
    assert await reception.check_in(), reception.message
    assert reception.checked_in and reception.notice == "已签到。" and reception.qr_code == ""
    assert reception.status == "接待中"

    assert await reception.complete(), reception.message
    assert reception.finished and reception.status == "已完成"
    assert inbox.tasks[row.id]["status"] == "DONE"  # the inbox heard of it too


async def test_the_customer_360_pages_through_her_timeline(server, world, clock, make_session):
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    booked = await customer_books(server, world, clock, livestream_id=await livestream(server, world, clock))
    await eventually(lambda: len(session.inbox.rows()) == 1, what="the task")
    task = next(iter(session.inbox.tasks.values()))
    reception = await session.open_reception(task["id"])
    reception.edit_code(await booked.qr_token(server))
    assert await reception.check_in()

    customer = await session.open_customer(reception.customer["id"], "Asia/Shanghai")
    assert session.screen == "customer" and customer.message == ""
    kinds = [row.what for row in customer.timeline()]
    assert "到店" in kinds and "在直播中预约到店" in kinds
    assert customer.total_events == len(customer.events) == 3  # login, the booking click, the visit
    assert dict(customer.facts())["电话"] == "138 1234 5678"
    assert not customer.has_more and not await customer.load_more()


async def test_the_timeline_is_read_a_page_at_a_time(server, world, clock, make_session, monkeypatch):
    from guide_app.presenters import customer as customer_module

    monkeypatch.setattr(customer_module, "TIMELINE_PAGE", 2)
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    booked = await customer_books(server, world, clock, livestream_id=await livestream(server, world, clock))
    await eventually(lambda: len(session.inbox.rows()) == 1, what="the task")
    reception = await session.open_reception(next(iter(session.inbox.tasks)))
    reception.edit_code(await booked.qr_token(server))
    assert await reception.check_in()

    customer = await session.open_customer(reception.customer["id"])
    assert len(customer.events) == 2 and customer.has_more
    assert await customer.load_more()
    assert len(customer.events) == 3 and not customer.has_more
    assert len({event["id"] for event in customer.events}) == 3


async def test_a_step_ticked_by_mistake_is_unticked_from_its_row_until_the_reception_is_over(
    server, world, clock, make_session
):
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    booked = await customer_books(server, world, clock)
    await eventually(lambda: len(session.inbox.rows()) == 1, what="her task")
    reception = await session.open_reception(session.inbox.rows()[0].id)
    first = reception.steps[0].position
    assert await reception.toggle(first) and reception.steps[0].done  # ticked (the task acknowledged on the way)
    assert await reception.toggle(first) and not reception.steps[0].done  # unticked: a mistake
    for step in reception.steps:
        assert await reception.toggle(step.position), reception.message
    reception.edit_code(await booked.qr_token(server))
    assert await reception.check_in() and await reception.complete(), reception.message
    assert not await reception.toggle(first) and reception.steps[0].done  # a finished checklist is a record

"""Which guide gets the reception, and why (assignmentReason)."""

from __future__ import annotations

import sqlalchemy as sa

from server.domains.staff.models import StaffSkillCategory
from tests.server.bookings.helpers import book, customer, next_local

MONDAY = 0


async def assignments(db) -> list[tuple[int, str]]:
    async with db.engine.connect() as connection:
        return list(
            (await connection.execute(sa.text("SELECT assignee_id, assignment_reason FROM task ORDER BY id"))).all()
        )


async def test_her_relationship_guide_comes_first(api, db, two_guides, clock):
    token, _customer_id = await customer(api)
    async with db.writer() as session:
        await session.exec(
            sa.text("UPDATE person SET relationship_guide_id = :g"), params={"g": two_guides.ids["sh.guide2"]}
        )
        await session.commit()
    await book(api, token, two_guides, next_local(clock, MONDAY, 15))
    assert await assignments(db) == [(two_guides.ids["sh.guide2"], "her relationship guide")]


async def test_skills_matching_the_products_come_next(api, db, two_guides, clock):
    async with db.writer() as session:
        session.add(StaffSkillCategory(staff_id=two_guides.ids["sh.guide2"], category_id=two_guides.ids["makeup"]))
        await session.commit()
    token, _ = await customer(api)
    await book(
        api, token, two_guides, next_local(clock, MONDAY, 15), productIds=[two_guides.gid("Product", "lipstick")]
    )
    assert await assignments(db) == [(two_guides.ids["sh.guide2"], "best skill match (1 of 1)")]


async def test_then_the_guide_with_fewest_tasks_that_day_then_the_least_recently_assigned(api, db, two_guides, clock):
    first, _ = await customer(api, "13812345678")
    second, _ = await customer(api, "13912345678")
    third, _ = await customer(api, "13712345678")
    await book(api, first, two_guides, next_local(clock, MONDAY, 15))
    clock.advance(seconds=1)
    await book(api, second, two_guides, next_local(clock, MONDAY, 16))
    clock.advance(seconds=1)
    await book(api, third, two_guides, next_local(clock, MONDAY, 17))
    (a, reason_a), (b, reason_b), (c, reason_c) = await assignments(db)
    assert reason_a == "never assigned before" and a == min(two_guides.ids["sh.guide"], two_guides.ids["sh.guide2"])
    assert (b, reason_b) == (max(two_guides.ids["sh.guide"], two_guides.ids["sh.guide2"]), "fewest tasks that day (0)")
    assert (c, reason_c) == (a, "least recently assigned")


async def test_a_guide_already_receiving_someone_in_the_slot_is_passed_over(api, db, two_guides, clock):
    slot = next_local(clock, MONDAY, 15)
    first, _ = await customer(api, "13812345678")
    second, _ = await customer(api, "13912345678")
    await book(api, first, two_guides, slot)
    await book(api, second, two_guides, slot)
    (a, _), (b, reason) = await assignments(db)
    assert a != b and reason == "the only guide on shift with a free seat"

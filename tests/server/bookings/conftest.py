"""Fixtures of the booking tests."""

import pytest

from server.domains.staff.models import StaffUser

from .helpers import give_shifts


@pytest.fixture
async def two_guides(db, world):
    """Shanghai's guide plus a second one, both on shift all day."""
    async with db.writer() as session:
        other = StaffUser(username="sh.guide2", display_name="Guide Two", role="GUIDE",
                          store_id=world.ids["shanghai"], password_hash="x")
        session.add(other)
        await session.commit()
        world.ids["sh.guide2"] = other.id
    await give_shifts(db, world, "sh.guide")
    await give_shifts(db, world, "sh.guide2")
    return world

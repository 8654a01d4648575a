"""Fixtures of the booking tests."""

import pytest

from .helpers import add_shanghai_guide, give_shifts


@pytest.fixture
async def two_guides(db, world):
    """Shanghai's guide plus a second one, both on shift all day."""
    await add_shanghai_guide(db, world, "sh.guide2", "Guide Two")
    await give_shifts(db, world, "sh.guide")
    return world

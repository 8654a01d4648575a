"""Fixtures of the tests around bookings (bookings, tasks, schedule): a staffed world and sign-in that
follows the test clock. Each of those folders' conftest.py imports them."""

from datetime import timedelta

import pytest

from tests.server.bookings.helpers import add_shanghai_guide, give_shifts
from tests.world import login

TOKEN_LIFE = timedelta(minutes=14)  # access tokens last 15 minutes


@pytest.fixture
async def two_guides(db, world):
    """Shanghai's guide plus a second one, both on shift all day."""
    await add_shanghai_guide(db, world, "sh.guide2", "Guide Two")
    await give_shifts(db, world, "sh.guide")
    return world


@pytest.fixture
def token_for(api, world, clock):
    """Sign in as one of the world's staff: an access token valid at the test clock's time (signed in
    again once the clock has moved past the last one, e.g. to a slot's check-in window)."""
    cache: dict[str, tuple[str, object]] = {}

    async def get(username: str) -> str:
        if username not in cache or clock.now() >= cache[username][1] + TOKEN_LIFE:
            cache[username] = (await login(api, username), clock.now())
        return cache[username][0]

    return get

"""Fixtures of the tests around bookings (bookings, tasks, schedule): a staffed world, sign-in that
follows the test clock, the app on a real server. Each of those folders' conftest.py imports them."""

from datetime import timedelta

import pytest

from tests.live_server import LiveServer
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


@pytest.fixture
async def server(db, world, tmp_root, clock):
    """The app on a real server, the Shanghai guide on shift all day."""
    await give_shifts(db, world)
    live = LiveServer(db.engine.url.render_as_string(hide_password=False), tmp_root, clock)
    await live.start()
    yield live
    await live.stop()

"""Where the simulated day runs: an embedded server on a clock the simulation moves, or a running one."""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import uvicorn
from starlette.applications import Starlette

from .. import migrate
from ..app import create_app
from ..clock import utcnow
from ..db import Database
from ..demo.seed import seed_demo
from ..settings import Settings

STARTUP_SECONDS = 60
DAY_OPENS = time(9, 0)


class DayServer(Protocol):
    base_url: str
    zone: ZoneInfo
    moves_time: bool  # whether the simulation can move its clock through the day

    def now(self) -> datetime: ...
    async def advance_to(self, moment: datetime) -> None: ...
    async def settle_ledger(self) -> None: ...


class SteppedClock:
    """The embedded server's clock: it stands still until the simulation moves it."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current


def simulated_day(zone: ZoneInfo) -> datetime:
    """Tomorrow (in the brand's zone) at opening: after any seed already made, within its coupon's fortnight."""
    tomorrow = utcnow().astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, DAY_OPENS, zone).astimezone(UTC)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def seed_database(url: str) -> None:
    """Migrate to head and seed the demo brand, as `irs seed demo` does."""
    await asyncio.to_thread(migrate.upgrade, url)
    database = Database.connect(url)
    try:
        async with database.writer() as session:
            await seed_demo(session, production=False, now=utcnow())
    finally:
        await database.dispose()


class EmbeddedServer:
    """The app in this process on a real uvicorn port, on a fresh SQLite database (or IRS_DATABASE_URL),
    migrated and seeded. Its background jobs and the ledger's consumer run when the clock moves, so the
    same seed gives the same day."""

    moves_time = True

    def __init__(self) -> None:
        self._workdir = tempfile.TemporaryDirectory(prefix="irs-simulate-")
        work = Path(self._workdir.name)
        url = os.environ.get("IRS_DATABASE_URL") or f"sqlite+aiosqlite:///{work / 'simulate.db'}"
        self.settings = Settings(
            database_url=url, var_dir=work, scheduler=False, payments_sandbox=False, log_level="WARNING", graphiql=False
        )
        if self.settings.is_production:
            raise RuntimeError("refused: the demo brand is never seeded when IRS_ENV=production")
        self.zone = self.settings.brand_zone
        self.clock = SteppedClock(simulated_day(self.zone))
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task | None = None
        self.app: Starlette | None = None

    def now(self) -> datetime:
        return self.clock.now()

    async def start(self) -> None:
        await seed_database(self.settings.database_url)
        self.app = create_app(self.settings, clock=self.clock)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        async with asyncio.timeout(STARTUP_SECONDS):
            while not self._server.started:
                if self._task.done():
                    self._task.result()
                    raise RuntimeError("the embedded server stopped before it started")
                await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
            self._server = None
        self._workdir.cleanup()

    async def advance_to(self, moment: datetime) -> None:
        """Move the clock on (never back) and run the background jobs due: no-shows, escalations."""
        if moment > self.clock.current:
            self.clock.current = moment
        assert self.app is not None
        await self.app.state.scheduler.run_once()

    async def settle_ledger(self) -> None:
        assert self.app is not None
        await self.app.state.ledger.drain()


class RunningServer:
    """A server already running (`make run`), on real time: the day is what can happen now."""

    moves_time = False

    def __init__(self, base_url: str, zone: ZoneInfo) -> None:
        self.base_url, self.zone = base_url.removesuffix("/graphql"), zone

    def now(self) -> datetime:
        return utcnow()

    async def advance_to(self, moment: datetime) -> None:
        return None  # real time: what is not due yet stays as it is

    async def settle_ledger(self) -> None:
        return None  # its own consumer credits the orders; the KPIs wait until the ledger is stable

"""Live boards: per process, one board per watched livestream, shared by all its subscribers.

A board listens to the livestream's bookings, the orders and the ledger on the bus and
recomputes the livestream's figures at most once every ``interval`` seconds while news
arrives, none while idle: 200 subscribers of one process cost one computation, not 200.
Each subscriber takes the latest snapshot when it is ready for one (a slow one skips
snapshots rather than queueing them). The board goes when its last subscriber leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ...bus import Bus
from ...clock import Clock
from ..bookings.topics import livestream_bookings_topic
from ..ledger.topics import LEDGER_TOPIC
from ..orders.topics import ALL_ORDERS_TOPIC
from .services import LiveFigures, livestream_figures

logger = logging.getLogger("irs.dashboards")

SNAPSHOT_INTERVAL = 0.5  # seconds: at most two snapshots a second
SALES_EVENTS = frozenset({"PAID", "REFUNDED"})

Compute = Callable[[int], Awaitable[LiveFigures]]  # livestream id -> its figures (in a session of its own)
Sleep = Callable[[float], Awaitable[Any]]


@dataclass(frozen=True)
class Snapshot:
    sequence: int  # 1, 2, … per board of this process
    figures: LiveFigures


def moves_figures(livestream_id: int, topic: str, message: dict[str, Any]) -> bool:
    """Whether a bus message may change a livestream's figures: its bookings, sales of booked visits (a
    refund names no booking: it may), and ledger postings credited to it."""
    if topic == ALL_ORDERS_TOPIC:
        return message.get("event") in SALES_EVENTS and message.get("bookingId", "unknown") is not None
    if topic == LEDGER_TOPIC:
        return message.get("livestreamId") == livestream_id
    return True


class Board:
    """One livestream's latest snapshot, kept fresh while someone watches."""

    def __init__(
        self, livestream_id: int, bus: Bus, compute: Compute, interval: float, timer: Callable[[], float], sleep: Sleep
    ) -> None:
        self.livestream_id, self.bus, self.compute = livestream_id, bus, compute
        self.interval, self.timer, self.sleep = interval, timer, sleep
        self.latest: Snapshot | None = None
        self.watchers = 0
        self.idle = asyncio.Event()  # set while it waits for news (tests wait on it rather than sleeping)
        self._news = asyncio.Event()
        self._published = asyncio.Event()
        self._task: asyncio.Task | None = None

    @property
    def topics(self) -> tuple[str, ...]:
        return livestream_bookings_topic(self.livestream_id), ALL_ORDERS_TOPIC, LEDGER_TOPIC

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"live board {self.livestream_id}")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def stopped(self) -> None:
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def next_after(self, sequence: int) -> Snapshot:
        """The latest snapshot once it is newer than ``sequence``."""
        while self.latest is None or self.latest.sequence <= sequence:
            await self._published.wait()
        return self.latest

    async def _run(self) -> None:
        async with contextlib.AsyncExitStack() as stack:
            listeners = []
            for topic in self.topics:  # listening before the first computation: no news is missed
                messages = await stack.enter_async_context(self.bus.subscribe(topic))
                listeners.append(asyncio.create_task(self._note_news(topic, messages)))
            try:
                await self._refresh_while_news_comes()
            finally:
                for listener in listeners:
                    listener.cancel()

    async def _note_news(self, topic: str, messages: AsyncIterator[dict[str, Any]]) -> None:
        async for message in messages:
            if moves_figures(self.livestream_id, topic, message):
                self._news.set()

    async def _refresh_while_news_comes(self) -> None:
        while True:
            started = self.timer()
            self._news.clear()
            await self._refresh()
            self.idle.set()
            await self._news.wait()
            self.idle.clear()
            await self.sleep(max(0.0, started + self.interval - self.timer()))

    async def _refresh(self) -> None:
        try:
            figures = await self.compute(self.livestream_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("live board of livestream %s: figures failed; retrying", self.livestream_id)
            self._news.set()
            return
        self.latest = Snapshot((self.latest.sequence if self.latest else 0) + 1, figures)
        published, self._published = self._published, asyncio.Event()
        published.set()


class LiveBoards:
    """This process's boards, by livestream id, each while it has subscribers."""

    def __init__(
        self,
        bus: Bus,
        compute: Compute,
        interval: float = SNAPSHOT_INTERVAL,
        timer: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.bus, self.compute, self.interval, self.timer, self.sleep = bus, compute, interval, timer, sleep
        self.boards: dict[int, Board] = {}

    @contextlib.asynccontextmanager
    async def watch(self, livestream_id: int) -> AsyncIterator[Board]:
        """The livestream's board while the caller watches (started by the first, stopped after the last)."""
        board = self.boards.get(livestream_id)
        if board is None:
            board = Board(livestream_id, self.bus, self.compute, self.interval, self.timer, self.sleep)
            self.boards[livestream_id] = board
            board.start()
        board.watchers += 1
        try:
            yield board
        finally:
            board.watchers -= 1
            if board.watchers == 0 and self.boards.get(livestream_id) is board:
                del self.boards[livestream_id]
                board.stop()

    async def close(self) -> None:
        """Stop every board (the app is shutting down)."""
        boards, self.boards = list(self.boards.values()), {}
        for board in boards:
            board.stop()
        await asyncio.gather(*(board.stopped() for board in boards))


def figures_reader(open_session: Callable[[], Any], clock: Clock) -> Compute:
    """Compute for the boards: a livestream's figures as of now, in a session of their own."""

    async def compute(livestream_id: int) -> LiveFigures:
        async with open_session() as session:
            return await livestream_figures(session, livestream_id, clock.now())

    return compute

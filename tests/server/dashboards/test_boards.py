"""Live boards without a database: snapshots shared, throttled to one per interval while news comes, none while
idle, and gone with the last watcher. Time is virtual: the board's sleeps move it, nothing sleeps for real."""

from __future__ import annotations

import asyncio

from server.bus import InProcessBus
from server.domains.bookings.topics import livestream_bookings_topic
from server.domains.dashboards.boards import Board, LiveBoards
from server.domains.ledger.topics import LEDGER_TOPIC
from server.domains.orders.topics import ALL_ORDERS_TOPIC

LIVESTREAM = 7
NEWS = livestream_bookings_topic(LIVESTREAM)


class VirtualTime:
    def __init__(self) -> None:
        self.now = 0.0
        self._moved = asyncio.Event()

    def timer(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Returns once the test has moved the time past ``seconds`` from now."""
        deadline = self.now + seconds
        while self.now < deadline:
            await self._moved.wait()

    async def pass_(self, seconds: float, step: float = 0.05) -> None:
        """Move the time on in small steps, letting every task run at each."""
        for _ in range(round(seconds / step)):
            self.now += step
            moved, self._moved = self._moved, asyncio.Event()
            moved.set()
            await settle()


class CountingFigures:
    """Stands in for the figures: records the virtual moment of each computation."""

    def __init__(self, time: VirtualTime, failures: int = 0) -> None:
        self.time, self.failures, self.moments = time, failures, []

    async def __call__(self, livestream_id: int):
        if self.failures:
            self.failures -= 1
            raise RuntimeError("database away")
        self.moments.append(self.time.now)
        return {"livestream": livestream_id, "computation": len(self.moments)}


def boards_for(figures: CountingFigures, bus: InProcessBus) -> LiveBoards:
    return LiveBoards(bus, figures, interval=0.5, timer=figures.time.timer, sleep=figures.time.sleep)


async def settle() -> None:
    """Let every ready task run (listeners, the board) until none has work left."""
    for _ in range(50):
        await asyncio.sleep(0)


async def idle(board: Board, time: VirtualTime) -> None:
    """Move the time on until the board waits for news (its throttle may hold a computation back)."""
    await settle()
    for _ in range(100):
        if board.idle.is_set():
            return
        await time.pass_(0.1)
    raise AssertionError("the board never went idle")


async def test_the_first_snapshot_comes_at_once_and_none_while_nothing_happens():
    time, bus = VirtualTime(), InProcessBus()
    figures = CountingFigures(time)
    async with boards_for(figures, bus).watch(LIVESTREAM) as board:
        first = await asyncio.wait_for(board.next_after(0), timeout=5)
        await idle(board, time)
        await time.pass_(3600, step=60)  # an hour without news
    assert (first.sequence, first.figures) == (1, {"livestream": LIVESTREAM, "computation": 1})
    assert figures.moments == [0.0]


async def test_a_burst_of_news_gives_at_most_one_snapshot_per_interval():
    time, bus = VirtualTime(), InProcessBus()
    figures = CountingFigures(time)
    async with boards_for(figures, bus).watch(LIVESTREAM) as board:
        await board.next_after(0)
        for _ in range(40):  # 400 bookings over 2 virtual seconds
            for _ in range(10):
                await bus.publish(NEWS, {"event": "BOOKED"})
            await time.pass_(0.05)
        await idle(board, time)
        computed = len(figures.moments)
        await time.pass_(60, step=1)
    gaps = [later - earlier for earlier, later in zip(figures.moments, figures.moments[1:], strict=False)]
    assert all(gap >= 0.5 for gap in gaps), gaps
    assert 3 <= computed <= 6  # 2 s of news at 2 a second, plus the first: not 400
    assert len(figures.moments) == computed  # nothing more once the news stopped


async def test_watchers_share_one_board_and_the_last_one_out_stops_it():
    time, bus = VirtualTime(), InProcessBus()
    figures = CountingFigures(time)
    boards = boards_for(figures, bus)
    async with boards.watch(LIVESTREAM) as one, boards.watch(LIVESTREAM) as two:
        assert one is two and one.watchers == 2
        snapshots = [await board.next_after(0) for board in (one, two)]
        await idle(one, time)
        assert [bus.subscribers(t) for t in (NEWS, ALL_ORDERS_TOPIC, LEDGER_TOPIC)] == [1, 1, 1]
    assert snapshots[0] is snapshots[1] and figures.moments == [0.0]
    await settle()
    assert boards.boards == {}
    assert [bus.subscribers(t) for t in (NEWS, ALL_ORDERS_TOPIC, LEDGER_TOPIC)] == [0, 0, 0]


async def test_only_sales_of_booked_visits_and_the_livestreams_credits_wake_a_board():
    time, bus = VirtualTime(), InProcessBus()
    figures = CountingFigures(time)
    async with boards_for(figures, bus).watch(LIVESTREAM) as board:
        await board.next_after(0)
        await idle(board, time)
        for message in (
            {"event": "CREATED", "bookingId": 3},
            {"event": "PAID", "bookingId": None},  # a sale outside any booking
            {"event": "SHIPPED", "orderId": 5},
        ):
            await bus.publish(ALL_ORDERS_TOPIC, message)
        await bus.publish(livestream_bookings_topic(LIVESTREAM + 1), {"event": "BOOKED"})  # another livestream
        await bus.publish(LEDGER_TOPIC, {"event": "ACCRUAL", "livestreamId": LIVESTREAM + 1})
        await bus.publish(LEDGER_TOPIC, {"event": "PERIOD_CLOSED", "period": "2026-11"})
        await idle(board, time)
        quiet = len(figures.moments)
        await bus.publish(ALL_ORDERS_TOPIC, {"event": "PAID", "bookingId": 3})
        await idle(board, time)
        await bus.publish(ALL_ORDERS_TOPIC, {"event": "REFUNDED", "orderId": 9})  # refunds name no booking
        await idle(board, time)
        await bus.publish(LEDGER_TOPIC, {"event": "ACCRUAL", "livestreamId": LIVESTREAM})
        await idle(board, time)
    assert quiet == 1 and len(figures.moments) == 4


async def test_a_failed_computation_is_retried_and_the_watcher_still_gets_its_snapshot():
    time, bus = VirtualTime(), InProcessBus()
    figures = CountingFigures(time, failures=2)
    async with boards_for(figures, bus).watch(LIVESTREAM) as board:
        waiting = asyncio.create_task(board.next_after(0))
        await time.pass_(2)
        snapshot = await asyncio.wait_for(waiting, timeout=5)
    assert snapshot.sequence == 1 and len(figures.moments) == 1
    assert 1.0 <= figures.moments[0] < 1.2  # after two retries, 0.5 s apart


async def test_closing_stops_every_board():
    time, bus = VirtualTime(), InProcessBus()
    boards = boards_for(CountingFigures(time), bus)
    async with boards.watch(LIVESTREAM) as board:
        await board.next_after(0)
        await boards.close()
        assert boards.boards == {} and bus.subscribers(NEWS) == 0

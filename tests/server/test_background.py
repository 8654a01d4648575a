"""Background loops stop between units of work: a job's transaction is finished, never cut in two."""

from __future__ import annotations

import asyncio

from server.background import BackgroundLoop
from server.scheduler import Job, Scheduler


async def test_the_scheduler_stops_after_the_job_in_hand(db, clock):
    entered, release, finished = asyncio.Event(), asyncio.Event(), []

    async def slow_job(session, now) -> int:
        entered.set()
        await release.wait()
        finished.append(now)
        return 1

    scheduler = Scheduler(db, clock, [Job("slow", 3600, slow_job)])
    scheduler.start()
    await asyncio.wait_for(entered.wait(), 10)
    closing = asyncio.create_task(scheduler.close())
    await asyncio.sleep(0.1)
    assert not closing.done()
    release.set()
    await asyncio.wait_for(closing, 10)
    assert len(finished) == 1


async def test_an_idle_scheduler_stops_at_once(db, clock):
    scheduler = Scheduler(db, clock, [])
    scheduler.start()
    await asyncio.sleep(0.05)
    await asyncio.wait_for(scheduler.close(), 2)


async def test_a_loop_overrunning_its_grace_is_cancelled():
    loop, cancelled = BackgroundLoop("stuck"), asyncio.Event()

    async def stuck() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    loop.start(stuck)
    await asyncio.sleep(0)
    await asyncio.wait_for(loop.stop(grace=0.1), 5)
    assert cancelled.is_set()

"""A process's background loops (the outbox relay, the job scheduler), stopped between units of work.

Cancelling such a loop mid-transaction cut it in two: on SQLite the cancelled connection could
keep its write lock until the garbage collector found it, and the next writer waited out its
30 s busy timeout ("database is locked"). Asked to stop, a loop finishes the unit in hand and
returns; only one that overruns the grace period is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

logger = logging.getLogger("irs.background")
STOP_GRACE_SECONDS = 10.0


class BackgroundLoop:
    def __init__(self, name: str) -> None:
        self.name = name
        self._stopping = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self, run: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._task = asyncio.create_task(run(), name=self.name)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or less if asked to stop meanwhile."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Ask the loop to stop and wait for it; cancel it if it is still busy after ``grace`` seconds."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is None:
            return
        done, _ = await asyncio.wait([task], timeout=grace)
        if not done:
            logger.warning("%s did not stop within %s s; cancelling it", self.name, grace)
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

"""The transaction rule: a public use case owns its transaction; helpers never commit.

A use case (a service function a caller runs to change something: book a
visit, check her in, rotate a key) is marked with :func:`use_case`, or wraps
its body in :func:`unit_of_work`. On success the outermost unit of work
commits; on an exception it rolls back, so a refused request writes nothing.
A use case that runs another joins it: the inner one neither commits nor rolls
back, and the outer one decides for both. Everything else that writes (a
helper, a hook handler, a job's step) adds to the caller's unit of work and
never commits.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Concatenate, ParamSpec, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from .at_commit import write_queued
from .prepared import commit

_DEPTH = "irs_unit_of_work_depth"
P = ParamSpec("P")
R = TypeVar("R")


@asynccontextmanager
async def unit_of_work(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """Commit what the block wrote when it succeeds, roll it back when it raises; inside another
    unit of work, join it."""
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        yield session
        if depth == 0:
            await write_queued(session)  # the outbox's messages among them
            await commit(session)
    except asyncio.CancelledError:
        raise  # the session's owner discards a cancelled session; a rollback would wait on it
    except BaseException:
        if depth == 0:
            await session.rollback()
        raise
    finally:
        session.info[_DEPTH] = depth


def use_case(
    run: Callable[Concatenate[AsyncSession, P], Awaitable[R]],
) -> Callable[Concatenate[AsyncSession, P], Awaitable[R]]:
    """Run the decorated service function (its first argument is the session) as a unit of work."""

    @functools.wraps(run)
    async def in_unit_of_work(session: AsyncSession, *args: P.args, **kwargs: P.kwargs) -> R:
        async with unit_of_work(session):
            return await run(session, *args, **kwargs)

    return in_unit_of_work

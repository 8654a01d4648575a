"""SharedLiveReads: the reads of subscriptions woken together go in one batch, and a batch that fails is read
again key by key, so a failure ends only the subscriptions it concerns."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from server.api.live import SharedLiveReads


class Reads:
    """A read by key that records its batches; ``failing`` keys make any batch holding them fail."""

    def __init__(self, failing: frozenset = frozenset()) -> None:
        self.batches: list[list] = []
        self.sessions = 0
        self.failing = failing

    @contextlib.asynccontextmanager
    async def session(self):
        self.sessions += 1
        yield None

    async def read(self, _session, keys):
        self.batches.append(list(keys))
        if self.failing & set(keys):
            raise ConnectionError("the database went away")
        return {key: f"row {key}" for key in keys if key != 404}


async def test_keys_asked_in_one_turn_are_read_in_one_batch_and_session():
    reads = Reads()
    shared = SharedLiveReads(reads.session)
    found = await asyncio.gather(*(shared.load(reads.read, key) for key in (1, 2, 2, 404)))
    assert found == ["row 1", "row 2", "row 2", None]
    assert reads.batches == [[1, 2, 2, 404]] and reads.sessions == 1


async def test_nothing_is_kept_between_turns():
    reads = Reads()
    shared = SharedLiveReads(reads.session)
    assert await shared.load(reads.read, 1) == "row 1"
    assert await shared.load(reads.read, 1) == "row 1"
    assert reads.batches == [[1], [1]]


async def test_a_failing_batch_fails_only_the_keys_that_fail_alone():
    reads = Reads(failing=frozenset({2}))
    shared = SharedLiveReads(reads.session)
    first, second, third = await asyncio.gather(
        *(shared.load(reads.read, key) for key in (1, 2, 3)), return_exceptions=True
    )
    assert (first, third) == ("row 1", "row 3")
    assert isinstance(second, ConnectionError)
    assert reads.batches == [[1, 2, 3], [1], [2], [3]]


async def test_a_key_read_alone_that_fails_raises_to_its_subscription():
    reads = Reads(failing=frozenset({7}))
    shared = SharedLiveReads(reads.session)
    with pytest.raises(ConnectionError):
        await shared.load(reads.read, 7)
    assert reads.batches == [[7]]


async def test_a_subscription_gone_while_its_read_waits_leaves_the_others_theirs():
    reads = Reads()
    shared = SharedLiveReads(reads.session)
    gone = asyncio.ensure_future(shared.load(reads.read, 1))
    staying = asyncio.ensure_future(shared.load(reads.read, 2))
    gone.cancel()
    assert await staying == "row 2"
    assert gone.cancelled()


async def test_a_batch_holds_at_most_max_batch_keys():
    reads = Reads()
    shared = SharedLiveReads(reads.session)
    keys = list(range(1, SharedLiveReads.MAX_BATCH + 2))
    assert await asyncio.gather(*(shared.load(reads.read, key) for key in keys)) == [f"row {k}" for k in keys]
    assert [len(batch) for batch in reads.batches] == [SharedLiveReads.MAX_BATCH, 1]

"""A server that answers 5xx, never answers, or drops the connection mid-answer: the guide reads a clear
Chinese message, nothing crashes, and a tap repeated while the first is out sends nothing twice."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import pytest
import uvicorn

from guide_app.api.client import GuideApi, RetryPolicy
from guide_app.api.tokens import MemoryTokenStore, Tokens
from guide_app.presenters.inbox import InboxPresenter
from guide_app.presenters.notifier import RecordingNotifier
from tests.live_server import free_port

OFFLINE = "无法连接服务器，请检查网络后重试。"


class HostileServer:
    """Answers every request as ``mode`` says: "500", "hang" (never answers) or "drop" (closes mid-answer)."""

    def __init__(self) -> None:
        self.mode = "500"
        self.requests = 0
        self.port = free_port()
        self._server: uvicorn.Server | None = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        self.requests += 1
        if self.mode == "hang":
            await asyncio.sleep(3600)
        if self.mode == "500":
            body = b'{"errors": [{"message": "Internal Server Error"}]}'
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]})
        await send({"type": "http.response.body", "body": b'{"data": {"myTaskL', "more_body": True})
        raise ConnectionResetError("dropped mid-answer")

    async def start(self) -> None:
        config = uvicorn.Config(self, host="127.0.0.1", port=self.port, log_level="critical", lifespan="on")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._server.should_exit = self._server.force_exit = True  # a hanging request is not waited for
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@pytest.fixture
async def hostile():
    server = HostileServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def inbox(hostile):
    now = datetime.now(UTC)
    signed_in = Tokens("access", now + timedelta(hours=1), "refresh", now + timedelta(days=30), {"displayName": "G"})
    api = GuideApi(
        f"http://127.0.0.1:{hostile.port}", MemoryTokenStore(signed_in), retry=RetryPolicy(attempts=1), timeout=0.5
    )
    presenter = InboxPresenter(api, RecordingNotifier(), on_session_expired=_never)
    yield presenter
    await api.close()


async def _never() -> None:
    raise AssertionError("the session did not expire")


async def test_a_5xx_says_the_server_had_a_problem(hostile, inbox):
    hostile.mode = "500"
    await inbox.refresh()
    assert inbox.message.startswith("服务器出现问题") and inbox.tasks == {} and not inbox.offline


@pytest.mark.parametrize("mode", ["hang", "drop"])
async def test_no_answer_or_a_dropped_answer_reads_as_offline(hostile, inbox, mode):
    hostile.mode = mode
    await inbox.refresh()
    assert inbox.message == OFFLINE and inbox.offline


async def test_a_second_tap_while_the_first_is_out_sends_nothing(hostile, inbox):
    hostile.mode = "hang"
    first = asyncio.ensure_future(inbox.acknowledge("VGFzazox"))
    await asyncio.sleep(0.1)
    assert await inbox.acknowledge("VGFzazox") is False  # the guide tapped again
    assert await first is False and inbox.message == OFFLINE
    assert hostile.requests == 1


async def test_an_answer_that_never_comes_is_asked_again_then_reads_as_offline(hostile):
    """The app's one deadline (the whole answer) ends a hung request like a dropped one: asked again, then offline
    with the spinner gone, never an unexpected failure that leaves the inbox busy."""
    hostile.mode = "hang"
    now = datetime.now(UTC)
    signed_in = Tokens("access", now + timedelta(hours=1), "refresh", now + timedelta(days=30), {"displayName": "G"})
    api = GuideApi(
        f"http://127.0.0.1:{hostile.port}",
        MemoryTokenStore(signed_in),
        retry=RetryPolicy(attempts=2, first_delay=0.01),
        timeout=0.3,
    )
    inbox = InboxPresenter(api, RecordingNotifier(), on_session_expired=_never)
    try:
        await inbox.refresh()
    finally:
        await api.close()
    assert inbox.message == OFFLINE and inbox.offline and not inbox.busy
    assert hostile.requests == 2

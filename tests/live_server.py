"""The IRS app on a real uvicorn server on a free port: for WebSocket tests and the guide app's tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time

import httpx
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from server.app import create_app
from tests.conftest import make_settings

STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    """``stop()`` then ``start()`` again keeps the port: a replica that restarts at the same address."""

    def __init__(
        self, url: str, tmp_root, clock, port: int | None = None, timer=time.monotonic, **settings_overrides
    ) -> None:
        self.url, self.tmp_root, self.clock, self.timer = url, tmp_root, clock, timer
        self.port = port or free_port()
        self.settings_overrides = settings_overrides
        self.app = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task | None = None

    @property
    def address(self) -> str:
        """host:port"""
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.address}"

    async def start(self) -> None:
        self.app = create_app(
            make_settings(self.url, self.tmp_root, **self.settings_overrides), clock=self.clock, timer=self.timer
        )
        self._server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        )
        self._task = asyncio.create_task(self._server.serve())
        # Generous: a machine under load (CI beside other work) may take seconds to start one.
        async with asyncio.timeout(STARTUP_SECONDS):
            while not self._server.started:
                if self._task.done():
                    self._task.result()  # it failed to start: raise why
                    raise AssertionError("uvicorn stopped before it started")
                await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            await self._task
            self._server = None

    def listening(self, topic: str) -> bool:
        """Whether a subscription of this server holds ``topic`` (so a test need not sleep)."""
        return self.app is not None and self.app.state.runtime.bus.subscribers(topic) > 0

    async def graphql(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        return await call_graphql(self.address, query, variables, token)


CALL_SECONDS = 30  # as long as a test waits for a subscription's next payload


async def call_graphql(address: str, query: str, variables: dict | None = None, token: str | None = None) -> dict:
    """One call to any server at host:port (a LiveServer, or an `irs serve` process); its data."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    # httpx's default 5 s read timeout: a sign-in (argon2) on a loaded 2-core machine has taken longer in CI.
    async with httpx.AsyncClient(base_url=f"http://{address}", timeout=CALL_SECONDS) as client:
        response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


@contextlib.asynccontextmanager
async def graphql_socket(address: str, token: str):
    """A raw graphql-transport-ws connection, acknowledged (to see exactly how the server closes it)."""
    async with connect(f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"]) as socket_:
        await socket_.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        assert json.loads(await socket_.recv())["type"] == "connection_ack"
        yield socket_


async def subscribe(socket_: ClientConnection, query: str, variables: dict | None = None, id_: str = "1") -> None:
    await socket_.send(
        json.dumps({"id": id_, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})
    )


async def next_payload(socket_: ClientConnection, timeout: float = 10) -> dict:
    """The next ``next`` message's payload (data and errors)."""
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await socket_.recv())
            if message["type"] == "next":
                return message["payload"]
            assert message["type"] in ("ping", "pong"), message


async def still_open(socket_: ClientConnection) -> bool:
    """Whether the server still answers a protocol ping."""
    try:
        await socket_.send(json.dumps({"type": "ping"}))
        async with asyncio.timeout(5):
            while json.loads(await socket_.recv())["type"] != "pong":
                pass
    except ConnectionClosed:
        return False
    return True


async def close_of(socket_: ClientConnection, within: float) -> tuple[int | None, str | None]:
    """Wait for the server to close the socket: (close code, reason); AssertionError if it stays open."""
    try:
        async with asyncio.timeout(within):
            while True:
                await socket_.recv()
    except ConnectionClosed:
        return socket_.close_code, socket_.close_reason
    except TimeoutError:
        raise AssertionError(f"the socket is still open after {within} s") from None

"""The payment sandbox on a real uvicorn server on a free port, with a merchant's notification endpoint
beside it, and the two real adapters pointed at it. No database."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from server.domains.payments.providers import (
    AlipayProvider,
    ChargeStatus,
    InvalidNotification,
    PaymentProvider,
    WeChatPayProvider,
)
from server.domains.payments.providers.sandbox import PaymentSandbox, SandboxKeys


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Vendors:
    """The running sandbox, the adapters speaking to it, and what the merchant endpoint received."""

    keys: SandboxKeys
    sandbox: PaymentSandbox
    base_url: str
    wechat: WeChatPayProvider
    alipay: AlipayProvider
    received: list[tuple[str, ChargeStatus | InvalidNotification]] = field(default_factory=list)

    def provider(self, name: str) -> PaymentProvider:
        return {"wechat_pay": self.wechat, "alipay": self.alipay}[name]

    def notify_url(self, name: str) -> str:
        return f"{self.base_url}/merchant/notify/{name}"


@pytest.fixture(scope="module")
def keys() -> SandboxKeys:
    return SandboxKeys.generate()  # four RSA keys: once per module


@pytest.fixture(scope="module")
def other_keys() -> SandboxKeys:
    """Keys of nobody involved: a stranger's signatures."""
    return SandboxKeys.generate()


@pytest.fixture(scope="module")
async def vendors(keys) -> AsyncIterator[Vendors]:
    sandbox = PaymentSandbox(keys)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    vendors = Vendors(
        keys=keys,
        sandbox=sandbox,
        base_url=base_url,
        wechat=WeChatPayProvider(**keys.wechat_pay_arguments(base_url)),
        alipay=AlipayProvider(**keys.alipay_arguments(base_url)),
    )

    async def notify(request: Request) -> Response:
        """A merchant's notification endpoint: verify with the adapter, answer as the vendor expects."""
        name = request.path_params["provider"]
        provider = vendors.provider(name)
        try:
            outcome: ChargeStatus | InvalidNotification = await provider.parse_notification(
                request.headers, await request.body()
            )
        except InvalidNotification as error:
            outcome = error
        vendors.received.append((name, outcome))
        status, body, content_type = provider.notification_ack(isinstance(outcome, ChargeStatus))
        return Response(body, status, media_type=content_type)

    app = Starlette(
        routes=[Route("/merchant/notify/{provider}", notify, methods=["POST"]), Mount("/", app=sandbox.app)]
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(30):
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
    yield vendors
    server.should_exit = True
    await task

"""Shops for order tests: the world's stores stocked, a signed-in customer, and (for QR payments) the payment
sandbox on a real uvicorn server with the app's real adapters pointed at it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import uvicorn

from server.clock import utcnow
from server.domains.inventory import levels
from server.domains.inventory.models import MovementReason
from server.domains.payments.providers.sandbox import PaymentSandbox, SandboxKeys
from tests.live_server import free_port
from tests.server.bookings.helpers import customer


@dataclass
class Sandbox:
    sandbox: PaymentSandbox
    base_url: str
    keys_dir: str


@pytest.fixture(scope="module")
def sandbox_keys(tmp_path_factory) -> tuple[SandboxKeys, str]:
    directory = tmp_path_factory.mktemp("sandbox-pay")
    keys = SandboxKeys.generate()
    keys.save(directory)
    return keys, str(directory)


@pytest.fixture(scope="module")
async def vendor(sandbox_keys) -> AsyncIterator[Sandbox]:
    keys, directory = sandbox_keys
    sandbox = PaymentSandbox(keys)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(sandbox.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(30):
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
    yield Sandbox(sandbox, f"http://127.0.0.1:{port}", directory)
    server.should_exit = True
    await task


@pytest.fixture
async def shop(app_factory, vendor):
    """The app with WeChat Pay and Alipay going to the sandbox."""
    return await app_factory(
        payments_sandbox=True,
        payments_sandbox_url=vendor.base_url,
        payments_sandbox_keys_dir=vendor.keys_dir,
        public_url="http://127.0.0.1:9",  # notifications the sandbox sends by itself go nowhere: tests post them
    )


async def stock(db, world, units: int, sku: str = "sku:serum", location: str = "loc:shanghai") -> None:
    async with db.writer() as session:
        origin = levels.Origin("test", "test", utcnow())
        await levels.add(session, world.ids[location], world.ids[sku], units, MovementReason.RECEIPT, origin)
        await session.commit()


@pytest.fixture
async def shopper(api):
    """A customer who signed in by SMS: (token, Customer global id)."""
    return await customer(api, "13900000001")

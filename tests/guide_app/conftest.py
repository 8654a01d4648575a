"""The guide app against the real server: uvicorn on a free port, on SQLite, with the tests' world.

The server can be stopped and started again on the same port, as a phone sees a server (or its
network) go away mid-shift.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest

from guide_app.api.client import GuideApi, RetryPolicy
from guide_app.api.live import Backoff
from guide_app.api.tokens import MemoryTokenStore
from guide_app.i18n import use_language
from guide_app.presenters.notifier import RecordingNotifier
from guide_app.presenters.session import SessionPresenter
from server import migrate
from server.db import Database
from server.domains.tasks.topics import staff_topic
from tests.conftest import FrozenClock, empty_tables
from tests.live_server import LiveServer
from tests.server.bookings.helpers import BOOK, SHANGHAI, booking_input, give_shifts, next_local
from tests.world import PASSWORD, build_world

MONDAY = 0
QUICK_RETRY = RetryPolicy(attempts=2, first_delay=0.05)
QUICK_BACKOFF = Backoff(first=0.05, maximum=0.3)


@pytest.fixture
def clock() -> FrozenClock:
    """A Monday, 14:20 in Shanghai: customers book this afternoon's slots, and the guide can check in
    the 15:00 one (check-in opens an hour before the slot)."""
    return FrozenClock(next_local(FrozenClock(), MONDAY, 14, 20))


def this_afternoon(clock, hour: int) -> datetime:
    return datetime.combine(clock.now().astimezone(SHANGHAI).date(), time(hour), SHANGHAI).astimezone(UTC)


@pytest.fixture(scope="session")
async def guide_database(tmp_root):
    """One migrated SQLite database for the guide app's tests (the server's own tests cover PostgreSQL)."""
    url = f"sqlite+aiosqlite:///{tmp_root / 'guide_app.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    database = Database.connect(url)
    yield database
    await database.dispose()


@pytest.fixture
async def world(guide_database):
    await empty_tables(guide_database)
    built = await build_world(guide_database)
    await give_shifts(guide_database, built, "sh.guide")
    return built


@pytest.fixture
async def start_server(guide_database, tmp_root, clock):
    started: list[LiveServer] = []

    async def start(port: int | None = None, **settings) -> LiveServer:
        url = guide_database.engine.url.render_as_string(hide_password=False)
        server = LiveServer(url, tmp_root, clock, port, **settings)
        await server.start()
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        await server.stop()


@pytest.fixture
async def server(start_server, world) -> LiveServer:
    return await start_server()


@pytest.fixture(autouse=True)
def chinese():
    use_language("zh_CN")


@pytest.fixture
async def make_session(clock):
    sessions: list[SessionPresenter] = []

    async def make(server_url: str, store=None) -> SessionPresenter:
        api = GuideApi(server_url, store or MemoryTokenStore(), clock=clock.now, retry=QUICK_RETRY)
        session = SessionPresenter(api, RecordingNotifier(), clock=clock.now, backoff=QUICK_BACKOFF)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        await session.inbox.stop()
        await session.api.close()


async def eventually(condition: Callable[[], bool], timeout: float = 10.0, what: str = "the condition") -> None:
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{what} did not happen within {timeout} s")


async def signed_in_guide(session: SessionPresenter, server: LiveServer, world, username: str = "sh.guide") -> None:
    """Sign in through the sign-in presenter, then wait until the server holds her myTasks socket."""
    session.signin.edit(username=username, password=PASSWORD)
    assert await session.signin.sign_in(), session.signin.message
    await eventually(lambda: server.listening(staff_topic(world.ids[username])), what="the myTasks subscription")


# --- the customer's side, through the same API a mini-program uses ---------------------------------

CUSTOMER_LOGIN = """mutation($phone: String!) { customerLogin(input: {phone: $phone, smsCode: "000000"}) {
  session { accessToken } errors { code } } }"""
STAFF_LOGIN = """mutation($u: String!, $p: String!) { staffLogin(username: $u, password: $p) {
  session { accessToken } errors { code } } }"""
LIVESTREAM_CREATE = """mutation($input: LivestreamCreateInput!) { livestreamCreate(input: $input) {
  livestream { id } errors { code message } } }"""
QR = "query($id: ID!) { node(id: $id) { ... on Booking { qrToken } } }"


@dataclass
class Booked:
    booking_id: str
    customer_token: str

    async def qr_token(self, server: LiveServer) -> str:
        return (await server.graphql(QR, {"id": self.booking_id}, self.customer_token))["node"]["qrToken"]


async def livestream(server: LiveServer, world, clock) -> str:
    admin = (await server.graphql(STAFF_LOGIN, {"u": "admin", "p": PASSWORD}))["staffLogin"]["session"]
    start = clock.now().replace(microsecond=0)
    payload = (
        await server.graphql(
            LIVESTREAM_CREATE,
            {
                "input": {
                    "title": "双十一美妆专场",
                    "hostName": "小美",
                    "teamId": world.gid("Team", "team"),
                    "channel": "DOUYIN",
                    "scheduledStart": start.isoformat(),
                    "scheduledEnd": (start + timedelta(hours=2)).isoformat(),
                    "talkingPoints": ["精华买一送一", "唇膏限量色"],
                    "productIds": [world.gid("Product", "serum"), world.gid("Product", "lipstick")],
                }
            },
            admin["accessToken"],
        )
    )["livestreamCreate"]
    assert payload["errors"] == [], payload
    return payload["livestream"]["id"]


async def customer_books(
    server: LiveServer,
    world,
    clock,
    *,
    phone: str = "13812345678",
    hour: int = 15,
    livestream_id: str | None = None,
    note: str = "",
) -> Booked:
    token = (await server.graphql(CUSTOMER_LOGIN, {"phone": phone}))["customerLogin"]["session"]["accessToken"]
    extra = {"livestreamId": livestream_id, "productIds": [world.gid("Product", "serum")]} if livestream_id else {}
    if note:
        extra["note"] = note
    payload = (
        await server.graphql(BOOK, {"input": booking_input(world, this_afternoon(clock, hour), **extra)}, token)
    )["bookingCreate"]
    assert payload["errors"] == [], payload
    return Booked(payload["booking"]["id"], token)


# --- selling: stock, coupons, and the payment providers' sandbox ------------------------------------


async def stock(database, world, units: int, sku: str = "sku:serum", location: str = "loc:shanghai") -> None:
    """Units received at a location (a store's, or the warehouse ``warehouse``), as a manager's RECEIPT."""
    from server.clock import utcnow
    from server.domains.inventory import levels
    from server.domains.inventory.models import MovementReason

    async with database.writer() as session:
        origin = levels.Origin("test", "test", utcnow())
        await levels.add(session, world.ids[location], world.ids[sku], units, MovementReason.RECEIPT, origin)
        await session.commit()


CAMPAIGN_CREATE = """mutation($input: CouponCampaignCreateInput!) { couponCampaignCreate(input: $input) {
  campaign { id } errors { code message } } }"""
COUPON_CLAIM = """mutation($input: CouponClaimInput!) { couponClaim(input: $input) {
  coupon { code qrToken } errors { code message } } }"""


async def claimed_coupon(server: LiveServer, clock, livestream_id: str, customer_token: str, **discount) -> dict:
    """A ¥20-off campaign of the livestream (or ``discount``), and one coupon of it claimed by the customer:
    {code, qrToken}."""
    admin = (await server.graphql(STAFF_LOGIN, {"u": "admin", "p": PASSWORD}))["staffLogin"]["session"]
    now = clock.now().replace(microsecond=0)
    campaign = {
        "name": "直播专享立减 20 元",
        "livestreamId": livestream_id,
        "discount": discount or {"kind": "FIXED", "amountOff": {"amount": 2000, "currency": "CNY"}},
        "validFrom": now.isoformat(),
        "validUntil": (now + timedelta(days=7)).isoformat(),
        "totalStock": 100,
    }
    made = (await server.graphql(CAMPAIGN_CREATE, {"input": campaign}, admin["accessToken"]))["couponCampaignCreate"]
    assert made["errors"] == [], made
    claimed = (await server.graphql(COUPON_CLAIM, {"input": {"campaignId": made["campaign"]["id"]}}, customer_token))[
        "couponClaim"
    ]
    assert claimed["errors"] == [], claimed
    return claimed["coupon"]


@dataclass
class Vendor:
    """The payment sandbox (WeChat Pay API v3 and the Alipay gateway, as the vendors speak them)."""

    sandbox: object  # server.domains.payments.providers.sandbox.PaymentSandbox
    base_url: str
    keys_dir: str

    def charges(self, provider: str) -> list[str]:
        """The out_trade_no of every charge made with the provider (wechat_pay, alipay), oldest first."""
        return [number for (name, number) in self.sandbox.charges if name == provider]


@pytest.fixture(scope="session")
async def vendor(tmp_path_factory):
    import uvicorn

    from server.domains.payments.providers.sandbox import PaymentSandbox, SandboxKeys
    from tests.live_server import free_port

    directory = tmp_path_factory.mktemp("sandbox-pay")
    keys = SandboxKeys.generate()
    keys.save(directory)
    sandbox = PaymentSandbox(keys)
    port = free_port()
    served = uvicorn.Server(
        uvicorn.Config(sandbox.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(served.serve())
    async with asyncio.timeout(30):
        while not served.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
    yield Vendor(sandbox, f"http://127.0.0.1:{port}", str(directory))
    served.should_exit = True
    await task


@pytest.fixture
async def paying_server(start_server, world, vendor) -> LiveServer:
    """The server with WeChat Pay and Alipay going to the sandbox, whose notifications come back to it."""
    from tests.live_server import free_port

    port = free_port()
    return await start_server(
        port,
        payments_sandbox=True,
        payments_sandbox_url=vendor.base_url,
        payments_sandbox_keys_dir=vendor.keys_dir,
        public_url=f"http://127.0.0.1:{port}",
    )


# --- credited sales: a commission plan, cash sales through the API, the ledger drained ------------------


async def staff_token(server: LiveServer, username: str) -> str:
    return (await server.graphql(STAFF_LOGIN, {"u": username, "p": PASSWORD}))["staffLogin"]["session"]["accessToken"]


async def commission_plan(server: LiveServer, clock) -> None:
    """HQ's DEFAULT plan from now: every sale credited to its guide, 5 % commission."""
    from tests.server.ledger.helpers import PLAN_CREATE, plan_input

    admin = await staff_token(server, "admin")
    made = (await server.graphql(PLAN_CREATE, {"input": plan_input(clock)}, admin))["commissionPlanCreate"]
    assert made["errors"] == [], made


async def cash_sale(server: LiveServer, world, seller: str, units: int, phone: str = "13900000001") -> None:
    """``seller`` (a Shanghai staff member) sells ``units`` serums (¥890.00 each) to a customer for cash;
    the ledger credits the seller as the guide once it is drained (:func:`credit`)."""
    from tests.server.bookings.helpers import CUSTOMER_LOGIN as LOGIN_WITH_ID
    from tests.server.ledger.helpers import ORDER_CREATE, PAY

    customer_id = (await server.graphql(LOGIN_WITH_ID, {"phone": phone}))["customerLogin"]["session"]["viewer"]["id"]
    token = await staff_token(server, seller)
    given = {
        "storeId": world.gid("Store", "shanghai"),
        "customerId": customer_id,
        "lines": [{"skuId": world.gid("Sku", "sku:serum"), "quantity": units}],
    }
    created = (await server.graphql(ORDER_CREATE, {"input": given}, token))["orderCreate"]
    assert created["errors"] == [], created
    pay = {"orderId": created["order"]["id"], "method": "CASH"}
    paid = (await server.graphql(PAY, {"input": pay}, token))["orderPay"]
    assert paid["errors"] == [], paid


async def credit(server: LiveServer) -> int:
    """What the ledger's background consumer does seconds after a payment (the tests' servers run no
    scheduler): credit every paid order not credited yet."""
    return await server.app.state.ledger.drain()

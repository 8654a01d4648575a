"""A staff member's account, once confirmed, is kept a few seconds (IRS_ACCOUNT_CACHE_SECONDS) and forgotten on
every replica the moment her sessions end: a guide's every request need not re-read her account, and a
sign-out, a role change or a deactivation still takes effect within a second everywhere."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
import sqlalchemy as sa
from redis import asyncio as aioredis

from server.bus import InProcessBus
from server.domains.auth.confirmations import StaffConfirmations
from server.domains.common.actor import Actor, ActorKind, Role
from tests.conftest import REDIS_URL
from tests.live_server import call_graphql
from tests.server.assertions import Statements, account_confirmation
from tests.server.auth.test_live_revocation import DEACTIVATE, LOGOUT, MOVE, _revoke, _sign_in
from tests.server.live import CUSTOMER_LOGIN, serve, server_process
from tests.world import LOGIN, PASSWORD

ME = "{ me { displayName ... on StaffUser { role } } }"
WITHIN = 1.0  # seconds: how soon a revocation through one replica is obeyed by another


def AccountReads(api) -> Statements:
    """Counts the statements that confirm a token's holder (the only ones that ask about ended sessions)."""
    return Statements(api, account_confirmation)


class StepTimer:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _session(api, username: str) -> dict:
    answer = await api.data(LOGIN, {"u": username, "p": PASSWORD})
    return answer["staffLogin"]["session"]


def _code(body: dict) -> str | None:
    return body["errors"][0]["extensions"]["code"] if "errors" in body else None


async def test_a_guides_account_is_read_once_then_kept(api, world):
    token = (await _session(api, "sh.guide"))["accessToken"]
    with AccountReads(api) as reads:
        for _ in range(3):
            assert (await api.data(ME, token=token))["me"] == {"displayName": "Sh.Guide", "role": "GUIDE"}
    assert reads.count == 1


async def test_with_the_cache_off_every_operation_reads_the_account(app_factory, world):
    api = await app_factory(account_cache_seconds=0)
    token = (await _session(api, "sh.guide"))["accessToken"]
    with AccountReads(api) as reads:
        for _ in range(3):
            await api.data(ME, token=token)
    assert reads.count == 3


async def test_a_customer_is_confirmed_at_every_operation(api, world):
    """A merge or an erasure changes who a customer is without a revocation: she is never served from the cache."""
    token = (await api.data(CUSTOMER_LOGIN))["customerLogin"]["session"]["accessToken"]
    with AccountReads(api) as reads:
        for _ in range(3):
            await api.data("{ me { displayName } }", token=token)
    assert reads.count == 3


@pytest.mark.parametrize("case", ["logout everywhere", "made a guide", "deactivated"])
async def test_a_revocation_in_this_process_is_obeyed_at_once(api, world, case):
    member = "sh.manager"
    session = await _session(api, member)
    await api.data(ME, token=session["accessToken"])  # kept
    await _revoke_through(api, case, world, member, session)
    assert _code(await api(ME, token=session["accessToken"])) == "UNAUTHENTICATED"


async def test_only_staff_revocations_go_to_every_replicas_cache(api, world, db):
    """Customers are never kept: their sign-outs reach their own sockets only, not every replica's cache."""
    login = """mutation { customerLogin(input: {phone: "13812345678", smsCode: "000000"}) {
      session { refreshToken } } }"""
    customer = (await api.data(login))["customerLogin"]["session"]
    assert (await api.data(LOGOUT, {"t": customer["refreshToken"]}))["logout"]["revoked"]
    staff = await _session(api, "sh.guide")
    assert (await api.data(LOGOUT, {"t": staff["refreshToken"]}))["logout"]["revoked"]
    async with db.engine.connect() as connection:
        broadcast = (await connection.execute(sa.text("SELECT payload FROM outbox WHERE topic = 'accounts'"))).scalars()
        assert [json.loads(p) if isinstance(p, str) else p for p in broadcast] == [
            {"actorKey": f"staff:{world.ids['sh.guide']}", "sessionId": None}
        ]


async def test_signing_out_one_session_keeps_her_other_session(api, world):
    phone, tablet = await _session(api, "sh.guide"), await _session(api, "sh.guide")
    for each in (phone, tablet):
        await api.data(ME, token=each["accessToken"])
    logout = "mutation($t: String!) { logout(refreshToken: $t) { revoked } }"
    assert (await api.data(logout, {"t": phone["refreshToken"]}))["logout"]["revoked"]
    assert _code(await api(ME, token=phone["accessToken"])) == "UNAUTHENTICATED"
    with AccountReads(api) as reads:
        assert (await api.data(ME, token=tablet["accessToken"]))["me"]["role"] == "GUIDE"
    assert reads.count == 0  # the tablet's confirmation is still kept


async def test_a_change_behind_the_services_back_is_seen_after_the_cache_time(app_factory, world, db):
    """Only revocations are announced; anything else (here an operator's SQL) waits out IRS_ACCOUNT_CACHE_SECONDS."""
    timer = StepTimer()
    api = await app_factory(timer=timer, account_cache_seconds=10)
    token = (await _session(api, "sh.guide"))["accessToken"]
    await api.data(ME, token=token)
    async with db.engine.begin() as connection:
        await connection.execute(sa.text("UPDATE staff_user SET active = false WHERE username = 'sh.guide'"))
    timer.now += 9
    assert (await api.data(ME, token=token))["me"]["role"] == "GUIDE"
    timer.now += 2
    assert _code(await api(ME, token=token)) == "UNAUTHENTICATED"


async def test_a_lost_bus_subscription_drops_what_was_kept(app_factory, world, shared_redis):
    """Revocations published while a replica's Redis subscription was down never reach it: once the
    subscription is back, everything kept before is read again."""
    api = await app_factory(**shared_redis)
    bus = api.app.state.runtime.bus
    token = (await _session(api, "sh.guide"))["accessToken"]
    await api.data(ME, token=token)
    before = bus.interruptions
    redis = aioredis.from_url(REDIS_URL)
    try:
        # This test's apps are the only ones subscribed under its prefix, but CLIENT KILL cannot filter on
        # a prefix: it drops every pattern subscriber, which each reconnect (the bus does it in a second).
        await redis.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
    finally:
        await redis.aclose()
    for _ in range(200):
        if bus.interruptions >= before + 2:  # lost, then subscribed again
            break
        await asyncio.sleep(0.05)
    assert bus.interruptions >= before + 2
    with AccountReads(api) as reads:
        await api.data(ME, token=token)
    assert reads.count == 1


async def test_two_replicas_in_one_process_forget_together(db, world, tmp_root, clock, shared_redis):
    url = db.engine.url.render_as_string(hide_password=False)
    async with serve(url, tmp_root, clock, **shared_redis) as a, serve(url, tmp_root, clock, **shared_redis) as b:
        session = await _sign_in(b.address, "sh.guide")
        assert (await call_graphql(a.address, ME, token=session["accessToken"]))["me"]["role"] == "GUIDE"
        await _revoke("logout everywhere", b.address, world, "sh.guide", session)
        assert await _refused_within(a.address, session["accessToken"]) < WITHIN


async def test_a_revocation_through_one_irs_serve_process_is_obeyed_by_another_within_a_second(
    db, world, tmp_root, shared_redis
):
    """Two `irs serve` OS processes through Redis. Each member is confirmed (and kept) by A, then her sessions end
    through B in one of the three ways; A refuses her token within a second."""
    url = db.engine.url.render_as_string(hide_password=False)
    cases = {"sh.guide": "logout everywhere", "sh.manager": "made a guide", "bj.guide": "deactivated"}
    async with (
        server_process(url, tmp_root / "a", shared_redis) as a,
        server_process(url, tmp_root / "b", shared_redis) as b,
    ):
        sessions = {member: await _sign_in(a, member) for member in cases}
        for member, session in sessions.items():
            answer = await call_graphql(a, ME, token=session["accessToken"])
            assert answer["me"]["displayName"] == member.title()
        for member, case in cases.items():
            await _revoke(case, b, world, member, sessions[member])
            assert await _refused_within(a, sessions[member]["accessToken"]) < WITHIN, case


async def _revoke_through(api, case: str, world, member: str, session: dict) -> None:
    """End every session of ``member`` through ``api`` (this process), as ``case`` does."""
    if case == "logout everywhere":
        assert (await api.data(LOGOUT, {"t": session["refreshToken"]}))["logout"]["revoked"]
        return
    admin = (await _session(api, "admin"))["accessToken"]
    if case == "made a guide":
        answer = await api.data(MOVE, {"input": {"id": world.gid("StaffUser", member), "role": "GUIDE"}}, admin)
        assert answer["staffUpdate"]["errors"] == []
    else:
        answer = await api.data(DEACTIVATE, {"id": world.gid("StaffUser", member)}, admin)
        assert answer["staffDeactivate"]["errors"] == []


async def _refused_within(address: str, token: str, limit: float = 10.0) -> float:
    """Seconds until the server at ``address`` refuses ``token`` (asked every 20 ms)."""
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=f"http://{address}") as client:
        while time.monotonic() - started < limit:
            body = (
                await client.post("/graphql", json={"query": ME}, headers={"authorization": f"Bearer {token}"})
            ).json()
            if _code(body) == "UNAUTHENTICATED":
                return time.monotonic() - started
            await asyncio.sleep(0.02)
    raise AssertionError(f"still accepted after {limit} s")


async def test_a_confirmation_read_while_her_sessions_end_is_not_kept():
    """The read may have started before the revocation committed: keeping it would outlive the revocation."""
    confirmations = StaffConfirmations(InProcessBus(), ttl_seconds=10)
    await confirmations.start()
    try:
        guide = Actor(ActorKind.STAFF, 7, Role.GUIDE, 1)
        read_at = confirmations.version
        confirmations.forget({"actorKey": "staff:7", "sessionId": None})  # while her account was being read
        confirmations.keep("staff:7", "s1", guide, read_at)
        assert confirmations.confirmed("staff:7", "s1") is None
        confirmations.keep("staff:7", "s1", guide, confirmations.version)  # a read after it: kept
        assert confirmations.confirmed("staff:7", "s1") == guide
    finally:
        await confirmations.close()

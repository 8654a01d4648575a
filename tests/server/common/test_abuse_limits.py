"""Abuse limits: SMS codes, bookings and event ingestion, in memory and shared across replicas through Redis.

Staff sign-in's limits are tested with the other sign-in rules in auth/test_auth_api.py.
"""

from __future__ import annotations

import asyncio
import re

import pytest

from server.settings import Settings
from tests.conftest import calling_from, count_rows
from tests.server.bookings.helpers import book, customer, give_shifts, next_local
from tests.server.identity.test_api_ingest import create_source, ev
from tests.world import LOGIN, PASSWORD

REQUEST = """mutation($phone: String!) {
  customerSmsCodeRequest(phone: $phone) { expiresAt errors { code field message retryAfter } } }"""
SIGN_IN = """mutation($phone: String!, $code: String!) { customerLogin(input: {phone: $phone, smsCode: $code}) {
  session { accessToken } errors { code field message retryAfter } } }"""
BOOK = """mutation($input: BookingCreateInput!) { bookingCreate(input: $input) {
  booking { id } errors { code field message retryAfter } } }"""
INGEST = """mutation($events: [EventInput!]!) { eventsIngest(events: $events) {
  accepted results { eventId } errors { code field message retryAfter } } }"""
PHONE = "13812345678"
MONDAY = 0


async def request_code(api, phone: str = PHONE) -> dict:
    return (await api.data(REQUEST, {"phone": phone}))["customerSmsCodeRequest"]


async def sign_in(api, code: str, phone: str = PHONE) -> dict:
    return (await api.data(SIGN_IN, {"phone": phone, "code": code}))["customerLogin"]


def last_code(api) -> str:
    return re.search(r"\d{6}", api.app.state.runtime.verifiers.sms.sent[-1][1]).group()


def wrong(code: str, n: int = 1) -> str:
    return next(c for c in (f"{k:06d}" for k in range(n, 100)) if c != code)


def refusal(payload: dict) -> tuple[str, list[str] | None]:
    [error] = payload["errors"]
    assert error["retryAfter"] is not None and error["retryAfter"] > 0, error
    return error["code"], error["field"]


async def nothing_signed_in(db) -> bool:
    return await count_rows(db, "person") == 0 and await count_rows(db, "refresh_token") == 0


# SMS codes -------------------------------------------------------------------------------------


async def test_wrong_codes_per_phone_add_up_across_resends(app_factory, db, clock):
    api = await app_factory(limit_sms_checks_per_phone="3 per day")
    await request_code(api)
    for n in (1, 2):
        assert (await sign_in(api, wrong(last_code(api), n)))["errors"][0]["code"] == "INVALID_CODE"
    clock.advance(seconds=61)
    assert (await request_code(api))["errors"] == []  # a new code does not start the count again
    assert (await sign_in(api, wrong(last_code(api))))["errors"][0]["code"] == "INVALID_CODE"
    refused = await sign_in(api, last_code(api))
    assert refused["session"] is None and refusal(refused) == ("TOO_MANY_ATTEMPTS", ["smsCode"])
    assert await nothing_signed_in(db)
    assert await count_rows(db, "sms_code") == 2


async def test_signing_in_clears_the_wrong_codes_of_her_phone(app_factory, db, clock):
    api = await app_factory(limit_sms_checks_per_phone="3 per day")
    for _ in range(2):
        await request_code(api)
        for n in (1, 2):
            await sign_in(api, wrong(last_code(api), n))
        assert (await sign_in(api, last_code(api)))["errors"] == []
        clock.advance(seconds=61)
    assert await count_rows(db, "refresh_token") == 2


async def test_codes_per_phone_are_capped(app_factory, db, clock):
    api = await app_factory(limit_sms_codes_per_phone="2 per day")
    for _ in range(2):
        assert (await request_code(api))["errors"] == []
        clock.advance(seconds=61)
    refused = await request_code(api)
    assert refused["expiresAt"] is None and refusal(refused) == ("RATE_LIMITED", ["phone"])
    assert len(api.app.state.runtime.verifiers.sms.sent) == 2 and await count_rows(db, "sms_code") == 2
    assert (await request_code(api, "13912345678"))["errors"] == []  # another phone is not held up


async def test_code_requests_per_client_address_are_capped(app_factory, db):
    api = await app_factory(limit_sms_requests_per_address="3 per hour")
    for n in range(3):
        assert (await request_code(api, f"1381234560{n}"))["errors"] == []
    refused = await request_code(api, "13812345609")
    assert refused["expiresAt"] is None and refusal(refused) == ("RATE_LIMITED", None)
    assert await count_rows(db, "sms_code") == 3 and len(api.app.state.runtime.verifiers.sms.sent) == 3
    async with calling_from(api, "198.51.100.20") as elsewhere:
        assert (await request_code(elsewhere, "13812345609"))["errors"] == []


async def test_a_resend_within_the_minute_says_when_to_retry(api, clock):
    await request_code(api)
    clock.advance(seconds=50)
    refused = await request_code(api)
    assert refusal(refused) == ("TOO_MANY_ATTEMPTS", ["phone"]) and refused["errors"][0]["retryAfter"] == 10


# bookingCreate and eventsIngest ----------------------------------------------------------------


async def test_bookings_per_customer_are_rate_limited(app_factory, db, world, clock):
    api = await app_factory(limit_bookings_per_customer="2 per minute")
    await give_shifts(db, world)
    token, _ = await customer(api)
    slots = [next_local(clock, MONDAY, hour) for hour in (15, 16, 17)]
    for slot in slots[:2]:
        assert (await book(api, token, world, slot))["errors"] == []
    refused = (
        await api.data(
            BOOK, {"input": {"storeId": world.gid("Store", "shanghai"), "slotStart": slots[2].isoformat()}}, token
        )
    )["bookingCreate"]
    assert refused["booking"] is None and refusal(refused) == ("RATE_LIMITED", ["input"])
    assert refused["errors"][0]["retryAfter"] <= 60
    assert await count_rows(db, "booking") == 2
    other, _ = await customer(api, "13912345678")
    assert (await book(api, other, world, slots[2]))["errors"] == []  # per customer


async def test_ingest_calls_per_source_are_rate_limited(app_factory, db, world, token_for):
    api = await app_factory(limit_ingest_calls_per_source="2 per minute")
    admin = await token_for("admin")
    key = (await create_source(api, admin))["apiKey"]
    for n in range(2):
        body = await api(INGEST, {"events": [ev(f"e{n}", f"phone:1381234567{n}")]}, **{"x-source-key": key})
        assert body["data"]["eventsIngest"]["accepted"] == 1
    events_before = await count_rows(db, "customer_event")
    body = await api(INGEST, {"events": [ev("e9", "phone:13812345679")]}, **{"x-source-key": key})
    refused = body["data"]["eventsIngest"]
    assert refused["accepted"] == 0 and refused["results"] == []
    assert refusal(refused) == ("RATE_LIMITED", None) and refused["errors"][0]["retryAfter"] <= 60
    assert await count_rows(db, "customer_event") == events_before
    other = (await create_source(api, admin, "pos", "POS"))["apiKey"]
    body = await api(INGEST, {"events": [ev("e9", "phone:13812345679")]}, **{"x-source-key": other})
    assert body["data"]["eventsIngest"]["accepted"] == 1  # per source


# where the counts live -------------------------------------------------------------------------


async def test_without_redis_each_process_counts_alone(app_factory, db):
    first = await app_factory(limit_sms_requests_per_address="1 per hour")
    second = await app_factory(limit_sms_requests_per_address="1 per hour")
    assert (await request_code(first, "13812345601"))["errors"] == []
    assert (await request_code(second, "13812345602"))["errors"] == []
    assert refusal(await request_code(first, "13812345603"))[0] == "RATE_LIMITED"


async def test_two_servers_sharing_redis_see_one_count(app_factory, db, shared_redis):
    limits = {"limit_sms_requests_per_address": "3 per hour", **shared_redis}
    first, second = await app_factory(**limits), await app_factory(**limits)
    assert (await request_code(first, "13812345601"))["errors"] == []
    assert (await request_code(second, "13812345602"))["errors"] == []
    assert (await request_code(first, "13812345603"))["errors"] == []
    assert refusal(await request_code(second, "13812345604"))[0] == "RATE_LIMITED"
    assert refusal(await request_code(first, "13812345605"))[0] == "RATE_LIMITED"
    assert await count_rows(db, "sms_code") == 3


async def test_parallel_password_guesses_through_two_servers_cannot_pass_the_lock(app_factory, world, shared_redis):
    servers = [await app_factory(**shared_redis), await app_factory(**shared_redis)]
    results = await asyncio.gather(
        *(servers[i % 2].data(LOGIN, {"u": "sh.guide", "p": f"wrong guess {i}"}) for i in range(12))
    )
    codes = [r["staffLogin"]["errors"][0]["code"] for r in results]
    assert codes.count("INVALID_CREDENTIALS") == 5 and codes.count("LOGIN_LOCKED") == 7
    locked = await servers[1].data(LOGIN, {"u": "sh.guide", "p": PASSWORD})
    assert locked["staffLogin"]["errors"][0]["code"] == "LOGIN_LOCKED"


# settings --------------------------------------------------------------------------------------


def test_limits_and_proxies_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("IRS_LIMIT_BOOKINGS_PER_CUSTOMER", "3/minute")
    monkeypatch.setenv("IRS_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.7")
    settings = Settings()
    assert settings.limit_bookings_per_customer == "3/minute"
    assert settings.trusted_proxies == ["10.0.0.0/8", "192.168.1.7"]


@pytest.mark.parametrize(
    "setting, value",
    [
        ("limit_sms_codes_per_phone", "lots"),
        ("limit_sign_in_per_address", "5 per fortnight"),
        ("trusted_proxies", ["*"]),
        ("trusted_proxies", ["proxy.internal"]),
    ],
)
def test_a_malformed_limit_or_proxy_is_refused_at_start(setting, value):
    with pytest.raises(ValueError, match=setting):
        Settings(**{setting: value})

"""Customer sign-in for mini-programs (SMS code or WeChat code), the verifiers, and what a customer may do."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from server.app import create_app
from server.domains.identity.errors import IdentityErrorCode
from server.domains.identity.events import EventRejected, EventType, RawEvent, RawIdentifier
from server.domains.identity.identifiers import IdentifierType
from server.domains.identity.ingestion import record_event
from server.domains.identity.verifiers import (
    HttpSmsGateway,
    VerificationFailed,
    Verifiers,
    VerifierUnavailable,
    WeChatCode2Session,
)
from server.settings import InsecureSettingsError, Settings
from tests.conftest import answered_nothing, count_rows
from tests.world import gid

from .helpers import T0, scalar, send

PHONE, E164 = "138 1234 5678", "+8613812345678"
REQUEST = """mutation($phone: String!) {
  customerSmsCodeRequest(phone: $phone) { expiresAt errors { code field message } } }"""
LOGIN = """mutation($input: CustomerLoginInput!) { customerLogin(input: $input) {
  session { accessToken refreshToken viewer { displayName ... on Customer { id phone masked } } }
  errors { code field message } } }"""
REFRESH = """mutation($t: String!) { tokenRefresh(refreshToken: $t) {
  session { accessToken viewer { ... on Customer { id } } } errors { code } } }"""
ME = "{ me { ... on Customer { id phone } } }"
CUSTOMER = "query($id: ID!) { customer(id: $id) { id phone masked } }"


def iso_z(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def outbox(api) -> list[tuple[str, str]]:
    return api.app.state.runtime.verifiers.sms.sent


def last_code(api) -> str:
    return re.search(r"\d{6}", outbox(api)[-1][1]).group()


async def request_code(api, phone: str = PHONE) -> dict:
    return (await api.data(REQUEST, {"phone": phone}))["customerSmsCodeRequest"]


async def login(api, **fields) -> dict:
    return (await api.data(LOGIN, {"input": fields}))["customerLogin"]


def codes(payload: dict) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def signed_in(api, **fields) -> tuple[str, str, str]:
    """(access token, refresh token, customer global id)."""
    payload = await login(api, **fields)
    assert payload["errors"] == [], payload
    session = payload["session"]
    return session["accessToken"], session["refreshToken"], session["viewer"]["id"]


def person_id(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().split(":")[1])


# SMS codes -------------------------------------------------------------------------------------


async def test_sms_code_is_sent_and_signs_the_customer_in(api, db, clock):
    requested = await request_code(api)
    assert requested == {"expiresAt": iso_z(clock.now() + timedelta(minutes=5)), "errors": []}
    [(phone, text)] = outbox(api)
    code = last_code(api)
    assert phone == E164 and code in text
    stored = await scalar(db, "SELECT code_hash FROM sms_code")
    assert len(stored) == 64 and code not in stored  # only a hash is kept
    payload = await login(api, phone=PHONE, smsCode=code)
    assert payload["errors"] == []
    viewer = payload["session"]["viewer"]
    assert viewer["phone"] == E164 and viewer["masked"] is False
    pid = person_id(viewer["id"])
    assert await scalar(db, "SELECT person_id FROM identifier WHERE type = 'PHONE' AND value = :v", v=E164) == pid
    assert await scalar(db, "SELECT count(*) FROM sms_code WHERE used_at IS NOT NULL") == 1
    assert await scalar(db, "SELECT type FROM customer_event WHERE person_id = :p", p=pid) == "CUSTOMER_LOGIN"
    assert await scalar(db, "SELECT actor_key FROM refresh_token") == f"customer:{pid}"
    me = await api.data(ME, token=payload["session"]["accessToken"])
    assert me["me"] == {"id": viewer["id"], "phone": E164}


async def test_a_wrong_code_is_invalid_and_counted(api, db):
    await request_code(api)
    wrong = "111111" if last_code(api) != "111111" else "222222"
    payload = await login(api, phone=PHONE, smsCode=wrong)
    assert payload["session"] is None
    assert payload["errors"] == [{"code": "INVALID_CODE", "field": ["smsCode"], "message": "wrong code"}]
    assert await scalar(db, "SELECT attempts FROM sms_code") == 1
    assert await count_rows(db, "person") == 0
    assert (await login(api, phone=PHONE, smsCode=last_code(api)))["errors"] == []


async def test_five_wrong_codes_use_the_code_up(api, db):
    await request_code(api)
    code = last_code(api)
    wrong = "111111" if code != "111111" else "222222"
    for _ in range(5):
        assert codes(await login(api, phone=PHONE, smsCode=wrong)) == ["INVALID_CODE"]
    assert codes(await login(api, phone=PHONE, smsCode=code)) == ["TOO_MANY_ATTEMPTS"]
    assert await scalar(db, "SELECT attempts FROM sms_code") == 5
    assert await count_rows(db, "person") == 0 and await count_rows(db, "refresh_token") == 0


async def test_concurrent_wrong_codes_cannot_exceed_the_attempt_limit(api, db, request):
    await request_code(api)
    wrong = [f"{n:06d}" for n in range(100, 120) if f"{n:06d}" != last_code(api)][:15]
    results = await asyncio.gather(*(login(api, phone=PHONE, smsCode=w) for w in wrong))
    assert sum(codes(r) == ["INVALID_CODE"] for r in results) <= 5
    assert await scalar(db, "SELECT attempts FROM sms_code") <= 5


async def test_a_used_code_cannot_be_used_again(api, db):
    await request_code(api)
    code = last_code(api)
    await signed_in(api, phone=PHONE, smsCode=code)
    again = await login(api, phone=PHONE, smsCode=code)
    assert again["session"] is None and codes(again) == ["CODE_EXPIRED"]
    assert await count_rows(db, "refresh_token") == 1


async def test_an_expired_code_is_refused(api, db, clock):
    await request_code(api)
    clock.advance(minutes=6)
    payload = await login(api, phone=PHONE, smsCode=last_code(api))
    assert payload["session"] is None and codes(payload) == ["CODE_EXPIRED"]
    assert await count_rows(db, "person") == 0


async def test_one_code_a_minute_per_phone_and_only_the_latest_works(api, db, clock):
    await request_code(api)
    first = last_code(api)
    clock.advance(seconds=59)
    again = await request_code(api, "+86 13812345678")
    assert again["expiresAt"] is None
    assert again["errors"][0]["code"] == "TOO_MANY_ATTEMPTS" and again["errors"][0]["field"] == ["phone"]
    assert len(outbox(api)) == 1 and await count_rows(db, "sms_code") == 1
    assert (await request_code(api, "13912345678"))["errors"] == []  # another phone is not held up
    clock.advance(seconds=2)
    assert (await request_code(api))["errors"] == []
    latest = last_code(api)
    assert await count_rows(db, "sms_code") == 3
    if first != latest:
        assert codes(await login(api, phone=PHONE, smsCode=first)) == ["INVALID_CODE"]
    assert (await login(api, phone=PHONE, smsCode=latest))["errors"] == []


async def test_concurrent_code_requests_send_one_sms(api, db, request):
    results = await asyncio.gather(*(request_code(api) for _ in range(5)))
    assert sum(r["errors"] == [] for r in results) == 1
    assert len(outbox(api)) == 1 and await count_rows(db, "sms_code") == 1


@pytest.mark.parametrize("phone, code", [("12345", "INVALID_PHONE"), ("not a phone", "INVALID_PHONE")])
async def test_an_invalid_phone_gets_no_code(api, db, phone, code):
    payload = await request_code(api, phone)
    assert codes(payload) == [code] and payload["errors"][0]["field"] == ["phone"]
    assert outbox(api) == [] and await count_rows(db, "sms_code") == 0


async def test_the_development_code_000000_signs_in(api, db):
    _, _, customer_id = await signed_in(api, phone=PHONE, smsCode="000000")
    assert await scalar(db, "SELECT person_id FROM identifier WHERE value = :v", v=E164) == person_id(customer_id)


async def test_without_development_verifiers_nothing_is_accepted_for_free(app_factory, db):
    api = await app_factory(dev_verifiers=False)
    assert codes(await login(api, phone=PHONE, smsCode="000000")) == ["CODE_EXPIRED"]
    assert codes(await request_code(api)) == ["VERIFIER_UNAVAILABLE"]  # no SMS gateway configured
    assert codes(await login(api, wechatAppId="wx1", wechatCode="dev:openid-1")) == ["VERIFIER_UNAVAILABLE"]
    assert await count_rows(db, "person") == 0


@pytest.mark.parametrize(
    "fields", [{}, {"phone": PHONE, "smsCode": "000000", "wechatAppId": "wx1", "wechatCode": "dev:o1"}]
)
async def test_sign_in_takes_a_phone_or_a_wechat_code(api, db, fields):
    assert codes(await login(api, **fields)) == ["INVALID_VALUE"]
    assert await count_rows(db, "person") == 0


async def test_a_placeholder_phone_cannot_sign_in(api, db):
    payload = await login(api, phone="13800000000", smsCode="000000")
    assert payload["session"] is None and codes(payload) == ["NO_LINKABLE_IDENTIFIER"]
    assert await count_rows(db, "person") == 0


# WeChat ----------------------------------------------------------------------------------------


async def test_a_development_wechat_code_signs_in_as_that_openid(api, db):
    _, _, first = await signed_in(api, wechatAppId="wx1", wechatCode="dev:openid-1")
    _, _, again = await signed_in(api, wechatAppId="wx1", wechatCode="dev:openid-1")
    assert first == again and await count_rows(db, "person") == 1
    assert await scalar(
        db, "SELECT person_id FROM identifier WHERE type = 'WECHAT_OPENID' AND namespace = 'wx1' AND value = 'openid-1'"
    ) == person_id(first)
    _, _, other_app = await signed_in(api, wechatAppId="wx2", wechatCode="dev:openid-1")
    assert other_app != first  # an openid is per mini-program


@pytest.mark.parametrize("code", ["openid-1", "dev:", ""])
async def test_a_wechat_code_not_of_the_dev_form_is_invalid(api, db, code):
    payload = await login(api, wechatAppId="wx1", wechatCode=code)
    assert payload["session"] is None and codes(payload) == ["INVALID_CODE"]
    assert payload["errors"][0]["field"] == ["wechatCode"]
    assert await count_rows(db, "person") == 0


async def test_a_customer_token_follows_her_merge(api, db, clock):
    _, _, by_phone = await signed_in(api, phone=PHONE, smsCode="000000")
    clock.advance(minutes=1)
    token, refresh, by_wechat = await signed_in(api, wechatAppId="wx1", wechatCode="dev:openid-1")
    assert by_phone != by_wechat
    linking = RawEvent(
        event_id="pos-1",
        type=EventType.POS_PURCHASE,
        occurred_at=clock.now(),
        identifiers=[
            RawIdentifier(IdentifierType.WECHAT_OPENID, "openid-1", "wx1"),
            RawIdentifier(IdentifierType.PHONE, PHONE),
        ],
    )
    [result] = await send(db, linking, now=clock.now())
    assert result.person_id == person_id(by_phone)
    assert await scalar(db, "SELECT merged_into_id FROM person WHERE id = :p", p=person_id(by_wechat)) == person_id(
        by_phone
    )
    assert (await api.data(ME, token=token))["me"] == {"id": by_phone, "phone": E164}
    assert (await api.data(CUSTOMER, {"id": by_wechat}, token))["customer"]["id"] == by_phone
    refreshed = (await api.data(REFRESH, {"t": refresh}))["tokenRefresh"]
    assert refreshed["errors"] == [] and refreshed["session"]["viewer"]["id"] == by_phone
    _, _, later = await signed_in(api, wechatAppId="wx1", wechatCode="dev:openid-1")
    assert later == by_phone


async def test_a_wechat_code_needs_its_app_id(api, db):
    payload = await login(api, wechatCode="dev:openid-1")
    assert payload["session"] is None and codes(payload) == ["INVALID_IDENTIFIER"]
    assert await count_rows(db, "person") == 0


def wechat(handler, apps=None) -> WeChatCode2Session:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return WeChatCode2Session(apps or {"wx1": "app-secret"}, client=client)


async def test_code2session_sends_appid_secret_code_and_grant_type():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"openid": "o-1", "unionid": "u-1", "session_key": "k"})

    identity = await wechat(handler).exchange("wx1", "code-1")
    assert (identity.openid, identity.unionid) == ("o-1", "u-1")
    [request] = seen
    assert request.method == "GET" and request.url.host == "api.weixin.qq.com"
    assert request.url.path == "/sns/jscode2session"
    assert dict(request.url.params) == {
        "appid": "wx1",
        "secret": "app-secret",
        "js_code": "code-1",
        "grant_type": "authorization_code",
    }


async def test_code2session_without_unionid():
    identity = await wechat(lambda r: httpx.Response(200, json={"openid": "o-1"})).exchange("wx1", "c")
    assert (identity.openid, identity.unionid) == ("o-1", None)


@pytest.mark.parametrize("errcode", [40029, 40163, 40226])
async def test_code2session_refused_codes_fail_verification(errcode):
    client = wechat(lambda r: httpx.Response(200, json={"errcode": errcode, "errmsg": "invalid code"}))
    with pytest.raises(VerificationFailed):
        await client.exchange("wx1", "c")


def _unreachable(request):
    raise httpx.ConnectError("connection refused", request=request)


@pytest.mark.parametrize(
    "handler",
    [
        lambda r: httpx.Response(200, json={"errcode": -1, "errmsg": "system busy"}),
        lambda r: httpx.Response(200, json={"errcode": 45011, "errmsg": "rate limited"}),
        lambda r: httpx.Response(502, text="<html>bad gateway</html>"),
        lambda r: httpx.Response(200, json={"session_key": "k"}),  # no openid
        _unreachable,
    ],
    ids=["busy", "rate-limited", "502", "no-openid", "unreachable"],
)
async def test_code2session_upstream_trouble_is_unavailable(handler):
    with pytest.raises(VerifierUnavailable):
        await wechat(handler).exchange("wx1", "c")


async def test_code2session_refuses_an_unknown_app_without_calling_wechat():
    seen = []
    with pytest.raises(VerificationFailed):
        await wechat(lambda r: seen.append(r) or httpx.Response(200, json={}), {"wx1": "s"}).exchange("wx9", "c")
    assert seen == []


async def test_customer_login_through_the_real_wechat_client(app_factory, db):
    api = await app_factory(wechat_apps={"wx1": "app-secret"})
    replies = {
        "good": {"openid": "o-7", "unionid": "u-7"},
        "bad": {"errcode": 40029, "errmsg": "invalid code"},
        "busy": {"errcode": -1, "errmsg": "system busy"},
    }
    verifier = api.app.state.runtime.verifiers.wechat
    assert isinstance(verifier, WeChatCode2Session)
    verifier.client = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json=replies[r.url.params["js_code"]]))
    )
    _, _, customer_id = await signed_in(api, wechatAppId="wx1", wechatCode="good")
    async with db.engine.connect() as connection:
        rows = (
            await connection.execute(sa.text("SELECT type, namespace, value, person_id FROM identifier ORDER BY type"))
        ).all()
    pid = person_id(customer_id)
    assert [tuple(r) for r in rows] == [("WECHAT_OPENID", "wx1", "o-7", pid), ("WECHAT_UNIONID", "", "u-7", pid)]
    assert codes(await login(api, wechatAppId="wx1", wechatCode="bad")) == ["INVALID_CODE"]
    assert codes(await login(api, wechatAppId="wx1", wechatCode="busy")) == ["VERIFIER_UNAVAILABLE"]


# SMS gateway -----------------------------------------------------------------------------------


async def test_sms_gateway_posts_json_with_a_bearer_token():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    await HttpSmsGateway("https://sms.example.com/send", "tok-1", client=client).send(E164, "验证码 123456")
    [request] = seen
    assert request.method == "POST" and str(request.url) == "https://sms.example.com/send"
    assert request.headers["authorization"] == "Bearer tok-1"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {"phone": E164, "text": "验证码 123456"}


@pytest.mark.parametrize(
    "handler",
    [lambda r: httpx.Response(500), lambda r: httpx.Response(401), _unreachable],
    ids=["500", "401", "unreachable"],
)
async def test_sms_gateway_failures_are_unavailable(handler):
    gateway = HttpSmsGateway(
        "https://sms.example.com/send", "tok", client=httpx.AsyncClient(transport=httpx.MockTransport(handler))
    )
    with pytest.raises(VerifierUnavailable):
        await gateway.send(E164, "hi")


async def test_a_configured_sms_gateway_sends_the_code(app_factory, db):
    api = await app_factory(
        dev_verifiers=False, sms_gateway_url="https://sms.example.com/send", sms_gateway_token="tok-1"
    )
    sent = []
    gateway = api.app.state.runtime.verifiers.sms
    assert isinstance(gateway, HttpSmsGateway)
    gateway.client = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: sent.append(json.loads(r.content)) or httpx.Response(200))
    )
    assert (await request_code(api))["errors"] == []
    [message] = sent
    code = re.search(r"\d{6}", message["text"]).group()
    assert message["phone"] == E164
    assert (await login(api, phone=PHONE, smsCode=code))["errors"] == []


async def test_an_unreachable_sms_gateway_is_reported(app_factory, db):
    api = await app_factory(
        dev_verifiers=False, sms_gateway_url="https://sms.example.com/send", sms_gateway_token="tok-1"
    )
    api.app.state.runtime.verifiers.sms.client = httpx.AsyncClient(transport=httpx.MockTransport(_unreachable))
    assert codes(await request_code(api)) == ["VERIFIER_UNAVAILABLE"]


# what a signed-in customer may do --------------------------------------------------------------


async def test_a_customer_opens_only_her_own_360_view(api, db, world):
    token, _, mine = await signed_in(api, phone=PHONE, smsCode="000000")
    [other] = await send(
        db,
        RawEvent(
            event_id="x",
            type=EventType.PRODUCT_VIEW,
            occurred_at=T0,
            identifiers=[RawIdentifier(IdentifierType.PHONE, "13912345678")],
        ),
    )
    own = (await api.data(CUSTOMER, {"id": mine}, token))["customer"]
    assert own == {"id": mine, "phone": E164, "masked": False}
    body = await api(CUSTOMER, {"id": gid("Customer", other.person_id)}, token)
    assert body["data"]["customer"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'customer.read_unmasked'") == 0


@pytest.mark.parametrize(
    "query, variables",
    [
        ("{ staff { totalCount } }", {}),
        ("{ identityConflicts { totalCount } }", {}),
        (
            """mutation($input: StoreCreateInput!) { storeCreate(input: $input) { errors { code } } }""",
            {
                "input": {
                    "code": "S900",
                    "name": "杭州店",
                    "city": "杭州",
                    "address": "湖滨路 1 号",
                    "location": {"latitude": 30.25, "longitude": 120.16},
                    "openingHours": [{"weekday": "MONDAY", "opens": "10:00", "closes": "22:00"}],
                }
            },
        ),
        (
            """mutation($input: CustomerTraitsInput!) { customerTraitsUpdate(input: $input) { errors { code } } }""",
            {"input": {"customerId": gid("Customer", 1), "name": "Me"}},
        ),
    ],
    ids=["staff", "identityConflicts", "storeCreate", "customerTraitsUpdate"],
)
async def test_a_customer_is_forbidden_staff_fields(api, db, world, query, variables):
    token, _, _ = await signed_in(api, phone=PHONE, smsCode="000000")
    body = await api(query, variables, token)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert await count_rows(db, "store") == 2


async def test_token_refresh_works_for_customers(api, db, clock):
    _, refresh, mine = await signed_in(api, phone=PHONE, smsCode="000000")
    clock.advance(minutes=20)  # the access token has expired
    refreshed = (await api.data(REFRESH, {"t": refresh}))["tokenRefresh"]
    assert refreshed["errors"] == [] and refreshed["session"]["viewer"]["id"] == mine
    assert (await api.data(ME, token=refreshed["session"]["accessToken"]))["me"]["id"] == mine
    assert codes((await api.data(REFRESH, {"t": refresh}))["tokenRefresh"]) == ["INVALID_REFRESH_TOKEN"]


async def test_an_erased_customer_is_signed_out(api, db, world, token_for):
    token, refresh, mine = await signed_in(api, phone=PHONE, smsCode="000000")
    erase = "mutation($id: ID!) { personErase(customerId: $id) { errors { code } } }"
    assert (await api.data(erase, {"id": mine}, await token_for("admin")))["personErase"]["errors"] == []
    body = await api(ME, token=token)
    assert answered_nothing(body) and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert codes((await api.data(REFRESH, {"t": refresh}))["tokenRefresh"]) == ["INVALID_REFRESH_TOKEN"]


# production ------------------------------------------------------------------------------------

SAFE = {"jwt_secret": "s" * 40, "identity_salt": "t" * 40}


def test_production_refuses_development_verifiers(tmp_path):
    settings = Settings(env="production", dev_verifiers=True, var_dir=tmp_path, **SAFE)
    with pytest.raises(InsecureSettingsError, match="IRS_DEV_VERIFIERS"):
        settings.check_production_safety()
    with pytest.raises(InsecureSettingsError, match="IRS_DEV_VERIFIERS"):
        create_app(settings)


def test_production_uses_only_real_verifiers(tmp_path):
    settings = Settings(
        env="production",
        var_dir=tmp_path,
        wechat_apps={"wx1": "app-secret"},
        sms_gateway_url="https://sms.example.com/send",
        sms_gateway_token="tok",
        **SAFE,
    )
    verifiers = Verifiers.from_settings(settings)
    assert isinstance(verifiers.wechat, WeChatCode2Session) and isinstance(verifiers.sms, HttpSmsGateway)
    assert verifiers.accept_dev_sms_code is False


async def test_an_event_of_erased_identifiers_is_refused_with_an_enum_code(api, db, world, token_for, clock):
    """An event from before her erasure, for another domain's timeline: refused as PERSON_ERASED (a
    code the API can show), not a string code that would end in "Internal error"."""
    _, _, mine = await signed_in(api, phone=PHONE, smsCode="000000")
    erase = "mutation($id: ID!) { personErase(customerId: $id) { errors { code } } }"
    assert (await api.data(erase, {"id": mine}, await token_for("admin")))["personErase"]["errors"] == []
    before = RawEvent(
        event_id="late-pos-sale",
        type=EventType.POS_PURCHASE,
        occurred_at=clock.now() - timedelta(hours=1),
        identifiers=[RawIdentifier(IdentifierType.PHONE, E164)],
    )
    async with db.writer() as session:
        with pytest.raises(EventRejected) as refused:
            await record_event(session, api.app.state.runtime.identity, "pos", before, clock.now())
    assert refused.value.code is IdentityErrorCode.PERSON_ERASED

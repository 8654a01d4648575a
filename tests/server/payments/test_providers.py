"""The WeChat Pay and Alipay adapters (the vendors' libraries underneath) against the sandbox playing
both vendors over HTTP: charges, queries, notifications (and forgeries of them), refunds."""

from __future__ import annotations

import json
import uuid
from base64 import b64encode
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from server.domains.payments.providers import (
    AlipayProvider,
    ChargeState,
    InvalidNotification,
    NativeCharge,
    ProviderError,
    RefundCharge,
    WeChatPayProvider,
)
from server.domains.payments.providers.sandbox import PaymentSandbox, private_pem, public_pem

PROVIDERS = ["wechat_pay", "alipay"]


def new_charge(amount: int = 12_34, description: str = "门店预约定金") -> NativeCharge:
    return NativeCharge(
        out_trade_no="T" + uuid.uuid4().hex[:20], description=description, amount=amount, currency="CNY"
    )


async def created(vendors, name: str, amount: int = 12_34) -> NativeCharge:
    charge = new_charge(amount)
    await vendors.provider(name).create_native(charge, vendors.notify_url(name))
    return charge


# Charges ------------------------------------------------------------------------------------------------


async def test_wechat_charge_from_qr_to_paid(vendors):
    charge = new_charge()
    code_url = await vendors.wechat.create_native(charge, vendors.notify_url("wechat_pay"))
    assert code_url.startswith("weixin://wxpay/bizpayurl?pr=")
    # The same charge again: the same code, nothing new.
    assert await vendors.wechat.create_native(charge, vendors.notify_url("wechat_pay")) == code_url

    pending = await vendors.wechat.query(charge.out_trade_no)
    assert (pending.state, pending.amount, pending.currency, pending.transaction_id, pending.paid_at) == (
        ChargeState.PENDING,
        12_34,
        "CNY",
        None,
        None,
    )

    delivery = await vendors.sandbox.pay("wechat_pay", charge.out_trade_no)
    assert delivery.status == 200 and json.loads(delivery.body) == {"code": "SUCCESS"}
    name, notified = vendors.received[-1]
    paid = vendors.sandbox.charge("wechat_pay", charge.out_trade_no)
    assert name == "wechat_pay"
    assert notified.out_trade_no == charge.out_trade_no
    assert (notified.state, notified.amount, notified.currency) == (ChargeState.SUCCEEDED, 12_34, "CNY")
    assert notified.transaction_id == paid.transaction_id and notified.transaction_id.startswith("4200")
    assert notified.paid_at == paid.paid_at and notified.paid_at.tzinfo is not None

    assert await vendors.wechat.query(charge.out_trade_no) == notified


async def test_alipay_charge_from_qr_to_paid(vendors):
    charge = new_charge(amount=1)
    qr_code = await vendors.alipay.create_native(charge, vendors.notify_url("alipay"))
    assert qr_code.startswith("https://qr.alipay.com/")

    # Alipay knows a precreated trade only once the buyer scans its code.
    unknown = await vendors.alipay.query(charge.out_trade_no)
    assert (unknown.state, unknown.amount, unknown.transaction_id) == (ChargeState.PENDING, 0, None)
    vendors.sandbox.scan("alipay", charge.out_trade_no)
    scanned = await vendors.alipay.query(charge.out_trade_no)
    assert (scanned.state, scanned.amount, scanned.paid_at) == (ChargeState.PENDING, 1, None)

    delivery = await vendors.sandbox.pay("alipay", charge.out_trade_no)
    assert (delivery.status, delivery.body) == (200, "success")
    name, notified = vendors.received[-1]
    paid = vendors.sandbox.charge("alipay", charge.out_trade_no)
    assert name == "alipay"
    assert (notified.out_trade_no, notified.state, notified.amount, notified.currency) == (
        charge.out_trade_no,
        ChargeState.SUCCEEDED,
        1,
        "CNY",
    )
    assert notified.transaction_id == paid.transaction_id == scanned.transaction_id
    assert notified.paid_at == paid.paid_at  # written in Beijing time, read back as UTC

    assert await vendors.alipay.query(charge.out_trade_no) == notified


async def test_the_sandbox_pays_over_http_too(vendors):
    import httpx

    charge = await created(vendors, "wechat_pay")
    async with httpx.AsyncClient(base_url=vendors.base_url) as client:
        page = await client.get(f"/sandbox/pay/wechat_pay/{charge.out_trade_no}")
        paid = await client.post(f"/sandbox/pay/wechat_pay/{charge.out_trade_no}")
        missing = await client.post("/sandbox/pay/wechat_pay/NOSUCHCHARGE")
        listed = await client.get("/sandbox/charges")
    assert "¥12.34" in page.text and "not paid" in page.text
    assert paid.json()["status"] == 200
    assert missing.status_code == 404
    assert any(row["out_trade_no"] == charge.out_trade_no and row["paid"] for row in listed.json())
    assert (await vendors.wechat.query(charge.out_trade_no)).state is ChargeState.SUCCEEDED


@pytest.mark.parametrize("name", PROVIDERS)
async def test_an_unknown_charge_or_a_changed_one_is_refused(vendors, name):
    provider = vendors.provider(name)
    charge = await created(vendors, name)
    changed = NativeCharge(charge.out_trade_no, charge.description, charge.amount + 1, "CNY")
    with pytest.raises(ProviderError):
        await provider.create_native(changed, vendors.notify_url(name))
    if name == "wechat_pay":
        with pytest.raises(ProviderError) as refused:
            await provider.query("NOSUCHCHARGE")
        assert refused.value.code == "ORDER_NOT_EXIST"


async def test_a_wechat_out_trade_no_that_would_change_the_url_is_refused_before_sending(vendors):
    with pytest.raises(ValueError):
        await vendors.wechat.query("ABC123/../../certificates")


async def test_alipay_takes_only_yuan(vendors):
    with pytest.raises(ProviderError) as refused:
        await vendors.alipay.create_native(
            NativeCharge("T" + uuid.uuid4().hex[:20], "x", 100, "HKD"), vendors.notify_url("alipay")
        )
    assert refused.value.code == "UNSUPPORTED_CURRENCY"


# Who may speak ---------------------------------------------------------------------------------------------


async def test_a_request_signed_with_another_merchant_key_is_refused(vendors, keys, other_keys):
    wechat_arguments = keys.wechat_pay_arguments(vendors.base_url)
    wechat_arguments["private_key"] = private_pem(other_keys.wechat_merchant_key)
    with pytest.raises(ProviderError) as refused:
        await WeChatPayProvider(**wechat_arguments).create_native(new_charge(), vendors.notify_url("wechat_pay"))
    assert refused.value.code == "SIGN_ERROR"

    alipay_arguments = keys.alipay_arguments(vendors.base_url)
    alipay_arguments["app_private_key"] = private_pem(other_keys.alipay_app_key)
    with pytest.raises(ProviderError) as refused:
        await AlipayProvider(**alipay_arguments).create_native(new_charge(), vendors.notify_url("alipay"))
    assert refused.value.code == "isv.invalid-signature"


async def test_an_answer_not_signed_by_the_vendor_is_refused(vendors, keys, other_keys):
    """A merchant holding another platform key (a man in the middle, to it) trusts no answer."""
    wechat_arguments = keys.wechat_pay_arguments(vendors.base_url)
    wechat_arguments["platform_public_key"] = public_pem(other_keys.wechat_platform_key)
    with pytest.raises(ProviderError) as refused:
        await WeChatPayProvider(**wechat_arguments).create_native(new_charge(), vendors.notify_url("wechat_pay"))
    assert refused.value.code == "INVALID_RESPONSE_SIGNATURE"

    alipay_arguments = keys.alipay_arguments(vendors.base_url)
    alipay_arguments["alipay_public_key"] = public_pem(other_keys.alipay_platform_key)
    with pytest.raises(ProviderError) as refused:
        await AlipayProvider(**alipay_arguments).create_native(new_charge(), vendors.notify_url("alipay"))
    assert refused.value.code == "INVALID_RESPONSE_SIGNATURE"


async def test_an_unreachable_vendor_is_a_provider_error(keys):
    from tests.server.payments.conftest import free_port

    nowhere = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ProviderError) as refused:
        await WeChatPayProvider(**keys.wechat_pay_arguments(nowhere), timeout=2).query("ABC123456")
    assert refused.value.code == "UNREACHABLE"
    with pytest.raises(ProviderError) as refused:
        await AlipayProvider(**keys.alipay_arguments(nowhere), timeout=2).query("ABC123456")
    assert refused.value.code == "UNREACHABLE"


async def test_wechat_answers_and_notifications_under_the_platform_certificate(vendors, keys):
    """A merchant being switched to the public key still gets answers and notifications signed under
    the platform certificate's serial: the library downloads /v3/certificates, decrypts them with the
    APIv3 key, and verifies with the certificate."""
    wechat = WeChatPayProvider(**keys.wechat_pay_arguments(vendors.base_url))  # no certificate cached yet
    vendors.sandbox.wechat_signer = "certificate"
    try:
        charge = new_charge()
        assert await wechat.create_native(charge, vendors.notify_url("wechat_pay"))
        headers, body = vendors.sandbox.notification_for("wechat_pay", charge.out_trade_no)
        assert headers["Wechatpay-Serial"] == keys.wechat_platform_serial
        assert (await wechat.parse_notification(headers, body)).state is ChargeState.SUCCEEDED
    finally:
        vendors.sandbox.wechat_signer = "public_key"


# Notifications ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PROVIDERS)
async def test_a_notification_parses_the_same_every_time_it_comes(vendors, name):
    charge = await created(vendors, name)
    await vendors.sandbox.pay(name, charge.out_trade_no)
    headers, body = vendors.sandbox.notification_for(name, charge.out_trade_no)
    provider = vendors.provider(name)
    first = await provider.parse_notification(headers, body)
    assert await provider.parse_notification(headers, body) == first  # a replay: the same status
    again = await vendors.sandbox.deliver(name, charge.out_trade_no)  # the vendor sends it again
    assert again.status == 200 and vendors.received[-1] == (name, first)


@pytest.mark.parametrize("name", PROVIDERS)
async def test_a_signed_notification_with_another_amount_says_that_amount(vendors, name):
    """The adapter reports what the vendor signed; comparing it with the order is the caller's job."""
    charge = await created(vendors, name)
    override = {"amount": {"total": 1, "currency": "CNY"}} if name == "wechat_pay" else {"total_amount": "0.01"}
    headers, body = vendors.sandbox.notification_for(name, charge.out_trade_no, **override)
    status = await vendors.provider(name).parse_notification(headers, body)
    assert (status.state, status.amount) == (ChargeState.SUCCEEDED, 1)


def tampered_wechat(headers: dict[str, str], body: bytes) -> list[tuple[str, dict[str, str], bytes]]:
    envelope = json.loads(body)
    ciphertext = bytearray(envelope["resource"]["ciphertext"].encode())
    ciphertext[5] = ord("A") if ciphertext[5] != ord("A") else ord("B")
    envelope["resource"]["ciphertext"] = ciphertext.decode()
    signature = headers["Wechatpay-Signature"]
    other_signature = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    return [
        ("a changed summary", headers, body.replace("支付成功".encode(), "支付失败".encode(), 1)),
        ("a changed ciphertext", headers, json.dumps(envelope, separators=(",", ":")).encode()),
        ("a changed signature", {**headers, "Wechatpay-Signature": other_signature}, body),
        ("a signature that is not base64", {**headers, "Wechatpay-Signature": "!!!"}, body),
        ("no signature", {k: v for k, v in headers.items() if k != "Wechatpay-Signature"}, body),
        ("another timestamp", {**headers, "Wechatpay-Timestamp": str(int(headers["Wechatpay-Timestamp"]) - 1)}, body),
        ("a serial that is not hex", {**headers, "Wechatpay-Serial": "ZZZ"}, body),
        ("another signature type", {**headers, "Wechatpay-Signature-Type": "WECHATPAY2-SM2-WITH-SM3"}, body),
    ]


def tampered_alipay(headers: dict[str, str], body: bytes) -> list[tuple[str, dict[str, str], bytes]]:
    form = dict(parse_qsl(body.decode()))
    sign = form["sign"]
    variants = {
        "a changed amount": {**form, "total_amount": "0.01"},
        "a changed status": {**form, "trade_status": "TRADE_FINISHED"},
        "an added parameter": {**form, "extra": "1"},
        "a changed signature": {**form, "sign": sign[:10] + ("A" if sign[10] != "A" else "B") + sign[11:]},
        "a signature that is not base64": {**form, "sign": "!!!"},
        "no signature": {k: v for k, v in form.items() if k != "sign"},
        "RSA instead of RSA2": {**form, "sign_type": "RSA"},
    }
    cases = [(label, headers, urlencode(fields).encode()) for label, fields in variants.items()]
    cases.append(("a parameter twice", headers, body + b"&total_amount=0.01"))
    return cases


@pytest.mark.parametrize("name", PROVIDERS)
async def test_a_tampered_notification_is_invalid(vendors, name):
    charge = await created(vendors, name)
    headers, body = vendors.sandbox.notification_for(name, charge.out_trade_no)
    provider = vendors.provider(name)
    assert (await provider.parse_notification(headers, body)).state is ChargeState.SUCCEEDED  # untouched: fine
    cases = tampered_wechat(headers, body) if name == "wechat_pay" else tampered_alipay(headers, body)
    for label, bad_headers, bad_body in cases:
        with pytest.raises(InvalidNotification):
            await provider.parse_notification(bad_headers, bad_body)
            pytest.fail(f"{label}: accepted")


@pytest.mark.parametrize("name", PROVIDERS)
async def test_a_notification_signed_by_another_key_is_invalid(vendors, other_keys, name):
    charge = await created(vendors, name)
    stranger = other_keys.wechat_platform_key if name == "wechat_pay" else other_keys.alipay_platform_key
    headers, body = vendors.sandbox.notification_for(name, charge.out_trade_no, signing_key=stranger)
    with pytest.raises(InvalidNotification):
        await vendors.provider(name).parse_notification(headers, body)


@pytest.mark.parametrize("name", PROVIDERS)
@pytest.mark.parametrize("body", [b"", b"garbage", b"\xff\xfe\x00", b"{}", b'{"resource": 1}', b"a=1&a=2", b"sign="])
async def test_a_garbage_notification_is_invalid(vendors, name, body):
    headers = {"Content-Type": "application/json"}
    if name == "wechat_pay":  # garbage under the headers of a real notification
        charge = await created(vendors, name)
        headers, _ = vendors.sandbox.notification_for(name, charge.out_trade_no)
    with pytest.raises(InvalidNotification):
        await vendors.provider(name).parse_notification(headers, body)


async def test_a_wechat_notification_signed_over_a_garbage_body_is_invalid(vendors, keys):
    """Signed by the platform, yet not a payment: the adapter refuses what it cannot read."""
    timestamp, nonce = str(int(datetime.now(UTC).timestamp())), "N" * 32
    for body in ["garbage", "{}", json.dumps({"event_type": "REFUND.SUCCESS", "resource_type": "encrypt-resource"})]:
        message = f"{timestamp}\n{nonce}\n{body}\n".encode()
        signature = keys.wechat_platform_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        headers = {
            "Wechatpay-Timestamp": timestamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": b64encode(signature).decode(),
            "Wechatpay-Serial": keys.wechat_public_key_id,
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        }
        with pytest.raises(InvalidNotification):
            await vendors.wechat.parse_notification(headers, body.encode())


async def test_a_wechat_notification_for_another_merchant_or_not_a_payment_is_invalid(vendors):
    charge = await created(vendors, "wechat_pay")
    for override in [{"mchid": "1900000001"}, {"appid": "wx0000000000000000"}, {"trade_state": "WHATEVER"}]:
        headers, body = vendors.sandbox.notification_for("wechat_pay", charge.out_trade_no, **override)
        with pytest.raises(InvalidNotification):
            await vendors.wechat.parse_notification(headers, body)


async def test_an_alipay_notification_for_another_app_or_malformed_is_invalid(vendors):
    charge = await created(vendors, "alipay")
    for override in [
        {"app_id": "2021000000000000"},
        {"notify_type": "trade_refund_sync"},
        {"trade_status": "WHATEVER"},
        {"total_amount": "1e3"},
        {"total_amount": "12.345"},
        {"gmt_payment": None},
    ]:
        headers, body = vendors.sandbox.notification_for("alipay", charge.out_trade_no, **override)
        with pytest.raises(InvalidNotification):
            await vendors.alipay.parse_notification(headers, body)


async def test_wechat_headers_are_read_in_any_case(vendors):
    charge = await created(vendors, "wechat_pay")
    headers, body = vendors.sandbox.notification_for("wechat_pay", charge.out_trade_no)
    for spelled in ({k.lower(): v for k, v in headers.items()}, {k.upper(): v for k, v in headers.items()}):
        assert (await vendors.wechat.parse_notification(spelled, body)).state is ChargeState.SUCCEEDED


async def test_a_stale_wechat_notification_is_invalid(vendors, keys):
    """A captured notification replayed later than WeChat's SDKs allow (5 minutes) is refused."""
    charge = await created(vendors, "wechat_pay")
    headers, body = vendors.sandbox.notification_for("wechat_pay", charge.out_trade_no)
    arguments = keys.wechat_pay_arguments(vendors.base_url)
    for skew in (timedelta(minutes=6), -timedelta(minutes=6)):
        later = WeChatPayProvider(**arguments, clock=lambda skew=skew: datetime.now(UTC) + skew)
        with pytest.raises(InvalidNotification):
            await later.parse_notification(headers, body)
    within = WeChatPayProvider(**arguments, clock=lambda: datetime.now(UTC) + timedelta(minutes=4))
    assert (await within.parse_notification(headers, body)).state is ChargeState.SUCCEEDED


async def test_a_wechat_notification_under_another_apiv3_key_does_not_decrypt(vendors, keys, other_keys):
    charge = await created(vendors, "wechat_pay")
    headers, body = vendors.sandbox.notification_for("wechat_pay", charge.out_trade_no)
    arguments = keys.wechat_pay_arguments(vendors.base_url)
    arguments["apiv3_key"] = other_keys.wechat_apiv3_key
    with pytest.raises(InvalidNotification):
        await WeChatPayProvider(**arguments).parse_notification(headers, body)


@pytest.mark.parametrize("name", PROVIDERS)
def test_acknowledgements_are_what_the_vendor_expects(vendors, name):
    provider = vendors.provider(name)
    if name == "wechat_pay":
        assert provider.notification_ack(True) == (200, b'{"code":"SUCCESS"}', "application/json")
        status, body, content_type = provider.notification_ack(False)
        assert status >= 400 and json.loads(body)["code"] == "FAIL" and content_type == "application/json"
    else:
        assert provider.notification_ack(True) == (200, b"success", "text/plain")
        assert provider.notification_ack(False)[1] == b"fail"


async def test_a_refused_notification_is_answered_as_a_failure(vendors):
    """The vendor sees the merchant's refusal (and would send the notification again)."""
    charge = await created(vendors, "wechat_pay")
    await vendors.sandbox.pay("wechat_pay", charge.out_trade_no)
    sandbox_clock = vendors.sandbox.clock
    vendors.sandbox.clock = lambda: datetime.now(UTC) - timedelta(hours=1)
    try:
        delivery = await vendors.sandbox.deliver("wechat_pay", charge.out_trade_no)
    finally:
        vendors.sandbox.clock = sandbox_clock
    assert delivery.status == 400 and json.loads(delivery.body)["code"] == "FAIL"
    assert isinstance(vendors.received[-1][1], InvalidNotification)


# Refunds ---------------------------------------------------------------------------------------------------


def refund_of(charge: NativeCharge, amount: int, out_refund_no: str | None = None) -> RefundCharge:
    return RefundCharge(
        out_trade_no=charge.out_trade_no,
        out_refund_no=out_refund_no or "R" + uuid.uuid4().hex[:20],
        amount=amount,
        total=charge.amount,
        currency="CNY",
        reason="顾客取消预约",
    )


@pytest.mark.parametrize("name", PROVIDERS)
async def test_refunds_partial_then_the_rest_and_never_more(vendors, name):
    provider = vendors.provider(name)
    charge = await created(vendors, name, amount=100_00)
    with pytest.raises(ProviderError):  # not paid yet
        await provider.refund(refund_of(charge, 1))
    await vendors.sandbox.pay(name, charge.out_trade_no)

    first = refund_of(charge, 30_01)
    status = await provider.refund(first)
    assert status.succeeded and status.out_refund_no == first.out_refund_no
    assert (status.refund_id is not None) == (name == "wechat_pay")  # Alipay has no refund id
    # The same refund asked again (a retry): the same answer, nothing refunded twice.
    assert await provider.refund(first) == status
    assert vendors.sandbox.charge(name, charge.out_trade_no).refunded == 30_01

    with pytest.raises(ProviderError):  # 69_99 are left
        await provider.refund(refund_of(charge, 70_00))
    with pytest.raises(ProviderError):  # the same out_refund_no for another amount
        await provider.refund(refund_of(charge, 1, out_refund_no=first.out_refund_no))
    assert (await provider.query(charge.out_trade_no)).state is ChargeState.SUCCEEDED  # partly refunded: paid

    assert (await provider.refund(refund_of(charge, 69_99))).succeeded
    with pytest.raises(ProviderError):
        await provider.refund(refund_of(charge, 1))
    assert vendors.sandbox.charge(name, charge.out_trade_no).refunded == 100_00
    after = await provider.query(charge.out_trade_no)
    # Refunded in full: WeChat still says paid (REFUND), Alipay closes the trade.
    assert after.state is (ChargeState.SUCCEEDED if name == "wechat_pay" else ChargeState.CLOSED)
    assert after.amount == 100_00


async def test_a_refund_of_another_total_is_refused_by_wechat(vendors):
    charge = await created(vendors, "wechat_pay")
    await vendors.sandbox.pay("wechat_pay", charge.out_trade_no)
    wrong = RefundCharge(charge.out_trade_no, "R" + uuid.uuid4().hex[:20], 1, charge.amount + 1, "CNY", "")
    with pytest.raises(ProviderError) as refused:
        await vendors.wechat.refund(wrong)
    assert refused.value.code == "PARAM_ERROR"


async def test_an_alipay_refund_repeated_after_a_lost_answer_is_confirmed_by_the_refund_query(vendors):
    """fund_change "N" (no new money moved on this call): the adapter asks alipay.trade.fastpay.refund.query."""
    charge = await created(vendors, "alipay")
    await vendors.sandbox.pay("alipay", charge.out_trade_no)
    refund = refund_of(charge, 5_00)
    await vendors.alipay.refund(refund)  # its answer "lost": the caller retries
    assert (await vendors.alipay.refund(refund)).succeeded
    assert vendors.sandbox.charge("alipay", charge.out_trade_no).refunded == 5_00


def test_the_sandbox_is_an_asgi_app_of_its_own(keys):
    from server.domains.payments.providers.sandbox import sandbox_app

    app = sandbox_app(keys)
    assert isinstance(app.state.sandbox, PaymentSandbox)

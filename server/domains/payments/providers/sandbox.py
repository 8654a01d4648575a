"""A payment sandbox: one Starlette app playing WeChat Pay API v3 and the Alipay gateway, with their real
protocols, so the adapters (``wechat.py``, ``alipay.py``, on the vendors' libraries) run unchanged
against it in development and tests.

It plays the vendor's side with ``cryptography``: it verifies the merchant's request signatures
(WeChat's ``Authorization: WECHATPAY2-SHA256-RSA2048``, Alipay's RSA2 ``sign``), signs its answers with
the platform keys (WeChat's ``Wechatpay-*`` headers, Alipay's ``sign`` over the ``..._response`` object),
serves WeChat's encrypted platform certificates, and sends notifications: WeChat's JSON with an
AES-256-GCM encrypted resource and signed headers, Alipay's signed form.

A customer "pays" with ``PaymentSandbox.pay`` (or ``POST /sandbox/pay/{provider}/{out_trade_no}``, or the
page at ``GET`` of the same path). State lives in memory. ``irs sandbox-pay`` serves it.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import string
import uuid
from base64 import b64decode, b64encode
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal, TypedDict
from urllib.parse import parse_qsl, urlencode

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .alipay import BEIJING, beijing_time, fen_to_yuan, yuan_to_fen
from .wechat import OUT_TRADE_NO

Provider = Literal["wechat_pay", "alipay"]
WECHAT: Final = "wechat_pay"
ALIPAY: Final = "alipay"
PROVIDERS: tuple[Provider, ...] = (WECHAT, ALIPAY)
# How far a request's timestamp may be from the sandbox's clock (WeChat: 5 minutes).
REQUEST_TOLERANCE = timedelta(minutes=5)
ALIPAY_REQUEST_TOLERANCE = timedelta(minutes=15)
_SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _digits(count: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(count))


def _alphanumeric(count: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(count))


def _rsa_sign(key: rsa.RSAPrivateKey, message: str) -> str:
    """SHA256withRSA (PKCS#1 v1.5), base64: both vendors' RSA2048 / RSA2 signature."""
    return b64encode(key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def _rsa_verifies(key: rsa.RSAPublicKey, signature: str, message: str) -> bool:
    try:
        key.verify(b64decode(signature, validate=True), message.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _load_private(pem: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class WeChatPayArguments(TypedDict):
    """``WeChatPayProvider(**arguments)``."""

    mchid: str
    appid: str
    private_key: str
    cert_serial_no: str
    apiv3_key: str
    platform_public_key: str
    platform_public_key_id: str
    gateway: str


class AlipayArguments(TypedDict):
    """``AlipayProvider(**arguments)``."""

    app_id: str
    app_private_key: str
    alipay_public_key: str
    gateway: str


# The files ``SandboxKeys.save`` writes. The merchant's side: what IRS is configured with.
MERCHANT_FILES = {
    "wechat_merchant_key": "wechat_merchant_key.pem",
    "wechat_pay_public_key": "wechat_pay_public_key.pem",
    "alipay_app_key": "alipay_app_key.pem",
    "alipay_public_key": "alipay_public_key.pem",
}
_VENDOR_FILES = {
    "wechat_platform_key": "wechat_platform_key.pem",
    "wechat_platform_certificate": "wechat_platform_certificate.pem",
    "alipay_platform_key": "alipay_platform_key.pem",
}
_IDS_FILE = "sandbox.json"


@dataclass(frozen=True)
class SandboxKeys:
    """Both sides' keys and ids: the merchant's (what IRS holds) and the vendors' (what the sandbox
    signs with). The WeChat platform key serves both as the WeChat Pay public key (by its id) and behind
    the platform certificate (by the certificate's serial)."""

    wechat_mchid: str
    wechat_appid: str
    wechat_merchant_key: rsa.RSAPrivateKey
    wechat_merchant_serial: str  # the merchant API certificate's serial (the certificate itself is not needed)
    wechat_apiv3_key: str
    wechat_platform_key: rsa.RSAPrivateKey
    wechat_platform_certificate: x509.Certificate
    wechat_public_key_id: str
    alipay_app_id: str
    alipay_seller_id: str
    alipay_app_key: rsa.RSAPrivateKey
    alipay_platform_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls, *, now: datetime | None = None) -> SandboxKeys:
        """Fresh RSA-2048 keys (four: a few hundred milliseconds), ids, an APIv3 key, and a self-signed
        platform certificate valid from a day ago for ten years."""
        moment = now or _utcnow()
        platform = new_rsa_key()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "IRS sandbox WeChat Pay platform")])
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(platform.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(moment - timedelta(days=1))
            .not_valid_after(moment + timedelta(days=3650))
            .sign(platform, hashes.SHA256())
        )
        return cls(
            wechat_mchid="19" + _digits(8),
            wechat_appid="wx" + secrets.token_hex(8),
            wechat_merchant_key=new_rsa_key(),
            wechat_merchant_serial=secrets.token_hex(20).upper(),
            wechat_apiv3_key=_alphanumeric(32),
            wechat_platform_key=platform,
            wechat_platform_certificate=certificate,
            wechat_public_key_id="PUB_KEY_ID_" + _digits(32),
            alipay_app_id="2021" + _digits(12),
            alipay_seller_id="2088" + _digits(12),
            alipay_app_key=new_rsa_key(),
            alipay_platform_key=new_rsa_key(),
        )

    @property
    def wechat_platform_serial(self) -> str:
        """The platform certificate's serial as WeChat writes it in ``Wechatpay-Serial``."""
        return format(self.wechat_platform_certificate.serial_number, "X")

    def wechat_pay_arguments(self, base_url: str) -> WeChatPayArguments:
        """The merchant side of WeChat Pay, pointing at a sandbox served at ``base_url``."""
        return WeChatPayArguments(
            mchid=self.wechat_mchid,
            appid=self.wechat_appid,
            private_key=private_pem(self.wechat_merchant_key),
            cert_serial_no=self.wechat_merchant_serial,
            apiv3_key=self.wechat_apiv3_key,
            platform_public_key=public_pem(self.wechat_platform_key),
            platform_public_key_id=self.wechat_public_key_id,
            gateway=base_url.rstrip("/"),
        )

    def alipay_arguments(self, base_url: str) -> AlipayArguments:
        """The merchant side of Alipay, pointing at a sandbox served at ``base_url``."""
        return AlipayArguments(
            app_id=self.alipay_app_id,
            app_private_key=private_pem(self.alipay_app_key),
            alipay_public_key=public_pem(self.alipay_platform_key),
            gateway=base_url.rstrip("/") + "/gateway.do",
        )

    def save(self, directory: Path) -> None:
        """PEM files (private keys readable by the owner only) and ``sandbox.json`` with the ids."""
        directory.mkdir(parents=True, exist_ok=True)
        secrets_ = {
            MERCHANT_FILES["wechat_merchant_key"]: private_pem(self.wechat_merchant_key),
            MERCHANT_FILES["alipay_app_key"]: private_pem(self.alipay_app_key),
            _VENDOR_FILES["wechat_platform_key"]: private_pem(self.wechat_platform_key),
            _VENDOR_FILES["alipay_platform_key"]: private_pem(self.alipay_platform_key),
            _IDS_FILE: json.dumps(
                {
                    "wechat_pay": {
                        "mchid": self.wechat_mchid,
                        "appid": self.wechat_appid,
                        "merchant_serial": self.wechat_merchant_serial,
                        "apiv3_key": self.wechat_apiv3_key,
                        "public_key_id": self.wechat_public_key_id,
                    },
                    "alipay": {"app_id": self.alipay_app_id, "seller_id": self.alipay_seller_id},
                },
                indent=2,
            ),
        }
        for name, text in secrets_.items():
            path = directory / name
            path.touch(mode=0o600, exist_ok=True)
            path.chmod(0o600)
            path.write_text(text)
        certificate = self.wechat_platform_certificate.public_bytes(serialization.Encoding.PEM).decode()
        (directory / _VENDOR_FILES["wechat_platform_certificate"]).write_text(certificate)
        (directory / MERCHANT_FILES["wechat_pay_public_key"]).write_text(public_pem(self.wechat_platform_key))
        (directory / MERCHANT_FILES["alipay_public_key"]).write_text(public_pem(self.alipay_platform_key))

    @classmethod
    def load(cls, directory: Path) -> SandboxKeys:
        ids = json.loads((directory / _IDS_FILE).read_text())
        wechat, alipay = ids["wechat_pay"], ids["alipay"]

        def key(name: str) -> rsa.RSAPrivateKey:
            return _load_private((directory / name).read_bytes())

        return cls(
            wechat_mchid=wechat["mchid"],
            wechat_appid=wechat["appid"],
            wechat_merchant_key=key(MERCHANT_FILES["wechat_merchant_key"]),
            wechat_merchant_serial=wechat["merchant_serial"],
            wechat_apiv3_key=wechat["apiv3_key"],
            wechat_platform_key=key(_VENDOR_FILES["wechat_platform_key"]),
            wechat_platform_certificate=x509.load_pem_x509_certificate(
                (directory / _VENDOR_FILES["wechat_platform_certificate"]).read_bytes()
            ),
            wechat_public_key_id=wechat["public_key_id"],
            alipay_app_id=alipay["app_id"],
            alipay_seller_id=alipay["seller_id"],
            alipay_app_key=key(MERCHANT_FILES["alipay_app_key"]),
            alipay_platform_key=key(_VENDOR_FILES["alipay_platform_key"]),
        )

    @classmethod
    def load_or_generate(cls, directory: Path) -> SandboxKeys:
        if (directory / _IDS_FILE).exists():
            return cls.load(directory)
        keys = cls.generate()
        keys.save(directory)
        return keys


def merchant_environment(keys: SandboxKeys, base_url: str, keys_dir: Path) -> dict[str, str]:
    """The IRS_* variables a development server would be configured with to use a sandbox at
    ``base_url`` whose keys were saved in ``keys_dir`` (keys as file paths)."""
    base = base_url.rstrip("/")
    return {
        "IRS_WECHAT_PAY_GATEWAY": base,
        "IRS_WECHAT_PAY_MCHID": keys.wechat_mchid,
        "IRS_WECHAT_PAY_APPID": keys.wechat_appid,
        "IRS_WECHAT_PAY_CERT_SERIAL_NO": keys.wechat_merchant_serial,
        "IRS_WECHAT_PAY_PRIVATE_KEY_PATH": str(keys_dir / MERCHANT_FILES["wechat_merchant_key"]),
        "IRS_WECHAT_PAY_APIV3_KEY": keys.wechat_apiv3_key,
        "IRS_WECHAT_PAY_PUBLIC_KEY_PATH": str(keys_dir / MERCHANT_FILES["wechat_pay_public_key"]),
        "IRS_WECHAT_PAY_PUBLIC_KEY_ID": keys.wechat_public_key_id,
        "IRS_ALIPAY_GATEWAY": base + "/gateway.do",
        "IRS_ALIPAY_APP_ID": keys.alipay_app_id,
        "IRS_ALIPAY_APP_PRIVATE_KEY_PATH": str(keys_dir / MERCHANT_FILES["alipay_app_key"]),
        "IRS_ALIPAY_PUBLIC_KEY_PATH": str(keys_dir / MERCHANT_FILES["alipay_public_key"]),
    }


@dataclass
class SandboxRefund:
    out_refund_no: str
    refund_id: str
    amount: int
    created_at: datetime


@dataclass
class SandboxCharge:
    provider: Provider
    out_trade_no: str
    description: str
    amount: int  # fen
    currency: str
    notify_url: str
    qr_payload: str
    created_at: datetime
    transaction_id: str | None = None  # WeChat: once paid; Alipay: once scanned
    paid_at: datetime | None = None
    refunds: dict[str, SandboxRefund] = field(default_factory=dict)

    @property
    def refunded(self) -> int:
        return sum(refund.amount for refund in self.refunds.values())


@dataclass(frozen=True)
class Delivery:
    """One notification sent to a merchant: the answer's status and body, or why it could not be sent."""

    provider: Provider
    out_trade_no: str
    url: str
    status: int | None
    body: str
    error: str | None = None


class SandboxError(Exception):
    """A sandbox action that makes no sense (paying an unknown charge...)."""


class PaymentSandbox:
    """The vendors' side, in memory; ``app`` serves it (``app.state.sandbox`` is this object).

    ``wechat_signer``: what the WeChat side signs answers and notifications as: ``"public_key"`` (the
    WeChat Pay public key id in ``Wechatpay-Serial``) or ``"certificate"`` (the platform certificate's
    serial: a merchant then needs ``/v3/certificates``)."""

    def __init__(
        self,
        keys: SandboxKeys,
        *,
        clock: Callable[[], datetime] = _utcnow,
        wechat_signer: Literal["public_key", "certificate"] = "public_key",
    ) -> None:
        self.keys = keys
        self.clock = clock
        self.wechat_signer = wechat_signer
        self.charges: dict[tuple[Provider, str], SandboxCharge] = {}
        self.deliveries: list[Delivery] = []
        self.app = Starlette(
            routes=[
                Route("/v3/pay/transactions/native", self._wechat_native, methods=["POST"]),
                Route("/v3/pay/transactions/out-trade-no/{out_trade_no}", self._wechat_query, methods=["GET"]),
                Route("/v3/refund/domestic/refunds", self._wechat_refund, methods=["POST"]),
                Route("/v3/certificates", self._wechat_certificates, methods=["GET"]),
                Route("/gateway.do", self._alipay_gateway, methods=["GET", "POST"]),
                Route("/sandbox/charges", self._charges_page, methods=["GET"]),
                Route("/sandbox/pay/{provider}/{out_trade_no}", self._pay_page, methods=["GET"]),
                Route("/sandbox/pay/{provider}/{out_trade_no}", self._pay_endpoint, methods=["POST"]),
            ]
        )
        self.app.state.sandbox = self

    # The customer's side ------------------------------------------------------------------------------

    def charge(self, provider: Provider, out_trade_no: str) -> SandboxCharge:
        try:
            return self.charges[(provider, out_trade_no)]
        except KeyError:
            raise SandboxError(f"no {provider} charge {out_trade_no!r}") from None

    def scan(self, provider: Provider, out_trade_no: str) -> SandboxCharge:
        """The customer scans the code without paying yet: Alipay learns of the trade (WAIT_BUYER_PAY)."""
        charge = self.charge(provider, out_trade_no)
        if charge.transaction_id is None and provider == ALIPAY:
            charge.transaction_id = self._alipay_trade_no()
        return charge

    async def pay(self, provider: Provider, out_trade_no: str) -> Delivery:
        """The customer pays (once; paying again changes nothing), then the vendor notifies the charge's
        notify_url, as ``deliver`` does."""
        charge = self.charge(provider, out_trade_no)
        if charge.paid_at is None:
            self.scan(provider, out_trade_no)
            if charge.transaction_id is None:
                charge.transaction_id = "4200" + _digits(24)
            charge.paid_at = self.clock().replace(microsecond=0)
        return await self.deliver(provider, out_trade_no)

    async def deliver(self, provider: Provider, out_trade_no: str) -> Delivery:
        """Send the charge's payment notification to its notify_url now (vendors repeat a notification
        until the merchant acknowledges it; the sandbox sends it when told)."""
        charge = self.charge(provider, out_trade_no)
        if charge.paid_at is None:
            raise SandboxError(f"{provider} charge {out_trade_no!r} is not paid")
        headers, body = self.notification_for(provider, out_trade_no)
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                answer = await client.post(charge.notify_url, headers=headers, content=body)
            delivery = Delivery(provider, out_trade_no, charge.notify_url, answer.status_code, answer.text)
        except httpx.HTTPError as error:
            delivery = Delivery(provider, out_trade_no, charge.notify_url, None, "", error=repr(error))
        self.deliveries.append(delivery)
        return delivery

    def notification_for(
        self,
        provider: Provider,
        out_trade_no: str,
        *,
        signing_key: rsa.RSAPrivateKey | None = None,
        **overrides: Any,
    ) -> tuple[dict[str, str], bytes]:
        """The payment notification the vendor would send for this charge, as paid (now, if it is not
        paid): (headers, body). ``overrides`` replace fields before signing (WeChat: the decrypted
        resource's, e.g. ``amount={"total": 1, "currency": "CNY"}``; Alipay: the form's, e.g.
        ``total_amount="0.01"``); None removes one. ``signing_key`` signs instead of the platform key."""
        charge = self.charge(provider, out_trade_no)
        if provider == WECHAT:
            return self._wechat_notification(charge, signing_key, overrides)
        return self._alipay_notification(charge, signing_key, overrides)

    # WeChat Pay API v3 ---------------------------------------------------------------------------------

    def _wechat_signed(self, status: int, payload: Mapping[str, Any], key: rsa.RSAPrivateKey | None = None) -> Response:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        headers = self._wechat_signature_headers(body, key)
        headers["Request-ID"] = str(uuid.uuid4())
        return Response(body.encode(), status, headers=headers, media_type="application/json; charset=utf-8")

    def _wechat_signature_headers(self, body: str, key: rsa.RSAPrivateKey | None = None) -> dict[str, str]:
        timestamp = str(int(self.clock().timestamp()))
        nonce = secrets.token_hex(16).upper()
        serial = (
            self.keys.wechat_public_key_id if self.wechat_signer == "public_key" else self.keys.wechat_platform_serial
        )
        return {
            "Wechatpay-Timestamp": timestamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": _rsa_sign(key or self.keys.wechat_platform_key, f"{timestamp}\n{nonce}\n{body}\n"),
            "Wechatpay-Serial": serial,
            "Wechatpay-Signature-Type": _SIGNATURE_TYPE,
        }

    def _wechat_error(self, status: int, code: str, message: str) -> Response:
        return self._wechat_signed(status, {"code": code, "message": message})

    async def _wechat_authenticated(self, request: Request) -> tuple[str, Response | None]:
        """The request body, and the refusal when its Authorization does not verify as the merchant's."""
        body = (await request.body()).decode("utf-8", errors="replace")
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        fields = dict(re.findall(r'(\w+)="([^"]*)"', credentials))
        path = request.scope["raw_path"].decode("latin-1")
        mounted_at = request.scope.get("root_path", "")  # served under a prefix (/sandbox-pay): WeChat has none
        if mounted_at and path.startswith(mounted_at):
            path = path[len(mounted_at) :]
        if request.scope["query_string"]:
            path += "?" + request.scope["query_string"].decode("latin-1")
        timestamp = fields.get("timestamp", "")
        if scheme != _SIGNATURE_TYPE or fields.get("mchid") != self.keys.wechat_mchid:
            return body, self._wechat_error(
                401, "SIGN_ERROR", "no WECHATPAY2-SHA256-RSA2048 authorization for this mchid"
            )
        if fields.get("serial_no") != self.keys.wechat_merchant_serial:
            return body, self._wechat_error(401, "SIGN_ERROR", "unknown merchant certificate serial_no")
        if (
            not timestamp.isdigit()
            or abs(self.clock().timestamp() - int(timestamp)) > REQUEST_TOLERANCE.total_seconds()
        ):
            return body, self._wechat_error(401, "SIGN_ERROR", "timestamp out of range")
        message = f"{request.method}\n{path}\n{timestamp}\n{fields.get('nonce_str', '')}\n{body}\n"
        if not _rsa_verifies(self.keys.wechat_merchant_key.public_key(), fields.get("signature", ""), message):
            return body, self._wechat_error(401, "SIGN_ERROR", "the signature does not verify")
        return body, None

    async def _wechat_native(self, request: Request) -> Response:
        body, refusal = await self._wechat_authenticated(request)
        if refusal:
            return refusal
        try:
            order = json.loads(body)
            amount = order["amount"]
            total, currency = amount["total"], amount.get("currency", "CNY")
            out_trade_no, description, notify_url = order["out_trade_no"], order["description"], order["notify_url"]
            valid = (
                order["appid"] == self.keys.wechat_appid
                and order["mchid"] == self.keys.wechat_mchid
                and type(total) is int
                and total >= 1
                and currency == "CNY"
                and isinstance(out_trade_no, str)
                and OUT_TRADE_NO.fullmatch(out_trade_no) is not None
                and isinstance(description, str)
                and 0 < len(description) <= 127
                and isinstance(notify_url, str)
                and notify_url.startswith(("https://", "http://"))
            )
        except (ValueError, KeyError, TypeError):
            valid = False
        if not valid:
            return self._wechat_error(400, "PARAM_ERROR", "invalid or missing parameters")
        existing = self.charges.get((WECHAT, out_trade_no))
        if existing is not None:
            if existing.paid_at is not None:
                return self._wechat_error(403, "ORDERPAID", "the order is paid")
            if (existing.amount, existing.description) != (total, description):
                return self._wechat_error(400, "INVALID_REQUEST", "out_trade_no used with other parameters")
            return self._wechat_signed(200, {"code_url": existing.qr_payload})
        charge = SandboxCharge(
            provider=WECHAT,
            out_trade_no=out_trade_no,
            description=description,
            amount=total,
            currency=currency,
            notify_url=notify_url,
            qr_payload="weixin://wxpay/bizpayurl?pr=" + _alphanumeric(7),
            created_at=self.clock(),
        )
        self.charges[(WECHAT, out_trade_no)] = charge
        return self._wechat_signed(200, {"code_url": charge.qr_payload})

    async def _wechat_query(self, request: Request) -> Response:
        _, refusal = await self._wechat_authenticated(request)
        if refusal:
            return refusal
        if request.query_params.get("mchid") != self.keys.wechat_mchid:
            return self._wechat_error(400, "PARAM_ERROR", "mchid missing or not the caller's")
        charge = self.charges.get((WECHAT, request.path_params["out_trade_no"]))
        if charge is None:
            return self._wechat_error(404, "ORDER_NOT_EXIST", "order does not exist")
        return self._wechat_signed(200, self._wechat_transaction(charge))

    def _wechat_transaction(self, charge: SandboxCharge) -> dict[str, Any]:
        transaction: dict[str, Any] = {
            "appid": self.keys.wechat_appid,
            "mchid": self.keys.wechat_mchid,
            "out_trade_no": charge.out_trade_no,
            "trade_type": "NATIVE",
            "amount": {"total": charge.amount, "currency": charge.currency, "payer_currency": charge.currency},
            "attach": "",
        }
        if charge.paid_at is None:
            transaction.update(trade_state="NOTPAY", trade_state_desc="订单未支付")
            return transaction
        transaction.update(
            trade_state="REFUND" if charge.refunds else "SUCCESS",
            trade_state_desc="订单发生过退款" if charge.refunds else "支付成功",
            transaction_id=charge.transaction_id,
            bank_type="OTHERS",
            success_time=charge.paid_at.astimezone(BEIJING).isoformat(timespec="seconds"),
            payer={"openid": "o" + charge.out_trade_no[-8:].rjust(27, "x")},
        )
        transaction["amount"]["payer_total"] = charge.amount
        return transaction

    async def _wechat_refund(self, request: Request) -> Response:
        body, refusal = await self._wechat_authenticated(request)
        if refusal:
            return refusal
        try:
            order = json.loads(body)
            out_refund_no, amount = order["out_refund_no"], order["amount"]
            refund, total = amount["refund"], amount["total"]
            charge = self.charges.get((WECHAT, order["out_trade_no"]))
            valid = (
                isinstance(out_refund_no, str)
                and 0 < len(out_refund_no) <= 64
                and type(refund) is int
                and type(total) is int
                and refund >= 1
                and amount.get("currency", "CNY") == "CNY"
            )
        except (ValueError, KeyError, TypeError):
            valid, charge = False, None
        if not valid:
            return self._wechat_error(400, "PARAM_ERROR", "invalid or missing parameters")
        if charge is None:
            return self._wechat_error(404, "RESOURCE_NOT_EXISTS", "order does not exist")
        if charge.paid_at is None:
            return self._wechat_error(400, "INVALID_REQUEST", "the order is not paid")
        if total != charge.amount:
            return self._wechat_error(400, "PARAM_ERROR", "amount.total is not the order's total")
        existing = charge.refunds.get(out_refund_no)
        if existing is not None:
            if existing.amount != refund:
                return self._wechat_error(400, "INVALID_REQUEST", "out_refund_no used with another amount")
            return self._wechat_signed(200, self._wechat_refund_answer(charge, existing))
        if charge.refunded + refund > charge.amount:
            return self._wechat_error(400, "INVALID_REQUEST", "the refund exceeds what is left to refund")
        made = SandboxRefund(out_refund_no, "50" + _digits(30), refund, self.clock().replace(microsecond=0))
        charge.refunds[out_refund_no] = made
        return self._wechat_signed(200, self._wechat_refund_answer(charge, made))

    def _wechat_refund_answer(self, charge: SandboxCharge, refund: SandboxRefund) -> dict[str, Any]:
        when = refund.created_at.astimezone(BEIJING).isoformat(timespec="seconds")
        return {
            "refund_id": refund.refund_id,
            "out_refund_no": refund.out_refund_no,
            "transaction_id": charge.transaction_id,
            "out_trade_no": charge.out_trade_no,
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "create_time": when,
            "success_time": when,
            "status": "SUCCESS",
            "funds_account": "AVAILABLE",
            "amount": {
                "total": charge.amount,
                "refund": refund.amount,
                "payer_total": charge.amount,
                "payer_refund": refund.amount,
                "settlement_total": charge.amount,
                "settlement_refund": refund.amount,
                "discount_refund": 0,
                "currency": charge.currency,
            },
        }

    async def _wechat_certificates(self, request: Request) -> Response:
        _, refusal = await self._wechat_authenticated(request)
        if refusal:
            return refusal
        certificate = self.keys.wechat_platform_certificate
        pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
        return self._wechat_signed(
            200,
            {
                "data": [
                    {
                        "serial_no": self.keys.wechat_platform_serial,
                        "effective_time": certificate.not_valid_before_utc.astimezone(BEIJING).isoformat(),
                        "expire_time": certificate.not_valid_after_utc.astimezone(BEIJING).isoformat(),
                        "encrypt_certificate": self._wechat_encrypt(pem, "certificate"),
                    }
                ]
            },
        )

    def _wechat_encrypt(self, plaintext: str, associated_data: str) -> dict[str, str]:
        """AEAD_AES_256_GCM with the APIv3 key, as WeChat encrypts certificates and notification resources."""
        nonce = _alphanumeric(12)
        ciphertext = AESGCM(self.keys.wechat_apiv3_key.encode()).encrypt(
            nonce.encode(), plaintext.encode(), associated_data.encode()
        )
        return {
            "algorithm": "AEAD_AES_256_GCM",
            "nonce": nonce,
            "associated_data": associated_data,
            "ciphertext": b64encode(ciphertext).decode(),
        }

    def _wechat_notification(
        self, charge: SandboxCharge, key: rsa.RSAPrivateKey | None, overrides: Mapping[str, Any]
    ) -> tuple[dict[str, str], bytes]:
        now = self.clock().replace(microsecond=0)
        resource = self._wechat_transaction(charge)
        if charge.paid_at is None:  # as if paid now
            resource.update(
                trade_state="SUCCESS",
                trade_state_desc="支付成功",
                transaction_id="4200" + _digits(24),
                bank_type="OTHERS",
                success_time=now.astimezone(BEIJING).isoformat(),
                payer={"openid": "o" + _alphanumeric(27)},
            )
            resource["amount"]["payer_total"] = charge.amount
        resource.update(trade_state="SUCCESS", trade_state_desc="支付成功")  # a payment notification, refunds or not
        _apply(resource, overrides)
        plaintext = json.dumps(resource, ensure_ascii=False, separators=(",", ":"))
        envelope = {
            "id": str(uuid.uuid4()),
            "create_time": now.astimezone(BEIJING).isoformat(),
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS",
            "summary": "支付成功",
            "resource": {"original_type": "transaction", **self._wechat_encrypt(plaintext, "transaction")},
        }
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
        headers = self._wechat_signature_headers(body, key)
        headers["Content-Type"] = "application/json"
        return headers, body.encode()

    # Alipay --------------------------------------------------------------------------------------------

    def _alipay_trade_no(self) -> str:
        return self.clock().astimezone(BEIJING).strftime("%Y%m%d") + "22001" + _digits(15)

    def _alipay_answer(self, method: str, payload: Mapping[str, Any]) -> Response:
        """``{"<method>_response": {...}, "sign": "..."}``: the sign covers the exact text of the object."""
        inner = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        response_key = method.replace(".", "_") + "_response"
        sign = _rsa_sign(self.keys.alipay_platform_key, inner)
        text = f'{{"{response_key}":{inner},"sign":"{sign}"}}'
        return Response(text.encode(), 200, media_type="text/html;charset=utf-8")

    def _alipay_failure(self, method: str, code: str, sub_code: str, sub_msg: str) -> Response:
        msg = {"40002": "Invalid Arguments", "40004": "Business Failed"}[code]
        return self._alipay_answer(method, {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg})

    async def _alipay_gateway(self, request: Request) -> Response:
        pairs = parse_qsl(request.url.query, keep_blank_values=True)
        if request.method == "POST":
            pairs += parse_qsl((await request.body()).decode("utf-8", errors="replace"), keep_blank_values=True)
        params = dict(pairs)
        method = params.get("method", "")
        if not re.fullmatch(r"[a-z]+(\.[a-z]+)+", method):
            method = "error"
        if params.get("app_id") != self.keys.alipay_app_id:
            return self._alipay_failure(method, "40002", "isv.invalid-app-id", "无效的AppID参数")
        if params.get("sign_type") != "RSA2":
            return self._alipay_failure(method, "40002", "isv.invalid-signature-type", "无效的签名类型")
        sign = params.pop("sign", "")
        # Alipay's rule: every parameter but sign, empty ones left out, sorted, k=v joined by &.
        content = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if v != "")
        if not _rsa_verifies(self.keys.alipay_app_key.public_key(), sign, content):
            return self._alipay_failure(method, "40002", "isv.invalid-signature", "验签出错")
        try:
            sent = datetime.strptime(params.get("timestamp", ""), "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
        except ValueError:
            sent = None
        if sent is None or abs(self.clock() - sent) > ALIPAY_REQUEST_TOLERANCE:
            return self._alipay_failure(method, "40002", "isv.invalid-timestamp", "非法的时间戳参数")
        try:
            biz = json.loads(params.get("biz_content", ""))
            if not isinstance(biz, dict):
                raise ValueError
        except ValueError:
            return self._alipay_failure(method, "40002", "isv.invalid-biz-content", "biz_content 无效")
        handler = {
            "alipay.trade.precreate": self._alipay_precreate,
            "alipay.trade.query": self._alipay_query,
            "alipay.trade.refund": self._alipay_refund,
            "alipay.trade.fastpay.refund.query": self._alipay_refund_query,
        }.get(method)
        if handler is None:
            return self._alipay_failure(method, "40002", "isv.invalid-method", "不存在的方法名")
        return handler(method, params, biz)

    def _alipay_precreate(self, method: str, params: dict[str, str], biz: dict[str, Any]) -> Response:
        out_trade_no, subject = biz.get("out_trade_no"), biz.get("subject")
        amount = _fen_or_zero(biz.get("total_amount"))
        if (
            not isinstance(out_trade_no, str)
            or not re.fullmatch(r"[0-9A-Za-z_]{1,64}", out_trade_no)
            or not isinstance(subject, str)
            or not 0 < len(subject) <= 256
            or not 1 <= amount <= 100_000_000_00  # ¥0.01 to ¥100,000,000
        ):
            return self._alipay_failure(method, "40002", "isv.invalid-parameter", "参数无效")
        notify_url = params.get("notify_url", "")
        existing = self.charges.get((ALIPAY, out_trade_no))
        if existing is not None:
            if existing.paid_at is not None:
                return self._alipay_failure(method, "40004", "ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
            if (existing.amount, existing.description) != (amount, subject):
                return self._alipay_failure(method, "40004", "ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
            charge = existing
        else:
            charge = SandboxCharge(
                provider=ALIPAY,
                out_trade_no=out_trade_no,
                description=subject,
                amount=amount,
                currency="CNY",
                notify_url=notify_url,
                qr_payload="https://qr.alipay.com/bax0" + _alphanumeric(20).lower(),
                created_at=self.clock(),
            )
            self.charges[(ALIPAY, out_trade_no)] = charge
        return self._alipay_answer(
            method, {"code": "10000", "msg": "Success", "out_trade_no": out_trade_no, "qr_code": charge.qr_payload}
        )

    def _alipay_trade(self, biz: Mapping[str, Any]) -> SandboxCharge | None:
        """The trade Alipay knows (scanned or paid) by out_trade_no and/or trade_no."""
        out_trade_no, trade_no = biz.get("out_trade_no"), biz.get("trade_no")
        if out_trade_no is None and trade_no is None:
            return None
        for charge in self.charges.values():
            if charge.provider != ALIPAY or charge.transaction_id is None:
                continue
            if out_trade_no in (charge.out_trade_no, None) and trade_no in (charge.transaction_id, None):
                return charge
        return None

    def _alipay_status(self, charge: SandboxCharge) -> str:
        if charge.paid_at is None:
            return "WAIT_BUYER_PAY"
        return "TRADE_CLOSED" if charge.refunded == charge.amount else "TRADE_SUCCESS"

    def _alipay_query(self, method: str, params: dict[str, str], biz: dict[str, Any]) -> Response:
        charge = self._alipay_trade(biz)
        if charge is None:
            return self._alipay_failure(method, "40004", "ACQ.TRADE_NOT_EXIST", "交易不存在")
        answer = {
            "code": "10000",
            "msg": "Success",
            "trade_no": charge.transaction_id,
            "out_trade_no": charge.out_trade_no,
            "buyer_logon_id": "san***@sandbox.example",
            "trade_status": self._alipay_status(charge),
            "total_amount": fen_to_yuan(charge.amount),
            "buyer_user_id": "2088" + "0" * 12,
        }
        if charge.paid_at is not None:
            answer.update(
                buyer_pay_amount=fen_to_yuan(charge.amount),
                receipt_amount=fen_to_yuan(charge.amount),
                send_pay_date=beijing_time(charge.paid_at),
            )
        return self._alipay_answer(method, answer)

    def _alipay_refund(self, method: str, params: dict[str, str], biz: dict[str, Any]) -> Response:
        charge = self._alipay_trade(biz)
        if charge is None:
            return self._alipay_failure(method, "40004", "ACQ.TRADE_NOT_EXIST", "交易不存在")
        amount = _fen_or_zero(biz.get("refund_amount"))
        out_request_no = biz.get("out_request_no") or charge.out_trade_no
        if amount < 1 or not isinstance(out_request_no, str) or len(out_request_no) > 64:
            return self._alipay_failure(method, "40002", "isv.invalid-parameter", "参数无效")
        if charge.paid_at is None:
            return self._alipay_failure(method, "40004", "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        existing = charge.refunds.get(out_request_no)
        if existing is not None and existing.amount != amount:
            return self._alipay_failure(method, "40004", "ACQ.CONTEXT_INCONSISTENT", "参数与已退款请求不一致")
        if existing is None:
            if charge.refunded + amount > charge.amount:
                return self._alipay_failure(method, "40004", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
            charge.refunds[out_request_no] = SandboxRefund(
                out_request_no, "", amount, self.clock().replace(microsecond=0)
            )
        return self._alipay_answer(
            method,
            {
                "code": "10000",
                "msg": "Success",
                "trade_no": charge.transaction_id,
                "out_trade_no": charge.out_trade_no,
                "buyer_logon_id": "san***@sandbox.example",
                "fund_change": "N" if existing else "Y",  # "N": this call refunded nothing new
                "refund_fee": fen_to_yuan(charge.refunded),
                "buyer_user_id": "2088" + "0" * 12,
            },
        )

    def _alipay_refund_query(self, method: str, params: dict[str, str], biz: dict[str, Any]) -> Response:
        charge = self._alipay_trade(biz)
        refund = charge.refunds.get(str(biz.get("out_request_no"))) if charge else None
        if charge is None or refund is None:
            return self._alipay_answer(method, {"code": "10000", "msg": "Success"})  # as Alipay: no such refund
        return self._alipay_answer(
            method,
            {
                "code": "10000",
                "msg": "Success",
                "trade_no": charge.transaction_id,
                "out_trade_no": charge.out_trade_no,
                "out_request_no": refund.out_refund_no,
                "total_amount": fen_to_yuan(charge.amount),
                "refund_amount": fen_to_yuan(refund.amount),
                "refund_status": "REFUND_SUCCESS",
            },
        )

    def _alipay_notification(
        self, charge: SandboxCharge, key: rsa.RSAPrivateKey | None, overrides: Mapping[str, Any]
    ) -> tuple[dict[str, str], bytes]:
        now = self.clock().replace(microsecond=0)
        yuan = fen_to_yuan(charge.amount)
        form: dict[str, Any] = {
            "notify_time": beijing_time(now),
            "notify_type": "trade_status_sync",
            "notify_id": secrets.token_hex(16),
            "charset": "utf-8",
            "version": "1.0",
            "app_id": self.keys.alipay_app_id,
            "auth_app_id": self.keys.alipay_app_id,
            "trade_no": charge.transaction_id or self._alipay_trade_no(),
            "out_trade_no": charge.out_trade_no,
            "buyer_id": "2088" + "0" * 12,
            "buyer_logon_id": "san***@sandbox.example",
            "seller_id": self.keys.alipay_seller_id,
            "trade_status": "TRADE_SUCCESS",
            "total_amount": yuan,
            "receipt_amount": yuan,
            "buyer_pay_amount": yuan,
            "invoice_amount": yuan,
            "point_amount": "0.00",
            "subject": charge.description,
            "gmt_create": beijing_time(charge.created_at),
            "gmt_payment": beijing_time(charge.paid_at or now),
            "fund_bill_list": json.dumps([{"amount": yuan, "fundChannel": "ALIPAYACCOUNT"}], separators=(",", ":")),
        }
        _apply(form, overrides)
        fields = {k: str(v) for k, v in form.items()}
        # Alipay signs every parameter but sign and sign_type, empty ones left out, sorted, k=v joined by &.
        content = "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if v != "")
        fields["sign_type"] = "RSA2"
        fields["sign"] = _rsa_sign(key or self.keys.alipay_platform_key, content)
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        return headers, urlencode(fields).encode()

    # Development pages ---------------------------------------------------------------------------------

    def _provider(self, request: Request) -> Provider:
        name = request.path_params["provider"]
        for provider in PROVIDERS:
            if provider == name:
                return provider
        raise SandboxError(f"no provider {name!r} (one of {', '.join(PROVIDERS)})")

    async def _pay_endpoint(self, request: Request) -> Response:
        try:
            delivery = await self.pay(self._provider(request), request.path_params["out_trade_no"])
        except SandboxError as error:
            return JSONResponse({"error": str(error)}, 404)
        return JSONResponse(
            {"notify_url": delivery.url, "status": delivery.status, "answer": delivery.body, "error": delivery.error}
        )

    async def _pay_page(self, request: Request) -> Response:
        try:
            charge = self.charge(self._provider(request), request.path_params["out_trade_no"])
        except SandboxError as error:
            return HTMLResponse(f"<p>{html.escape(str(error))}</p>", 404)
        state = "paid" if charge.paid_at else "not paid"
        return HTMLResponse(
            f"""<!doctype html><meta charset="utf-8"><title>Sandbox payment</title>
<h1>{html.escape(charge.provider)}: {html.escape(charge.description)}</h1>
<p>{html.escape(charge.out_trade_no)} · ¥{fen_to_yuan(charge.amount)} · {state}</p>
<form method="post"><button>Pay</button></form>"""
        )

    async def _charges_page(self, request: Request) -> Response:
        return JSONResponse(
            [
                {
                    "provider": charge.provider,
                    "out_trade_no": charge.out_trade_no,
                    "amount": charge.amount,
                    "paid": charge.paid_at is not None,
                    "refunded": charge.refunded,
                    "pay": f"/sandbox/pay/{charge.provider}/{charge.out_trade_no}",
                }
                for charge in self.charges.values()
            ]
        )


def _fen_or_zero(yuan: Any) -> int:
    """An Alipay amount in fen; 0 (refused by every caller) when it is not one."""
    try:
        return yuan_to_fen(yuan) if isinstance(yuan, str) else 0
    except ValueError:
        return 0


def _apply(fields: dict[str, Any], overrides: Mapping[str, Any]) -> None:
    for name, value in overrides.items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value


def sandbox_app(keys: SandboxKeys) -> Starlette:
    """The sandbox as an ASGI app; ``app.state.sandbox`` is its ``PaymentSandbox``."""
    return PaymentSandbox(keys).app

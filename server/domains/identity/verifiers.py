"""Who a signing-in customer is: WeChat login codes and SMS codes, behind small interfaces.

Real implementations call WeChat's code2Session API and an SMS gateway; the
development ones (refused in production) accept SMS code 000000 and WeChat
codes of the form ``dev:<openid>``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

import httpx

logger = logging.getLogger("irs.identity")

CODE2SESSION_URL = "https://api.weixin.qq.com/sns/jscode2session"
DEV_SMS_CODE = "000000"
DEV_WECHAT_PREFIX = "dev:"


class VerificationFailed(Exception):
    """The code is wrong, expired or already used."""


class VerifierUnavailable(Exception):
    """The upstream service could not be reached or refused us."""


@dataclass(frozen=True)
class WeChatIdentity:
    openid: str
    unionid: str | None = None


class WeChatCodeVerifier(Protocol):
    async def exchange(self, app_id: str, code: str) -> WeChatIdentity: ...


class SmsSender(Protocol):
    async def send(self, phone: str, text: str) -> None: ...


class WeChatCode2Session:
    """WeChat's jscode2session: a mini-program login code -> openid (and unionid when bound)."""

    def __init__(
        self, apps: dict[str, str], client: httpx.AsyncClient | None = None, url: str = CODE2SESSION_URL
    ) -> None:
        self.apps = apps
        self.client = client or httpx.AsyncClient(timeout=5.0)
        self.url = url

    async def exchange(self, app_id: str, code: str) -> WeChatIdentity:
        secret = self.apps.get(app_id)
        if secret is None:
            raise VerificationFailed(f"unknown mini-program appId {app_id}")
        params = {"appid": app_id, "secret": secret, "js_code": code, "grant_type": "authorization_code"}
        try:
            response = await self.client.get(self.url, params=params)
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise VerifierUnavailable(f"WeChat code2Session unreachable: {error}") from None
        errcode = body.get("errcode", 0)
        if errcode in (40029, 40163, 40226):  # invalid, used, or blocked code
            raise VerificationFailed(f"WeChat refused the code ({errcode})")
        if errcode or not body.get("openid"):
            raise VerifierUnavailable(f"WeChat code2Session error {errcode}: {body.get('errmsg')}")
        return WeChatIdentity(openid=body["openid"], unionid=body.get("unionid"))


class DevWeChatVerifier:
    """Development only: the code ``dev:<openid>`` signs in as that openid."""

    async def exchange(self, app_id: str, code: str) -> WeChatIdentity:
        if not code.startswith(DEV_WECHAT_PREFIX) or len(code) <= len(DEV_WECHAT_PREFIX):
            raise VerificationFailed("development codes look like dev:<openid>")
        return WeChatIdentity(openid=code[len(DEV_WECHAT_PREFIX) :])


class HttpSmsGateway:
    """POSTs {"phone", "text"} as JSON to an SMS gateway with a bearer token."""

    def __init__(self, url: str, token: str, client: httpx.AsyncClient | None = None) -> None:
        self.url, self.token = url, token
        self.client = client or httpx.AsyncClient(timeout=5.0)

    async def send(self, phone: str, text: str) -> None:
        try:
            response = await self.client.post(
                self.url, json={"phone": phone, "text": text}, headers={"authorization": f"Bearer {self.token}"}
            )
        except httpx.HTTPError as error:
            raise VerifierUnavailable(f"SMS gateway unreachable: {error}") from None
        if response.status_code >= 300:
            raise VerifierUnavailable(f"SMS gateway answered {response.status_code}")


@dataclass
class DevSmsOutbox:
    """Development only: keeps the messages it would have sent (and logs them)."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, phone: str, text: str) -> None:
        self.sent.append((phone, text))
        logger.info("development SMS to %s: %s", phone, text)


@dataclass(frozen=True)
class Verifiers:
    wechat: WeChatCodeVerifier | None
    sms: SmsSender | None
    accept_dev_sms_code: bool

    @classmethod
    def from_settings(cls, settings) -> Verifiers:
        apps = {app: secret.get_secret_value() for app, secret in settings.wechat_apps.items()}
        wechat: WeChatCodeVerifier | None
        sms: SmsSender | None
        if settings.dev_verifiers:
            wechat = WeChatCode2Session(apps) if apps else DevWeChatVerifier()
            sms = DevSmsOutbox()
        else:
            wechat = WeChatCode2Session(apps) if apps else None
            sms = (
                HttpSmsGateway(settings.sms_gateway_url, settings.sms_gateway_token.get_secret_value())
                if settings.sms_gateway_url and settings.sms_gateway_token
                else None
            )
        return cls(wechat=wechat, sms=sms, accept_dev_sms_code=bool(settings.dev_verifiers))

"""Ways to reach a customer: a WeChat subscription message, or an SMS. Each says whether it can."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from ..identity.verifiers import SmsSender

logger = logging.getLogger("irs.messaging")

TOKEN_URL = "https://api.weixin.qq.com/cgi-bin/token"
SUBSCRIBE_SEND_URL = "https://api.weixin.qq.com/cgi-bin/message/subscribe/send"


class ChannelUnavailable(Exception):
    """The channel could not deliver now (network, quota); the message is tried again later."""


@dataclass(frozen=True)
class Recipient:
    openids: dict[str, str]  # mini-program appId -> her openid there
    phone: str | None


@dataclass(frozen=True)
class Rendered:
    text: str  # for SMS
    fields: dict[str, str]  # for a WeChat template
    page: str  # the mini-program page the message opens


class MessageChannel(Protocol):
    name: str

    def reaches(self, recipient: Recipient) -> bool: ...

    async def send(self, recipient: Recipient, message: Rendered) -> None: ...


class SmsChannel:
    name = "SMS"

    def __init__(self, sender: SmsSender) -> None:
        self.sender = sender

    def reaches(self, recipient: Recipient) -> bool:
        return recipient.phone is not None

    async def send(self, recipient: Recipient, message: Rendered) -> None:
        if recipient.phone is None:  # not reached (see reaches): callers try another channel
            raise ChannelUnavailable("the recipient has no phone number")
        try:
            await self.sender.send(recipient.phone, message.text)
        except Exception as error:
            raise ChannelUnavailable(str(error)) from None


class WeChatSubscribeChannel:
    """WeChat subscription messages of one mini-program (she must have subscribed to the template)."""

    name = "WECHAT"

    def __init__(self, app_id: str, secret: str, template_id: str, client: httpx.AsyncClient | None = None) -> None:
        self.app_id, self.secret, self.template_id = app_id, secret, template_id
        self.client = client or httpx.AsyncClient(timeout=5.0)
        self._token: tuple[str, float] | None = None

    def reaches(self, recipient: Recipient) -> bool:
        return self.app_id in recipient.openids

    async def send(self, recipient: Recipient, message: Rendered) -> None:
        body = {
            "touser": recipient.openids[self.app_id],
            "template_id": self.template_id,
            "page": message.page,
            "data": {name: {"value": value} for name, value in message.fields.items()},
        }
        answer = await self._call(
            "POST", SUBSCRIBE_SEND_URL, params={"access_token": await self._access_token()}, json=body
        )
        if answer.get("errcode", 0):
            raise ChannelUnavailable(f"WeChat subscribe/send error {answer.get('errcode')}: {answer.get('errmsg')}")

    async def _access_token(self) -> str:
        if self._token and self._token[1] > time.monotonic():
            return self._token[0]
        answer = await self._call(
            "GET", TOKEN_URL, params={"grant_type": "client_credential", "appid": self.app_id, "secret": self.secret}
        )
        if not answer.get("access_token"):
            raise ChannelUnavailable(f"WeChat token error {answer.get('errcode')}: {answer.get('errmsg')}")
        self._token = (answer["access_token"], time.monotonic() + int(answer.get("expires_in", 7200)) - 300)
        return self._token[0]

    async def _call(self, method: str, url: str, **kwargs) -> dict:
        try:
            response = await self.client.request(method, url, **kwargs)
            return response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise ChannelUnavailable(f"WeChat unreachable: {error}") from None


@dataclass
class DevChannel:
    """Development: takes every message and keeps it (and logs it)."""

    name: str = "DEV"
    sent: list[tuple[Recipient, Rendered]] = field(default_factory=list)

    def reaches(self, recipient: Recipient) -> bool:
        return True

    async def send(self, recipient: Recipient, message: Rendered) -> None:
        self.sent.append((recipient, message))
        logger.info("development message: %s", message.text)


def channels_from_settings(settings, sms: SmsSender | None) -> list[MessageChannel]:
    """WeChat first (when a mini-program and template are configured), then SMS; development records."""
    if settings.dev_verifiers:
        return [DevChannel()]
    channels: list[MessageChannel] = []
    app_id, template = settings.wechat_reminder_app_id, settings.wechat_reminder_template_id
    if app_id and template and app_id in settings.wechat_apps:
        channels.append(WeChatSubscribeChannel(app_id, settings.wechat_apps[app_id].get_secret_value(), template))
    if sms is not None:
        channels.append(SmsChannel(sms))
    if not channels:
        logger.warning("no customer message channel configured: reminders will be skipped")
    return channels

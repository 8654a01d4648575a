"""The payment providers a process uses: the vendors' (from IRS_WECHAT_PAY_* and IRS_ALIPAY_*), or the
built-in sandbox that speaks their protocols (development), which the app then serves at /sandbox-pay."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.applications import Starlette

from ...settings import Settings
from .providers import AlipayProvider, PaymentProvider, WeChatPayProvider
from .services import Providers

SANDBOX_PATH = "/sandbox-pay"


@dataclass(frozen=True)
class PaymentSetup:
    providers: Providers
    sandbox: Starlette | None  # served at SANDBOX_PATH when payments go through the sandbox


def payment_setup(settings: Settings) -> PaymentSetup:
    if settings.payments_sandbox:
        return _sandbox_setup(settings)
    by_name: dict[str, PaymentProvider] = {}
    if settings.wechat_pay_mchid and settings.wechat_pay_private_key_path and settings.wechat_pay_apiv3_key:
        by_name["wechat_pay"] = WeChatPayProvider(
            mchid=settings.wechat_pay_mchid,
            appid=settings.wechat_pay_appid or "",
            private_key=settings.wechat_pay_private_key_path.read_text(),
            cert_serial_no=settings.wechat_pay_cert_serial_no or "",
            apiv3_key=settings.wechat_pay_apiv3_key.get_secret_value(),
            platform_public_key=settings.wechat_pay_public_key_path.read_text()
            if settings.wechat_pay_public_key_path
            else "",
            platform_public_key_id=settings.wechat_pay_public_key_id or "",
            gateway=settings.wechat_pay_gateway,
        )
    if settings.alipay_app_id and settings.alipay_app_private_key_path and settings.alipay_public_key_path:
        by_name["alipay"] = AlipayProvider(
            app_id=settings.alipay_app_id,
            app_private_key=settings.alipay_app_private_key_path.read_text(),
            alipay_public_key=settings.alipay_public_key_path.read_text(),
            gateway=settings.alipay_gateway,
        )
    return PaymentSetup(Providers(by_name, settings.public_url), None)


def _sandbox_setup(settings: Settings) -> PaymentSetup:
    from .providers.sandbox import SandboxKeys, sandbox_app  # development only: not imported in production

    keys = SandboxKeys.load_or_generate(settings.payments_sandbox_keys_dir or settings.var_dir / "sandbox-pay")
    base = settings.payments_sandbox_url or settings.public_url.rstrip("/") + SANDBOX_PATH
    by_name: dict[str, PaymentProvider] = {
        "wechat_pay": WeChatPayProvider(**keys.wechat_pay_arguments(base)),
        "alipay": AlipayProvider(**keys.alipay_arguments(base)),
    }
    return PaymentSetup(Providers(by_name, settings.public_url), sandbox_app(keys))

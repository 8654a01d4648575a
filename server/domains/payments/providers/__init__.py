"""Payment providers: one interface (``base``), WeChat Pay API v3 (``wechat``) and Alipay RSA2 (``alipay``)
adapters on the vendors' libraries, and a sandbox playing both vendors (``sandbox``, imported on its own:
it is for development and tests)."""

from .alipay import AlipayProvider
from .base import (
    ChargeState,
    ChargeStatus,
    InvalidNotification,
    NativeCharge,
    PaymentProvider,
    ProviderError,
    RefundCharge,
    RefundStatus,
)
from .wechat import WeChatPayProvider

__all__ = [
    "AlipayProvider",
    "ChargeState",
    "ChargeStatus",
    "InvalidNotification",
    "NativeCharge",
    "PaymentProvider",
    "ProviderError",
    "RefundCharge",
    "RefundStatus",
    "WeChatPayProvider",
]


def _conforms(wechat: WeChatPayProvider, alipay: AlipayProvider) -> tuple[PaymentProvider, PaymentProvider]:
    """Never called: mypy checks here that both adapters are PaymentProviders."""
    return wechat, alipay

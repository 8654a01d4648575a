"""The sandbox's keys on disk, and `irs sandbox-pay`, which serves the sandbox with them."""

from __future__ import annotations

import stat
from pathlib import Path

import uvicorn
from click.testing import CliRunner

from server.cli import main
from server.domains.payments.providers import AlipayProvider, WeChatPayProvider
from server.domains.payments.providers.sandbox import PaymentSandbox, SandboxKeys, private_pem, public_pem


def test_keys_saved_are_the_keys_loaded(tmp_path, keys):
    keys.save(tmp_path / "keys")
    loaded = SandboxKeys.load(tmp_path / "keys")
    assert loaded.wechat_pay_arguments("http://sandbox") == keys.wechat_pay_arguments("http://sandbox")
    assert loaded.alipay_arguments("http://sandbox") == keys.alipay_arguments("http://sandbox")
    assert loaded.wechat_platform_certificate == keys.wechat_platform_certificate
    assert private_pem(loaded.alipay_platform_key) == private_pem(keys.alipay_platform_key)
    assert (loaded.alipay_seller_id, loaded.wechat_platform_serial) == (
        keys.alipay_seller_id,
        keys.wechat_platform_serial,
    )
    for name in ("wechat_merchant_key.pem", "wechat_platform_key.pem", "alipay_app_key.pem", "sandbox.json"):
        assert stat.S_IMODE((tmp_path / "keys" / name).stat().st_mode) == 0o600


def test_sandbox_pay_serves_the_sandbox_and_prints_what_a_server_needs(tmp_path, monkeypatch):
    served: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(app=app, **options))
    keys_dir = tmp_path / "keys"
    result = CliRunner().invoke(main, ["sandbox-pay", "--port", "8799", "--keys-dir", str(keys_dir)])
    assert result.exit_code == 0, result.output
    keys = SandboxKeys.load(keys_dir)
    sandbox = served["app"].state.sandbox
    assert isinstance(sandbox, PaymentSandbox) and sandbox.keys.wechat_mchid == keys.wechat_mchid
    assert served["port"] == 8799

    env = dict(line.split("=", 1) for line in result.output.splitlines() if line.startswith("IRS_"))
    assert env["IRS_WECHAT_PAY_GATEWAY"] == "http://127.0.0.1:8799"
    assert env["IRS_ALIPAY_GATEWAY"] == "http://127.0.0.1:8799/gateway.do"
    assert Path(env["IRS_WECHAT_PAY_PRIVATE_KEY_PATH"]).read_text() == private_pem(keys.wechat_merchant_key)
    assert Path(env["IRS_ALIPAY_PUBLIC_KEY_PATH"]).read_text() == public_pem(keys.alipay_platform_key)
    # What is printed is enough to build both providers.
    WeChatPayProvider(
        mchid=env["IRS_WECHAT_PAY_MCHID"],
        appid=env["IRS_WECHAT_PAY_APPID"],
        private_key=Path(env["IRS_WECHAT_PAY_PRIVATE_KEY_PATH"]).read_text(),
        cert_serial_no=env["IRS_WECHAT_PAY_CERT_SERIAL_NO"],
        apiv3_key=env["IRS_WECHAT_PAY_APIV3_KEY"],
        platform_public_key=Path(env["IRS_WECHAT_PAY_PUBLIC_KEY_PATH"]).read_text(),
        platform_public_key_id=env["IRS_WECHAT_PAY_PUBLIC_KEY_ID"],
        gateway=env["IRS_WECHAT_PAY_GATEWAY"],
    )
    AlipayProvider(
        app_id=env["IRS_ALIPAY_APP_ID"],
        app_private_key=Path(env["IRS_ALIPAY_APP_PRIVATE_KEY_PATH"]).read_text(),
        alipay_public_key=Path(env["IRS_ALIPAY_PUBLIC_KEY_PATH"]).read_text(),
        gateway=env["IRS_ALIPAY_GATEWAY"],
    )

    again = CliRunner().invoke(main, ["sandbox-pay", "--port", "8799", "--keys-dir", str(keys_dir)])
    assert again.exit_code == 0 and f"IRS_WECHAT_PAY_MCHID={keys.wechat_mchid}" in again.output  # the same keys

"""Nothing secret in what the app logs, and its log file private.

The app itself runs in a child process (``app_driver.py``) started as `make app` starts it, with an
empty HOME (so this is also its first start on a bare machine): its console output and Kivy's log
file are read back for the password, the tokens and a customer's phone; the same run checks where
the refresh token is kept and that sign-out asks, clears the password and ends the session on the
server. The redaction is also checked in this process with every logger at DEBUG.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import sys
from pathlib import Path

import pytest

from guide_app import logs
from server.domains.auth.tokens import hash_refresh_secret
from tests.conftest import IN_CI
from tests.server.assertions import scalar
from tests.world import PASSWORD

from .conftest import customer_books, eventually, signed_in_guide

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("app_driver.py")
PHONE = "13912341111"
TOKEN_REFRESH = "mutation($t: String!) { tokenRefresh(refreshToken: $t) { errors { code } } }"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def phone_forms(phone: str) -> list[str]:
    return [phone, f"+86{phone}", f"{phone[:3]} {phone[3:7]} {phone[7:]}"]


def test_redaction_hides_secrets_and_masks_phones():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzdGFmZjoxIn0.c2lnbmF0dXJlLWhlcmUtYW5kLW1vcmU"
    refresh = "Q3b1xYz_0-9aBcDeFgHiJkLmNoPqRsTuVwXyZ012345"
    line = (
        '>>> {"operationName": "StaffLogin", "variables": {"username": "sh.guide", "password": "p@ss \\"w0rd\\""}} '
        f'{{"refreshToken":"{refresh}"}} authorization: Bearer {jwt} refresh_token={refresh} '
        f'\'TEXT {{"payload":{{"authorization":"Bearer {jwt[:30]}\'\n'
        "phones +8613912341111, 13912341111, 139 1234 1111 and +85291234567; "
        "at 1733290000123 in test_a_session_ended_elsewhere_closes_the_live_inbox_and_leads_back"
    )
    clean = logs.redact(line)
    for secret in ("p@ss", "w0rd", jwt[:20], refresh, "13912341111", "1234 1111", "91234567"):
        assert secret not in clean, secret
    assert '"username": "sh.guide"' in clean and '"password": "[redacted]"' in clean
    assert "+86139****1111, 139****1111, 139****1111 and +852****4567" in clean
    assert "1733290000123" in clean and "test_a_session_ended_elsewhere_closes_the_live_inbox" in clean


def test_the_level_is_info_unless_asked(monkeypatch):
    monkeypatch.delenv(logs.LEVEL_VARIABLE, raising=False)
    assert logs.requested_level() == logging.INFO
    monkeypatch.setenv(logs.LEVEL_VARIABLE, "debug")
    assert logs.requested_level() == logging.DEBUG
    monkeypatch.setenv(logs.LEVEL_VARIABLE, "nonsense")
    assert logs.requested_level() == logging.INFO


@pytest.fixture
def redaction():
    logs.install_redaction()
    yield
    logs.uninstall_redaction()


async def test_even_at_debug_with_the_transports_talking_no_secret_is_logged(
    server, world, clock, make_session, caplog, redaction
):
    """The worst case: every logger at DEBUG, the gql/websockets/httpx transports too (the app quiets them;
    here they log every request, answer and frame): the redaction alone must keep the secrets out."""
    await customer_books(server, world, clock, phone=PHONE)
    caplog.set_level(logging.DEBUG)
    for name in logs.TRANSPORT_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    await eventually(lambda: session.inbox.rows(), what="her task")
    clock.advance(minutes=14)  # a token refresh too: its variables and the new pair
    await session.inbox.refresh()
    tokens = session.api.tokens
    await session.sign_out()
    text = caplog.text
    assert '"operationName": "StaffLogin"' in text and "[redacted]" in text  # the transports did talk
    assert "139****1111" in text  # her phone was in an answer, masked
    for secret in [PASSWORD, tokens.access_token, tokens.refresh_token, *phone_forms(PHONE)]:
        assert secret not in text


def child_environment(home: Path, **extra: str) -> dict[str, str]:
    """As a guide's desktop has it: no KIVY_* the tests set, no XDG_CONFIG_HOME, an empty HOME."""
    dropped = {"XDG_CONFIG_HOME", "KIVY_HOME", "KIVY_LOG_MODE", "KIVY_NO_FILELOG", "KIVY_NO_CONSOLELOG"}
    environment = {k: v for k, v in os.environ.items() if k not in dropped and k != logs.LEVEL_VARIABLE}
    return {
        **environment,
        "HOME": str(home),
        "SDL_VIDEODRIVER": "offscreen",
        "KIVY_WINDOW": "sdl2",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


@pytest.fixture(scope="module")
def display(tmp_path_factory):
    from .test_ui import UI_ENVIRONMENT, display_problem

    problem = display_problem({**UI_ENVIRONMENT, "KIVY_HOME": str(tmp_path_factory.mktemp("probe"))})
    if problem:
        if IN_CI:
            pytest.fail(f"the app needs an offscreen GL window (.ci/run installs it): {problem}")
        pytest.skip(f"no offscreen display/GL backend on this machine: {problem}")


@pytest.mark.parametrize("level", [None, "debug"], ids=["default", "IRS_GUIDE_LOG_LEVEL=debug"])
async def test_the_app_logs_no_secret_keeps_its_files_private_and_signs_out_for_good(
    display, server, world, clock, tmp_path, guide_database, level
):
    await customer_books(server, world, clock, phone=PHONE)
    home = tmp_path / "home"
    home.mkdir()  # empty: no ~/.config, no ~/.kivy (the first start on a fresh machine)
    report_path = tmp_path / "report.json"
    extra = {logs.LEVEL_VARIABLE: level} if level else {}
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(DRIVER),
        server.base_url,
        "sh.guide",
        PASSWORD,
        str(report_path),
        cwd=ROOT,
        env=child_environment(home, **extra),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(child.communicate(), timeout=240)
    console = out.decode(errors="replace") + err.decode(errors="replace")
    assert child.returncode == 0, console[-3000:]
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report.get("done"), (report.get("failure"), console[-3000:])

    # The log: at the level asked, written to Kivy's file (private), without a secret or a phone.
    log_dir = home / ".kivy" / "logs"
    (log_file,) = log_dir.glob("kivy_*.txt")
    assert mode(log_dir) == 0o700 and mode(log_file) == 0o600
    written = log_file.read_text(encoding="utf-8")
    expected_level = "DEBUG" if level else "INFO"
    assert f"logging at {expected_level}" in written and "signed in as sh.guide" in written and "signed out" in written
    assert ("[DEBUG  ]" in written) == bool(level)
    secrets = [PASSWORD, report["tokens"]["access"], report["tokens"]["refresh"], *phone_forms(PHONE)]
    for secret in secrets:
        assert secret not in console, f"{secret[:6]}… on the console"
        assert secret not in written, f"{secret[:6]}… in {log_file.name}"

    # The first start made what it needs, private: ~/.config/guide for the session.
    data_dir = home / ".config" / "guide"
    assert report["user_data_dir"] == str(data_dir) and mode(data_dir) == 0o700
    # Signed in, the refresh token is in one file only, her session file (0600), never Kivy's config.
    assert report["refresh_token_files"] == {str(data_dir / "session.json"): "0o600"}
    # Sign-out asked first; cancelling kept her signed in; confirming left nothing on the phone...
    assert report["dialog_title"] == "确定退出登录？" and report["signed_in_after_cancel"] is True
    assert report["password_field_after_sign_in"] == "" and report["password_field_after_sign_out"] == ""
    assert report["username_field_after_sign_out"] == "sh.guide"
    assert report["refresh_token_files_after_sign_out"] == {}
    # ... and ended the session on the server: its refresh token is refused, its row revoked.
    refused = await server.graphql(TOKEN_REFRESH, {"t": report["tokens"]["refresh"]})
    assert refused["tokenRefresh"]["errors"] == [{"code": "INVALID_REFRESH_TOKEN"}]
    revoked_at = await scalar(
        guide_database,
        "SELECT revoked_at FROM refresh_token WHERE token_hash = :h",
        h=hash_refresh_secret(report["tokens"]["refresh"]),
    )
    assert revoked_at is not None


def test_older_logs_are_made_private_too(tmp_path):
    directory = tmp_path / "logs"
    directory.mkdir(mode=0o755)
    old = directory / "kivy_26-01-01_0.txt"
    old.write_text("older run")
    old.chmod(0o644)
    logs.make_private(directory)
    assert mode(directory) == 0o700 and mode(old) == 0o600

"""The real app, started as `make app` starts it (``guide_app.main.prepare``: its logging, Kivy's console
and file loggers, Kivy's own directories), walked through a shift on a shared store phone: sign in
through the sign-in screen, wait for her task in the inbox, tap 退出登录, cancel, tap again, confirm.

It writes what a test cannot see from outside (the tokens the app held, which files held the
refresh token, the password field) as JSON to ``report``; ``test_logs.py`` runs it in a child
process with an empty HOME and reads that report, its stdout/stderr and the log file it left.

    python tests/guide_app/app_driver.py <server url> <username> <password> <report.json>
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path


async def until(condition, what: str, timeout: float = 60.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def files_holding(secret: str, *roots: Path) -> dict[str, str]:
    """Every file under ``roots`` whose bytes contain ``secret``, with its mode (octal)."""
    found = {}
    for root in roots:
        for directory, _dirs, names in os.walk(root):
            for name in names:
                path = Path(directory) / name
                try:
                    if secret.encode() in path.read_bytes():
                        found[str(path)] = oct(path.stat().st_mode & 0o777)
                except OSError:
                    pass
    return found


def tap(button) -> None:
    button.dispatch("on_release")


async def shift(app, username: str, password: str, report: dict) -> None:
    await until(lambda: app.shell is not None and app.session is not None and app.session.screen == "signin", "start")
    signin = app.shell.ids.signin
    signin.ids.username.text, signin.ids.password.text = username, password
    signin.submit()
    await until(lambda: app.session.screen == "inbox" and app.session.inbox.rows(), "the inbox with her task")
    await asyncio.sleep(0.5)  # let the screens redraw (and anything log what it logs)
    tokens = app.session.api.tokens
    report["tokens"] = {"access": tokens.access_token, "refresh": tokens.refresh_token}
    report["user_data_dir"] = app.user_data_dir
    report["password_field_after_sign_in"] = signin.ids.password.text
    report["refresh_token_files"] = files_holding(tokens.refresh_token, Path.home())

    app.session.go("me")  # 我的 holds 退出登录
    await until(lambda: app.shell.ids.screens.current == "me", "我的")
    sign_out = app.shell.ids.me.ids.sign_out
    tap(sign_out)
    await until(lambda: app.shell.sign_out_dialog is not None, "the sign-out question")
    report["dialog_title"] = app.shell.sign_out_dialog.title
    tap(app.shell.sign_out_dialog.cancel)
    await until(lambda: app.shell.sign_out_dialog is None, "the question closed")
    report["signed_in_after_cancel"] = app.session.api.signed_in and app.session.screen == "me"

    tap(sign_out)
    await until(lambda: app.shell.sign_out_dialog is not None, "the sign-out question again")
    tap(app.shell.sign_out_dialog.confirm)
    await until(lambda: app.session.screen == "signin" and not app.session.api.signed_in, "the sign-out")
    await asyncio.sleep(0.3)
    report["password_field_after_sign_out"] = signin.ids.password.text
    report["username_field_after_sign_out"] = signin.ids.username.text
    report["refresh_token_files_after_sign_out"] = files_holding(tokens.refresh_token, Path.home())


def main() -> None:
    server, username, password, report_path = sys.argv[1:5]
    from guide_app.main import prepare

    prepare()
    from guide_app.app import GuideApp

    app = GuideApp(server=server)
    report: dict = {}

    async def drive() -> None:
        try:
            await shift(app, username, password, report)
            report["done"] = True
        except Exception as error:  # reported, not raised: the test shows it
            report["failure"] = f"{type(error).__name__}: {error}"
        finally:
            Path(report_path).write_text(json.dumps(report), encoding="utf-8")
            app.stop()

    async def run() -> None:
        driving = asyncio.ensure_future(drive())
        await app.async_run(async_lib="asyncio")
        await driving

    asyncio.run(run())


if __name__ == "__main__":
    main()

"""The Kivy screens, drawn offscreen (SDL offscreen + Mesa) with data from a real server.

Each screen is rendered, its key widgets are checked for their Chinese text, and a screenshot is
written to tests/artifacts/guide_app/. Kivy makes one window per process, so the screens are
visited in one test, the way a guide goes through them.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from guide_app.fonts import find_cjk_font
from guide_app.presenters.notifier import RecordingNotifier
from tests.conftest import IN_CI
from tests.world import PASSWORD

from .conftest import customer_books, eventually, livestream
from .test_camera import use_provider

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "guide_app"
UI_ENVIRONMENT = {
    "SDL_VIDEODRIVER": "offscreen",
    "KIVY_WINDOW": "sdl2",
    "KIVY_NO_ARGS": "1",
    "KIVY_LOG_MODE": "PYTHON",
    "KIVY_NO_FILELOG": "1",
    "KIVY_NO_CONSOLELOG": "1",
}
PROBE = (
    "from kivy.core.window import Window\n"
    "assert Window is not None, 'Kivy could not create a window'\n"
    "from kivy.graphics.opengl import glGetString, GL_VERSION\n"
    "print(glGetString(GL_VERSION))\n"
)


def display_problem(environment: dict) -> str | None:
    """Why no offscreen GL window can be made here (None when it can), asked of a child process."""
    if find_cjk_font() is None:
        return "no CJK font (install fonts-noto-cjk or fonts-wqy-zenhei)"
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], env={**os.environ, **environment}, capture_output=True, text=True, timeout=120
    )
    if probe.returncode != 0:
        return (probe.stderr.strip().splitlines() or ["unknown failure"])[-1]
    return None


@pytest.fixture(scope="module")
def kivy_environment(tmp_path_factory):
    environment = {**UI_ENVIRONMENT, "KIVY_HOME": str(tmp_path_factory.mktemp("kivy_home"))}
    problem = display_problem(environment)
    if problem:
        if IN_CI:
            pytest.fail(f"the UI tests need an offscreen GL window (.ci/run installs it): {problem}")
        pytest.skip(f"no offscreen display/GL backend on this machine: {problem}")
    os.environ.update(environment)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return environment


async def frames(count: int = 10) -> None:
    """Let Kivy lay out and draw: wait until its clock (on the same asyncio loop) has drawn ``count`` more
    frames, however long a loaded machine takes for them (layout passes settle within a few)."""
    from kivy.clock import Clock

    drawn = Clock.frames_displayed + count
    await eventually(lambda: Clock.frames_displayed >= drawn, what=f"{count} Kivy frames")


def texts(widget) -> list[str]:
    found = []
    for child in widget.walk(restrict=True):
        text = getattr(child, "text", None)
        if isinstance(text, str) and text and getattr(child, "opacity", 1) > 0:
            found.append(text)
    return found


def screenshot(name: str) -> Path:
    from kivy.core.window import Window

    target = ARTIFACTS / f"{name}.png"
    target.unlink(missing_ok=True)
    written = Path(Window.screenshot(name=str(target)))
    written.replace(target)
    return target


async def test_each_screen_renders_with_server_data(kivy_environment, server, world, clock, tmp_path, monkeypatch):
    from guide_app.main import configure_window

    configure_window()
    from guide_app.app import GuideApp
    from guide_app.camera import camera_available

    use_provider(monkeypatch, None)  # no camera, the same on every machine: the screen's own probe finds none

    show = await livestream(server, world, clock)
    booked = await customer_books(server, world, clock, livestream_id=show)
    app = GuideApp(server=server.base_url, data_dir=tmp_path, notifier=RecordingNotifier())
    running = asyncio.ensure_future(app.async_run(async_lib="asyncio"))
    try:
        await eventually(lambda: app.shell is not None and app.session.screen == "signin", what="the app")
        await visit_sign_in(app)
        await visit_inbox(app, server, world, clock, show)
        await visit_reception(app, server, booked)
        await visit_customer(app)
    finally:
        app.stop()
        await asyncio.wait_for(running, timeout=20)
        camera_available.cache_clear()  # the fake answer is not kept for later tests


async def visit_sign_in(app) -> None:
    from kivy.core.window import Window

    screen = app.shell.ids.signin
    await frames()
    assert Window.size == (360, 780)
    assert {"IRS 导购", "登录", "使用员工账号登录"} <= set(texts(screen))
    assert app.font and Path(app.font).is_file()
    screenshot("1-signin")
    screen.ids.username.text, screen.ids.password.text = "sh.guide", "not her password"
    screen.submit()
    await eventually(lambda: screen.ids.message.text == "用户名或密码错误。", what="the wrong-password message")
    await frames()
    assert screen.ids.username.text == "sh.guide" and screen.ids.password.text == "not her password"
    screenshot("2-signin-wrong-password")
    screen.ids.password.text = PASSWORD
    screen.submit()
    await eventually(lambda: app.session.screen == "inbox" and app.session.inbox.rows(), what="the inbox")


async def visit_inbox(app, server, world, clock, show) -> None:
    screen = app.shell.ids.inbox
    await eventually(lambda: app.session.inbox.live.connected, what="the live socket")
    await customer_books(server, world, clock, phone="13912345678", hour=16, livestream_id=show)
    await eventually(lambda: len(screen.ids.rows.children) == 2, what="the live task's row")
    await frames()
    shown = set(texts(app.shell))
    assert {"全部", "今天", "未完成", "已升级", "刷新", "确认", "接待", "高", "任务", "退出登录"} <= shown
    assert "收银\n（即将推出）" in shown and "业绩\n（即将推出）" in shown
    assert app.shell.ids.alert.text.startswith("新的直播顾客：")
    assert any(text.endswith("15:00  +8613812345678") or "15:00" in text for text in shown)
    screenshot("3-inbox-new-task")
    screen.ids.rows.children[-1].acknowledge()  # rows are added in slot order; Kivy keeps children reversed
    await eventually(lambda: "已确认" in screen.ids.rows.children[-1].subtitle, what="the acknowledgement")
    app.shell.open_alert()
    await frames()


async def visit_reception(app, server, booked) -> None:
    app.shell.ids.inbox.ids.rows.children[-1].open()
    await eventually(lambda: app.session.screen == "reception" and app.session.reception.task, what="reception")
    screen = app.shell.ids.reception
    await frames()
    shown = set(texts(screen))
    assert {"接待清单", "签到", "核销码签到", "完成接待", "档案", "< 任务", "• 精华买一送一"} <= shown
    assert "来自直播：双十一美妆专场" in shown and "到店问候 （必做）" in shown
    # Without a camera: no scan button, a note saying why, and code entry as always.
    assert "扫码签到" not in shown and screen.ids.scan.disabled
    assert "此设备没有可用的摄像头：请输入核销码。" in shown
    assert screen.ids.code.opacity == 1 and not screen.ids.code.disabled and screen.ids.code.hint_text == "6 位核销码"
    assert screen.ids.code.input_type == "number"  # a phone shows its digit keyboard for her 6 digits
    from kivy.metrics import dp

    for button in (screen.ids.check_in_task, screen.ids.check_in_code, screen.ids.code):
        assert button.height >= dp(48) and not button.disabled
    screenshot("4-reception")
    for step in [s for s in screen.ids.steps.children if "必做" in s.title]:
        step.tick()
    await visit_scanning(screen, app.session.reception)
    screen.ids.code.text = "12345"  # a digit short
    screen.check_in()
    await eventually(lambda: screen.ids.message.text == "核销码为 6 位数字，请核对后重新输入。", what="the refusal")
    screen.check_in_from_task()  # she is here: 签到 from the task itself, no code
    await eventually(lambda: screen.ids.notice.text == "已签到。", what="the check-in")
    # Done: the task reloaded as checked in, and no check-in button is left for a second tap.
    await eventually(lambda: screen.ids.check_in_task.opacity == 0, what="the check-in buttons gone")
    assert screen.ids.check_in_task.disabled and screen.ids.check_in_code.disabled
    await eventually(lambda: not app.session.reception.open_required_steps, what="the ticks")
    await frames()
    screenshot("5-reception-checked-in")


class FakeTexture:
    def __init__(self, text: str | None) -> None:
        from .test_scanning import FRAME, camera_frame

        self.size, self.pixels = FRAME, camera_frame(text)


def fake_camera_widget(frames: list):
    """Stands in for kivy.uix.camera.Camera: its texture shows the next of ``frames`` at each read."""
    from kivy.properties import BooleanProperty
    from kivy.uix.widget import Widget

    class FakeCamera(Widget):
        play = BooleanProperty(False)

        def __init__(self, **kwargs) -> None:
            kwargs.pop("resolution", None), kwargs.pop("allow_stretch", None)
            super().__init__(**kwargs)

        @property
        def texture(self):
            return FakeTexture(frames.pop(0) if len(frames) > 1 else frames[0])

    return FakeCamera


async def visit_scanning(screen, presenter) -> None:
    """With a camera: the scan button, the camera while scanning, a read code filled in and checked."""
    import kivy.uix.camera

    shown_camera = fake_camera_widget([None, None, "NOT-A-BOOKING-QR"])
    original = kivy.uix.camera.Camera
    kivy.uix.camera.Camera = shown_camera
    try:
        presenter.set_camera(True)
        await frames()
        shown = set(texts(screen))
        assert "扫码签到" in shown and "此设备没有可用的摄像头：请输入核销码。" not in shown
        screen.toggle_scan()
        await eventually(lambda: screen.ids.camera_box.height > 0, what="the camera on screen")
        assert presenter.scanning and isinstance(screen.camera, shown_camera) and screen.camera.play
        assert screen.ids.scan.text == "停止扫码" and screen.ids.camera_box.height > 0
        screenshot("4b-reception-scanning")
        await eventually(lambda: not presenter.scanning, what="the code read from the camera")
        await eventually(lambda: screen.ids.message.text == "二维码无效或已过期。", what="the refusal")
        assert screen.camera is None and screen.ids.camera_box.children == []  # the camera stopped
        assert screen.ids.code.text == "NOT-A-BOOKING-QR" and screen.ids.scan.text == "扫码签到"
    finally:
        kivy.uix.camera.Camera = original
        presenter.set_camera(False)


async def visit_customer(app) -> None:
    app.shell.ids.reception.open_customer()
    await eventually(lambda: app.session.screen == "customer" and app.session.customer.customer, what="360°")
    screen = app.shell.ids.customer
    await frames()
    shown = set(texts(screen))
    assert {"顾客 360°", "时间线（3）", "< 返回"} <= shown
    assert "电话：+8613812345678" in shown
    assert any("到店" in text for text in shown)
    screenshot("6-customer-360")

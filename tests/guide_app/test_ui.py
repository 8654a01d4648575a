"""The Kivy screens, drawn offscreen (SDL offscreen + Mesa) with data from a real server.

Each screen is rendered, its key widgets are checked for their Chinese text, and a screenshot is
written to tests/artifacts/guide_app/. Kivy makes one window per process, so the screens are
visited in one test, the way a guide goes through them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from guide_app.fonts import find_cjk_font
from guide_app.presenters.notifier import RecordingNotifier
from tests.conftest import IN_CI
from tests.world import PASSWORD

from .conftest import (
    cash_sale,
    claimed_coupon,
    commission_plan,
    credit,
    customer_books,
    eventually,
    livestream,
    stock,
)
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


def effectively_visible(widget) -> bool:
    """Drawn: neither it nor any parent is transparent, and it has an area."""
    if widget.width <= 0 or widget.height <= 0:
        return False
    node = widget
    while node is not None:
        if getattr(node, "opacity", 1) <= 0:
            return False
        node = node.parent if node.parent is not node else None
    return True


def texts(widget) -> list[str]:
    found = []
    for child in widget.walk(restrict=True):
        text = getattr(child, "text", None)
        if isinstance(text, str) and text and effectively_visible(child):
            found.append(text)
    return found


def window_box(widget) -> tuple[float, float, float, float]:
    """(left, bottom, right, top) in window coordinates."""
    left, bottom = widget.to_window(widget.x, widget.y)
    return left, bottom, left + widget.width, bottom + widget.height


def clipped_box(widget):
    """Its box as far as it can be seen: inside the window and every scroll view around it (None: unseen)."""
    from kivy.core.window import Window
    from kivy.uix.scrollview import ScrollView

    left, bottom, right, top = window_box(widget)
    clip = [0, 0, *Window.size]
    node = widget.parent
    while node is not None and node is not node.parent:
        if isinstance(node, ScrollView):
            l2, b2, r2, t2 = window_box(node)
            clip = [max(clip[0], l2), max(clip[1], b2), min(clip[2], r2), min(clip[3], t2)]
        node = node.parent
    box = (max(left, clip[0]), max(bottom, clip[1]), min(right, clip[2]), min(top, clip[3]))
    return box if box[0] < box[2] and box[1] < box[3] else None


def touch_targets(root) -> list:
    """What a guide touches: buttons, chips, tabs, list rows (ButtonBehavior), text fields, checkboxes."""
    from kivy.uix.behaviors import ButtonBehavior, ToggleButtonBehavior
    from kivy.uix.textinput import TextInput

    return [
        widget
        for widget in root.walk(restrict=True)
        if isinstance(widget, ButtonBehavior | ToggleButtonBehavior | TextInput)
        and not widget.disabled
        and effectively_visible(widget)
    ]


def visible_labels(root) -> list:
    from kivy.uix.label import Label
    from kivymd.uix.textfield import MDTextField

    found = []
    for widget in root.walk(restrict=True):
        if not isinstance(widget, Label) or not widget.text.strip() or not effectively_visible(widget):
            continue
        if isinstance(widget.parent, MDTextField):  # the field draws its hint and icons itself
            continue
        box = clipped_box(widget)
        if box is not None:
            found.append((widget, box))
    return found


async def check_layout(root, *, expect_targets: int = 1) -> None:
    """:func:`layout_now` once the layout has settled: a live update (a board pushed again, a task changed) may
    have rebuilt part of the screen just now, and a rebuilt part takes a few frames to lay out. What is still
    wrong after a second of frames is wrong."""
    for _ in range(20):
        try:
            layout_now(root, expect_targets=expect_targets)
            return
        except AssertionError:
            await frames(3)
    layout_now(root, expect_targets=expect_targets)


def layout_now(root, *, expect_targets: int = 1) -> None:
    """Every widget a guide touches is at least 48 dp both ways; no two visible labels overlap."""
    from kivy.metrics import dp

    targets = touch_targets(root)
    assert len(targets) >= expect_targets, [type(t).__name__ for t in targets]
    small = [
        (type(t).__name__, getattr(t, "text", ""), round(t.width), round(t.height))
        for t in targets
        if t.width < dp(48) - 0.5 or t.height < dp(48) - 0.5
    ]
    assert small == [], f"touch targets under 48 dp: {small}"
    labels = visible_labels(root)
    overlaps = []
    for index, (first, a) in enumerate(labels):
        for second, b in labels[index + 1 :]:
            if min(a[2], b[2]) - max(a[0], b[0]) > 1 and min(a[3], b[3]) - max(a[1], b[1]) > 1:
                overlaps.append((first.text, second.text))
    assert overlaps == [], f"labels overlapping: {overlaps}"


def screenshot(name: str) -> Path:
    """Into tests/artifacts/guide_app/, and (IRS_SCREENSHOT_DIR, `make app-screenshots`) a small copy for the docs."""
    from kivy.core.window import Window

    target = ARTIFACTS / f"{name}.png"
    target.unlink(missing_ok=True)
    written = Path(Window.screenshot(name=str(target)))
    written.replace(target)
    docs = os.environ.get("IRS_SCREENSHOT_DIR")
    if docs:
        from PIL import Image

        Path(docs).mkdir(parents=True, exist_ok=True)
        with Image.open(target) as image:  # 256 colours: a tenth of the size, the text as sharp
            image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(
                Path(docs) / f"{name}.png", optimize=True
            )
    return target


NOTE = "想试一下新色号，三点左右到"


async def test_each_screen_renders_with_server_data(
    kivy_environment, paying_server, world, clock, tmp_path, monkeypatch, guide_database, vendor, caplog
):
    server = paying_server
    from guide_app.main import configure_window

    configure_window()
    from guide_app.app import GuideApp
    from guide_app.camera import camera_available

    use_provider(monkeypatch, None)  # no camera, the same on every machine: the screen's own probe finds none
    caplog.set_level(logging.INFO, logger="guide_app")  # why a socket dropped, if one does

    show = await livestream(server, world, clock)
    booked = await customer_books(server, world, clock, livestream_id=show, note=NOTE)
    await stock(guide_database, world, 2)  # 精华: 2 here, 20 in the warehouse; 唇膏 999: 6 here
    await stock(guide_database, world, 20, location="warehouse")
    await stock(guide_database, world, 6, sku="sku:lip-red")
    await commission_plan(server, clock)  # every sale credited to its guide, at 5 %
    app = GuideApp(server=server.base_url, data_dir=tmp_path, notifier=RecordingNotifier())
    running = asyncio.ensure_future(app.async_run(async_lib="asyncio"))
    try:
        await eventually(lambda: app.shell is not None and app.session.screen == "signin", what="the app")
        app.session.inbox.clock = clock.now  # the countdowns count on the server's (frozen) time
        app.session.performance.clock = clock.now  # and 业绩 asks for the server's today
        await visit_sign_in(app)
        other = await visit_inbox(app, server, world, clock, show)
        await visit_tabs(app)
        await visit_reception(app, server, clock, booked)
        await visit_customer(app)
        await visit_done_task(app)
        await visit_find_customer(app)
        await visit_checkout(app, server, clock, show, other, vendor)
        await visit_performance(app, server, world, guide_database)
        await visit_sign_out(app)
    finally:
        app.stop()
        await asyncio.wait_for(running, timeout=20)
        camera_available.cache_clear()  # the fake answer is not kept for later tests


async def visit_sign_in(app) -> None:
    from kivy.core.window import Window

    screen = app.shell.ids.signin
    await frames()
    assert Window.size == (360, 780)
    assert {"IRS 导购", "登录", "使用员工账号登录", "用户名", "密码"} <= set(texts(screen))
    assert app.font and Path(app.font).is_file()
    await check_layout(screen, expect_targets=3)
    screenshot("1-signin")
    submit_at = screen.ids.submit.pos[:]
    screen.ids.username.text, screen.ids.password.text = "sh.guide", "not her password"
    screen.submit()
    await eventually(lambda: screen.ids.message.text == "用户名或密码错误。", what="the wrong-password message")
    await frames()
    assert screen.ids.username.text == "sh.guide" and screen.ids.password.text == "not her password"
    assert screen.ids.submit.pos == submit_at  # the message has its room: the button did not move
    await check_layout(screen, expect_targets=3)
    screenshot("2-signin-wrong-password")
    screen.ids.password.text = PASSWORD
    screen.submit()
    await eventually(lambda: app.session.screen == "inbox" and app.session.inbox.rows(), what="the inbox")


async def visit_inbox(app, server, world, clock, show) -> None:
    screen = app.shell.ids.inbox
    await eventually(lambda: app.session.inbox.live.connected, what="the live socket")
    other = await customer_books(server, world, clock, phone="13912345678", hour=16, livestream_id=show)
    await eventually(lambda: len(screen.cards) == 2, what="the live task's card")
    await frames()
    shown = set(texts(app.shell))
    assert {"全部", "今天", "未完成", "已升级", "确认", "接待", "高优先级", "任务", "收银", "业绩", "我的"} <= shown
    assert app.shell.ids.title.text and app.shell.ids.subtitle.text  # her name and her store
    assert app.shell.alert_text.startswith("新的直播顾客：")
    assert any("15:00" in text for text in shown)
    assert {card.countdown for card in screen.cards} == {"请在 10:00 内确认"}  # ackDueAt: 10 min after assignment
    clock.advance(minutes=3, seconds=30)
    screen.tick()
    assert {card.countdown for card in screen.cards} == {"请在 06:30 内确认"}
    # Touch targets (cards' buttons, chips, tabs, the app bar's refresh) and labels, on a live inbox.
    await check_layout(app.shell, expect_targets=10)
    screenshot("3-inbox-new-task")
    first = screen.cards[0]
    acknowledge_at = first.ids.acknowledge.to_window(*first.ids.acknowledge.pos)
    first.acknowledge()
    await eventually(lambda: screen.cards[0].status == "已确认", what="the acknowledgement")
    await frames()
    assert screen.cards[0].countdown == "" and screen.cards[1].countdown == "请在 06:30 内确认"
    # Nothing below the first card moved: its 接待 button stays where it was for the next tap.
    second = screen.cards[1]
    assert second.ids.acknowledge.to_window(*second.ids.acknowledge.pos)[1] < acknowledge_at[1]
    app.shell.open_alert()
    await frames()
    await pull_to_refresh(screen)
    return other


async def online(app) -> None:
    """Once the app is online, then a frame: on a loaded machine the live socket can miss a pong and reconnect, and
    the top bar says so meanwhile (the reason is logged)."""
    await eventually(lambda: not app.session.inbox.offline, timeout=30, what="the app back online")
    await frames()


async def pull_to_refresh(screen) -> None:
    """A finger pulls the list down past its top and lets go: the inbox reloads, and the spinner goes."""
    from kivy.metrics import dp
    from kivy.tests.common import UnitTestTouch

    scroll = screen.ids.scroll
    x, top = scroll.to_window(scroll.center_x, scroll.top - dp(16))
    finger = UnitTestTouch(x, top)
    finger.touch_down()
    for step in range(1, 21):
        finger.touch_move(x, top - step * dp(15))  # 300 dp down, past the 100 dp that reloads
        await frames(1)
    finger.touch_up()
    await eventually(lambda: scroll.refresh_spinner is not None, what="the refresh spinner")
    await eventually(
        lambda: not screen._refreshing and not scroll._work_spinner, timeout=30, what="the reload and the spinner gone"
    )


async def visit_tabs(app) -> None:
    """收银 with no sale under way finds the customer first; 业绩 before any credited sale; 我的 shows her and
    sign-out."""
    app.session.go("checkout")
    await frames()
    assert app.shell.ids.screens.current == "checkout_start"
    shown = set(texts(app.shell))
    assert {"收银", "搜索"} <= shown and any(text.startswith("为谁开单？") for text in shown)
    assert app.shell.ids.back.opacity == 0  # the tab's own first screen
    await check_layout(app.shell, expect_targets=6)  # the field, the search button, the tabs
    screenshot("7-checkout-find-customer")
    app.session.go("performance")
    await eventually(lambda: app.session.performance.loaded, what="业绩")
    await frames()
    shown = set(texts(app.shell.ids.performance))
    assert {"今日业绩", "本月业绩", "¥0.00", "店内 未上榜", "同城 未上榜", "本店本月还没有入账的业绩。"} <= shown
    await check_layout(app.shell, expect_targets=4)  # the tabs
    app.session.go("me")
    await frames()
    shown = set(texts(app.shell.ids.me))
    assert "退出登录" in shown and any(text.startswith("门店：") for text in shown) and "导购" in shown
    await check_layout(app.shell, expect_targets=5)
    screenshot("8-me")
    tabs = {item.screen: item for item in app.shell.ids.nav.children}
    tabs["inbox"].dispatch("on_release")  # back through the bottom navigation
    await eventually(lambda: app.session.screen == "inbox", what="the 任务 tab")


async def visit_performance(app, server, world, database) -> None:
    """业绩: sales credited by the ledger (hers from 收银, and her manager's) show as her figures and ranks,
    in the chart and on both boards; a sale of hers credited later moves her up, live."""
    await stock(database, world, 22)
    await cash_sale(server, world, "sh.manager", 10)  # ¥8,900.00: her manager leads
    await credit(server)
    performance, screen = app.session.performance, app.shell.ids.performance
    app.session.go("performance")
    ranked = {
        "店内 第 2 名 / 共 2 人",
        "同城 第 2 名 / 共 2 人",
    }  # the month's ranks, pushed, then today's and the city's
    await eventually(lambda: ranked <= set(texts(screen.ids.today)) | set(texts(screen.ids.month)), what="her ranks")
    await frames()
    shown = set(texts(screen))
    mine = performance.this_month()
    assert {
        "今日业绩",
        "本月业绩",
        "本店本月排行",
        "上海本月排行",
        "Sh.Manager",
        "¥8,900.00",
        "Sh.Guide（我）",
    } <= shown
    assert {mine.revenue, f"佣金 {mine.commission}", *ranked} <= shown
    assert [(bar.name, bar.mine) for bar in screen.ids.chart.bars] == [("Sh.Manager", False), ("Sh.Guide", True)]
    await check_layout(app.shell, expect_targets=4)  # the tabs
    screenshot("21-performance")

    await cash_sale(server, world, "sh.guide", 12)  # ¥10,680.00 more: she goes first
    await credit(server)
    first = {"店内 第 1 名 / 共 2 人", "同城 第 1 名 / 共 2 人"}
    await eventually(lambda: first <= set(texts(screen.ids.today)), what="her new ranks today, live")
    await eventually(lambda: first <= set(texts(screen.ids.month)), what="and this month")
    await frames()
    assert [(bar.name, bar.mine) for bar in screen.ids.chart.bars] == [("Sh.Guide", True), ("Sh.Manager", False)]
    assert performance.this_month().revenue in texts(screen) and mine.revenue not in texts(screen)
    await check_layout(app.shell, expect_targets=4)
    await scroll_to(screen, screen.ids.city_board)  # the city's board below her store's
    assert "上海本月排行" in texts(screen)
    screenshot("22-performance-live")


async def tick_required_steps(screen, reception, clock) -> None:
    """Tap each required row, one after the other, as she would: seconds apart, so each change has its own
    updatedAt and a late copy of the task is known to be older (the server's clock is frozen otherwise)."""
    for position in [row.position for row in screen.ids.steps.children if row.required]:
        clock.advance(seconds=5)
        row = next(row for row in screen.ids.steps.children if row.position == position)
        row.dispatch("on_release")  # the whole row is the target
        await eventually(
            lambda at=position: any(step.done for step in reception.steps if step.position == at),
            what=f"step {position} ticked",
        )


async def visit_reception(app, server, clock, booked) -> None:
    from guide_app.screens.widgets import ANNOUNCED

    app.shell.ids.inbox.cards[0].open()
    await eventually(lambda: app.session.screen == "reception" and app.session.reception.task, what="reception")
    screen = app.shell.ids.reception
    await frames()
    shown = set(texts(app.shell))
    assert {
        "接待清单",
        "签到",
        "顾客已到店：签到",
        "完成接待",
        "档案",
        "精华买一送一",
        "唇膏限量色",
        "必做",
        "到店问候",
    } <= shown
    assert "来自直播：双十一美妆专场" in shown and f"顾客备注：{NOTE}" in shown
    assert "138 1234 5678" in shown and not any("•" in text for text in shown)
    assert any(text.startswith("预约商品：") for text in shown)
    # Without a camera: no scan button, a note saying why, and code entry as always.
    assert "扫码签到" not in shown and screen.ids.scan.disabled
    assert "此设备没有可用的摄像头：请输入核销码。" in shown
    assert screen.ids.code.opacity == 1 and not screen.ids.code.disabled and screen.ids.code_hint.text == "6 位核销码"
    assert screen.ids.code.input_type == "number"  # a phone shows its digit keyboard for her 6 digits
    await check_layout(app.shell, expect_targets=9)
    screenshot("4-reception")
    await tick_required_steps(screen, app.session.reception, clock)
    await visit_scanning(screen, app.session.reception)
    screen.ids.code.text = "12345"  # a digit short
    screen.check_in()
    await eventually(lambda: ANNOUNCED[-1:] == ["核销码为 6 位数字，请核对后重新输入。"], what="the refusal")
    clock.advance(seconds=5)
    screen.check_in_from_task()  # she is here: 签到 from the task itself, no code
    await eventually(lambda: ANNOUNCED[-1:] == ["已签到。"], what="the check-in")
    await eventually(lambda: not app.session.reception.open_required_steps, what="the ticks")
    await eventually(lambda: app.session.reception.checked_in, what="the booking checked in")
    await frames()
    assert not screen.ids.check_in_card.shown
    await check_layout(app.shell, expect_targets=5)
    screenshot("5-reception-checked-in")
    clock.advance(seconds=5)
    screen.complete()
    await eventually(lambda: app.session.reception.finished, what="the completion")
    await frames()
    shown = set(texts(app.shell))
    assert {"接待已完成", "返回任务"} <= shown and "完成接待" not in shown
    await check_layout(app.shell, expect_targets=3)
    screenshot("6-reception-finished")


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

    from guide_app.screens.widgets import ANNOUNCED

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
        assert screen.ids.scan_text.text == "停止扫码" and screen.ids.camera_box.height > 0
        screenshot("4b-reception-scanning")
        await eventually(lambda: not presenter.scanning, what="the code read from the camera")
        await eventually(lambda: ANNOUNCED[-1:] == ["二维码无效或已过期。"], what="the refusal")
        assert screen.camera is None and screen.ids.camera_box.children == []  # the camera stopped
        assert screen.ids.code.text == "NOT-A-BOOKING-QR" and screen.ids.scan_text.text == "扫码签到"
    finally:
        kivy.uix.camera.Camera = original
        presenter.set_camera(False)


async def visit_customer(app) -> None:
    app.shell.open_profile()  # 档案 in the top app bar
    await eventually(lambda: app.session.screen == "customer" and app.session.customer.customer, what="360°")
    screen = app.shell.ids.customer
    await frames()
    shown = set(texts(screen))
    assert "顾客 360°" in shown and any(re.fullmatch(r"时间线（\d+）", text) for text in shown)
    assert "138 1234 5678" in shown
    assert any("到店" in text for text in shown)
    await check_layout(app.shell, expect_targets=5)
    screenshot("9-customer-360")
    app.shell.back()
    await eventually(lambda: app.session.screen == "reception", what="back to reception")


async def visit_done_task(app) -> None:
    """A finished task stays in the list, quiet: no high-priority chip, 查看 instead of 接待."""
    app.shell.back()
    await eventually(lambda: app.session.screen == "inbox", what="back to the inbox")
    await frames()
    done = [card for card in app.shell.ids.inbox.cards if card.done]
    assert len(done) == 1 and not done[0].flagged and done[0].ids.priority.opacity == 0
    assert "查看" in texts(done[0]) and "高优先级" not in texts(done[0])
    await check_layout(app.shell, expect_targets=8)
    screenshot("10-inbox-done-task")


async def visit_find_customer(app) -> None:
    """From the inbox's search button: her store's customers by phone digits, then her 360° view and back."""
    app.shell.ids.find.dispatch("on_release")
    await eventually(lambda: app.session.screen == "search", what="the search screen")
    screen = app.shell.ids.search
    screen.ids.query.text = "1381234"
    screen.search()
    await eventually(lambda: screen.presenter.searched or screen.presenter.message, what="the search")
    assert screen.presenter.message == "", screen.presenter.message
    await eventually(lambda: len(screen.ids.results.children) == 1, what="her row")
    await frames()
    await frames()
    [row] = screen.ids.results.children
    assert row.name == "138 1234 5678" and row.y + row.height >= screen.ids.results.height - 1  # at the top
    await check_layout(app.shell, expect_targets=7)  # the row, the search button, the tabs
    screenshot("12-find-customer")
    row.dispatch("on_release")
    await eventually(lambda: app.session.screen == "customer", what="her 360° view")
    app.shell.back()
    await eventually(lambda: app.session.screen == "search", what="back to the search")


async def visit_sign_out(app) -> None:
    """The shared phone: 退出登录 asks first; cancel keeps her in; confirming leaves no password behind."""
    from kivy.metrics import dp

    signin = app.shell.ids.signin
    assert signin.ids.password.text == ""  # emptied when she signed in
    app.session.go("me")
    await eventually(lambda: app.shell.ids.screens.current == "me", what="我的")
    sign_out = app.shell.ids.me.ids.sign_out
    sign_out.dispatch("on_release")
    await eventually(lambda: app.shell.sign_out_dialog is not None, what="the sign-out question")
    await frames()
    dialog = app.shell.sign_out_dialog
    assert dialog.title == "确定退出登录？" and {"取消", "退出登录"} <= set(texts(dialog))
    assert dialog.cancel.height >= dp(48) and dialog.confirm.height >= dp(48)
    screenshot("11-sign-out-question")
    dialog.cancel.dispatch("on_release")
    await eventually(lambda: app.shell.sign_out_dialog is None, what="the question closed")
    assert app.session.screen == "me" and app.session.api.signed_in
    sign_out.dispatch("on_release")
    await eventually(lambda: app.shell.sign_out_dialog is not None, what="the sign-out question again")
    app.shell.sign_out_dialog.confirm.dispatch("on_release")
    await eventually(lambda: app.session.screen == "signin" and not app.session.api.signed_in, what="sign-out")
    await frames()
    assert signin.ids.password.text == "" and signin.ids.username.text == "sh.guide"


class FrameTexture:
    def __init__(self, pixels: bytes) -> None:
        from .test_scanning import FRAME

        self.size, self.pixels = FRAME, pixels


def fake_camera_showing(view: dict):
    """A stand-in for kivy.uix.camera.Camera showing ``view["frame"]`` (an RGBA frame, rows bottom-up) on
    screen and in its texture, whatever the test puts there when."""
    from kivy.graphics import Color, Rectangle
    from kivy.graphics.texture import Texture
    from kivy.properties import BooleanProperty
    from kivy.uix.widget import Widget

    from .test_scanning import FRAME

    class FakeCamera(Widget):
        play = BooleanProperty(False)

        def __init__(self, **kwargs) -> None:
            kwargs.pop("resolution", None), kwargs.pop("allow_stretch", None)
            super().__init__(**kwargs)
            drawn = Texture.create(size=FRAME, colorfmt="rgba")
            drawn.blit_buffer(view["frame"], colorfmt="rgba", bufferfmt="ubyte")
            with self.canvas:
                Color(1, 1, 1, 1)
                self._picture = Rectangle(texture=drawn)
            self.bind(pos=self._place, size=self._place)

        def _place(self, *_args) -> None:
            width, height = FRAME
            scale = min(self.width / width, self.height / height)
            self._picture.size = (width * scale, height * scale)
            self._picture.pos = (self.center_x - width * scale / 2, self.center_y - height * scale / 2)

        @property
        def texture(self):
            return FrameTexture(view.get("read", view["frame"]))

    return FakeCamera


async def without_snackbars() -> None:
    """Close the snackbars still up, so a screenshot shows the screen under them."""
    from kivy.core.window import Window
    from kivymd.uix.snackbar import MDSnackbar

    for bar in [w for w in Window.children if isinstance(w, MDSnackbar)]:
        bar.dismiss()
    await eventually(lambda: not any(isinstance(w, MDSnackbar) for w in Window.children), what="snackbars gone")
    await frames()


async def scroll_to(screen, widget) -> None:
    """Scroll the screen's list so that ``widget`` is in view (at the top when it can be)."""
    from kivy.uix.scrollview import ScrollView

    scroll = next(w for w in screen.walk(restrict=True) if isinstance(w, ScrollView))
    scroll.scroll_to(widget, padding=8, animate=False)
    await frames()


async def visit_checkout(app, server, clock, show, other, vendor) -> None:
    """收银 from her reception: find products (by name, by a scanned barcode), stock refused on its line,
    shipped from the warehouse to her address, her coupon, the server's total, WeChat Pay's QR code paid at
    the sandbox (heard live), the receipt with her pickup code, and back to her finished reception."""
    import kivy.uix.camera

    from guide_app.screens.widgets import ANNOUNCED

    from .test_checkout import SERUM_BARCODE, barcode_frame
    from .test_scanning import camera_frame

    coupon = await claimed_coupon(server, clock, show, other.customer_token)
    session = app.session
    session.go("inbox")
    await eventually(lambda: app.shell.ids.screens.current == "inbox", what="the inbox")
    [card] = [card for card in app.shell.ids.inbox.cards if not card.done]
    card.open()
    await eventually(lambda: session.screen == "reception" and session.reception.task, what="her reception")
    await frames()
    reception = app.shell.ids.reception
    assert reception.ids.sell_text.text == "为她开单收银"
    await scroll_to(reception, reception.ids.sell)
    await without_snackbars()
    await check_layout(app.shell, expect_targets=6)
    screenshot("12b-reception-sell")
    reception.ids.sell.dispatch("on_release")
    await eventually(lambda: session.screen == "checkout" and session.checkout.customer, what="the cart")
    screen, checkout = app.shell.ids.checkout, session.checkout
    await online(app)
    assert app.shell.ids.title.text == "139 1234 5678" and app.shell.ids.subtitle.text == "收银"
    assert app.shell.ids.back.opacity == 1  # back to her reception
    shown = set(texts(screen))
    assert {"商品", "优惠券", "去收款", "放弃", "直播专享立减 20 元", "立减 ¥20.00"} <= shown
    assert "购物车是空的：搜索商品或扫描商品条码。" in shown

    screen.ids.query.text = "唇膏"
    screen.search()
    await eventually(lambda: len(screen.ids.results.children) == 2, what="the lipsticks found")
    await frames()
    assert {"唇膏 · 色号 999", "唇膏 · 色号 101"} <= set(texts(screen))
    await check_layout(app.shell, expect_targets=10)
    screenshot("13-checkout-search")
    red = next(row for row in screen.ids.results.children if row.name == "唇膏 · 色号 999")
    red.dispatch("on_release")
    await eventually(lambda: len(checkout.lines) == 1 and checkout.lines[0].stock, what="the lipstick's line")

    original = kivy.uix.camera.Camera
    view = {"frame": barcode_frame(SERUM_BARCODE), "read": camera_frame(None)}  # not in focus yet
    kivy.uix.camera.Camera = fake_camera_showing(view)
    try:
        checkout.set_camera(True)
        await frames()
        screen.toggle_scan("product")
        await eventually(lambda: screen.ids.scan_panel.height > 0, what="the camera on screen")
        await without_snackbars()
        assert screen.ids.scan_title.text == "请对准商品条码" and checkout.scan_target == "product"
        await check_layout(app.shell, expect_targets=8)
        screenshot("14-checkout-scanning-barcode")
        del view["read"]  # in focus: the frame read is the barcode shown
        await eventually(lambda: len(checkout.lines) == 2 and checkout.lines[1].stock, what="the scanned serum")
        await frames()
        assert screen.camera is None and screen.ids.scan_panel.height == 0
    finally:
        kivy.uix.camera.Camera = original
        checkout.set_camera(False)
    lipstick, serum = checkout.lines
    checkout.set_quantity(serum.key, 3)  # 2 in this store
    checkout.set_fulfillment(lipstick.key, "PICKUP_IN_STORE")
    screen.go_pay()
    await eventually(lambda: serum.error, what="the stock refusal")
    await frames()
    assert "所选货源库存不足。" in texts(screen) and checkout.stage == "cart"
    assert any("所选货源库存不足" in text for text in ANNOUNCED[-1:])
    [serum_card] = [c for c in screen.ids.lines.children if c.key == serum.key]
    await scroll_to(screen, serum_card)
    await without_snackbars()
    await check_layout(app.shell, expect_targets=12)
    screenshot("15-checkout-insufficient-stock")

    [serum_card] = [c for c in screen.ids.lines.children if c.key == serum.key]
    serum_card.ids.places_button.dispatch("on_release")
    await frames()
    [serum_card] = [c for c in screen.ids.lines.children if c.key == serum.key]
    warehouse = next(row for row in serum_card.ids.places.children if row.text.startswith("华东仓"))
    warehouse.dispatch("on_release")
    await frames()
    assert serum.fulfillment == "SHIP_TO_HOME" and serum.source_note == "发货地：华东仓"
    [row] = [r for r in screen.ids.coupons.children if r.code == coupon["code"]]
    row.dispatch("on_release")
    await frames()
    for name, value in {
        "province": "上海市",
        "city": "上海市",
        "district": "静安区",
        "detail": "南京西路 1 号 2 楼",
        "recipient": "李小姐",
        "mobile": "13912345678",
    }.items():
        screen.address_field(name).ids.field.text = value
    await frames()
    [serum_card] = [c for c in screen.ids.lines.children if c.key == serum.key]
    await scroll_to(screen, serum_card)
    await without_snackbars()
    await check_layout(app.shell, expect_targets=12)
    screenshot("16-checkout-ship-from-warehouse")
    await scroll_to(screen, screen.ids.address_card)  # the address, under her coupon applied
    await scroll_to(screen, screen.ids.coupons)
    shown = set(texts(screen))
    assert {"收货地址", "收货人手机号"} <= shown
    await check_layout(app.shell, expect_targets=10)
    screenshot("17-checkout-coupon-and-address")

    app.shell.back()  # to her reception: the sale waits
    await eventually(lambda: app.shell.ids.screens.current == "reception", what="back to her reception")
    assert reception.ids.sell_text.text == "继续为她收银"
    reception.ids.sell.dispatch("on_release")
    await eventually(lambda: app.shell.ids.screens.current == "checkout", what="her sale again")
    assert session.checkout is checkout and len(checkout.lines) == 2

    screen.go_pay()
    await eventually(lambda: session.screen == "checkout_pay", what="the order made")
    pay = app.shell.ids.checkout_pay
    await frames()
    shown = set(texts(pay))
    assert {"商品", "优惠券", "应收", "收款方式", "现金", "银行卡", "微信支付", "支付宝", "修改订单"} <= shown
    assert checkout.discount == "¥20.00" and f"−{checkout.discount}" in shown and checkout.total in shown
    await online(app)
    assert app.shell.ids.subtitle.text == f"收银 · 订单 {checkout.number}"
    tiles = {tile.method: tile for tile in pay.ids.methods.children}
    tiles["CARD_TERMINAL"].dispatch("on_release")
    await frames()
    assert pay.ids.reference_box.height > 0
    tiles["WECHAT_PAY"].dispatch("on_release")
    await frames()
    assert pay.ids.reference_box.height == 0 and pay.ids.pay_text.text == f"收款 {checkout.total}"
    await without_snackbars()
    await scroll_to(pay, pay.ids.methods)  # the total still in view above the ways to pay
    await check_layout(app.shell, expect_targets=10)
    screenshot("18-checkout-pay")

    pay.ids.pay.dispatch("on_release")
    await eventually(lambda: session.screen == "checkout_qr", what="the QR code")
    qr = app.shell.ids.checkout_qr
    await eventually(lambda: checkout.live_connected, what="orderPaid listening")
    await frames()
    shown = set(texts(qr))
    assert {"请顾客用微信扫码付款", checkout.total, "等待顾客付款…", "换一种方式"} <= shown
    assert qr.ids.code.texture is not None and qr.ids.code.texture.size[0] == len(checkout.qr_modules())
    await check_layout(app.shell, expect_targets=6)
    screenshot("19-checkout-wechat-qr")
    number = vendor.charges("wechat_pay")[-1]  # the sandbox serves the whole session: the newest is ours
    assert (await vendor.sandbox.pay("wechat_pay", number)).status == 200
    await eventually(lambda: session.screen == "receipt", what="paid, heard live")
    receipt = app.shell.ids.receipt
    await frames()
    shown = set(texts(receipt))
    assert {"收款成功", "订单号", checkout.number, "微信支付", "自提码（顾客取货时出示）", "邮寄地址"} <= shown
    assert checkout.receipt().pickup_code in shown and f"优惠券 {coupon['code']}" in shown
    assert ANNOUNCED.count(f"已收款：{checkout.total}") == 1  # said once, by the screen she is on
    await without_snackbars()
    await check_layout(app.shell, expect_targets=5)
    screenshot("20-receipt")
    receipt.ids.done.dispatch("on_release")
    await eventually(lambda: session.screen == "reception" and session.reception.finished, what="her reception done")
    assert session.checkout is None

"""The camera probe: the reception screen offers scanning only where ``camera_available()`` finds a camera
Kivy can show, and code entry alone elsewhere. The probe runs against fake camera providers (no device is
opened), then its answer goes where the screen puts it (``ReceptionPresenter.set_camera``)."""

from __future__ import annotations

import sys
import types

import pytest

from guide_app import camera
from guide_app.camera import camera_available
from guide_app.presenters.reception import ReceptionPresenter


class FakeCapture:
    """cv2.VideoCapture(0) of a desktop, with or without a webcam."""

    def __init__(self, opens: bool) -> None:
        self.opens, self.released = opens, False

    def isOpened(self) -> bool:  # OpenCV's name
        return self.opens

    def release(self) -> None:
        self.released = True


def fake_cv2(opens: bool) -> types.ModuleType:
    module = types.ModuleType("cv2")
    module.captures = []

    def video_capture(index: int) -> FakeCapture:
        assert index == 0
        module.captures.append(FakeCapture(opens))
        return module.captures[-1]

    module.VideoCapture = video_capture
    return module


def opencv_provider() -> type:
    return type("CameraOpenCV", (), {})


def android_provider(count: int) -> type:
    return type("CameraAndroid", (), {"get_camera_count": staticmethod(lambda: count)})


def use_provider(monkeypatch, core_camera: type | None, *, platform: str = "linux", cv2=None) -> None:
    """Kivy's camera provider as ``kivy.core.camera`` would give it (None: none for this platform)."""
    module = types.ModuleType("kivy.core.camera")
    module.Camera = core_camera
    monkeypatch.setitem(sys.modules, "kivy.core.camera", module)
    if cv2 is not None:
        monkeypatch.setitem(sys.modules, "cv2", cv2)
    monkeypatch.setattr(camera, "platform", platform)
    camera_available.cache_clear()


def without_provider(monkeypatch) -> None:
    """No camera provider at all: importing Kivy's camera fails (a build without one)."""
    monkeypatch.setitem(sys.modules, "kivy.core.camera", types.ModuleType("kivy.core.camera"))
    camera_available.cache_clear()


@pytest.fixture(autouse=True)
def fresh_probe():
    """The probe is asked once per run (cached): each test asks it afresh, and leaves no fake answer behind."""
    camera_available.cache_clear()
    yield
    camera_available.cache_clear()


def test_without_a_camera_provider_there_is_no_camera(monkeypatch):
    without_provider(monkeypatch)
    assert camera_available() is False


def test_a_platform_kivy_has_no_provider_for_has_no_camera(monkeypatch):
    use_provider(monkeypatch, None)
    assert camera_available() is False


@pytest.mark.parametrize("opens", [True, False])
def test_on_a_desktop_the_first_webcam_must_open_and_is_let_go(monkeypatch, opens):
    cv2 = fake_cv2(opens)
    use_provider(monkeypatch, opencv_provider(), cv2=cv2)
    assert camera_available() is opens
    [capture] = cv2.captures
    assert capture.released  # the probe keeps no device open


@pytest.mark.parametrize(("count", "available"), [(0, False), (1, True), (2, True)])
def test_on_android_the_phone_must_report_a_camera(monkeypatch, count, available):
    use_provider(monkeypatch, android_provider(count), platform="android")
    assert camera_available() is available


def test_a_provider_that_found_its_device_is_trusted(monkeypatch):
    use_provider(monkeypatch, type("CameraGi", (), {}))  # GStreamer: it only loads with a device
    assert camera_available() is True


def test_a_probe_that_fails_means_no_camera(monkeypatch):
    def broken() -> int:
        raise OSError("camera service died")

    use_provider(monkeypatch, type("CameraAndroid", (), {"get_camera_count": staticmethod(broken)}), platform="android")
    assert camera_available() is False


def test_the_device_is_asked_once_per_run(monkeypatch):
    cv2 = fake_cv2(True)
    use_provider(monkeypatch, opencv_provider(), cv2=cv2)
    assert camera_available() and camera_available()
    assert len(cv2.captures) == 1


class NoServer:
    """The reception presenter's API, never called by the camera rules."""

    async def query(self, operation: str, variables: dict) -> dict:
        raise AssertionError(f"unexpected {operation}")

    mutate = query


@pytest.mark.parametrize(
    ("provider", "offered"),
    [
        (lambda mp: use_provider(mp, opencv_provider(), cv2=fake_cv2(True)), True),
        (lambda mp: use_provider(mp, opencv_provider(), cv2=fake_cv2(False)), False),
        (lambda mp: use_provider(mp, android_provider(1), platform="android"), True),
        (without_provider, False),
    ],
    ids=["webcam", "no-webcam", "android-camera", "no-provider"],
)
def test_the_check_in_offers_scanning_only_with_a_camera(monkeypatch, provider, offered):
    """What the reception screen does when it shows a task: ``presenter.set_camera(camera_available())``."""
    provider(monkeypatch)
    reception = ReceptionPresenter(NoServer(), "VGFzazox")
    reception.set_camera(camera_available())
    assert reception.can_scan is offered
    assert (reception.scan_note == "") is offered  # without a camera, a note says to type the code in
    assert reception.start_scan() is offered and reception.scanning is offered

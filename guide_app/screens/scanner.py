"""The camera in a box while a presenter scans (her booking QR at reception; a product's barcode or her
coupon's QR at the till): Kivy's Camera widget, and one frame every ``SCAN_INTERVAL`` to the presenter."""

from __future__ import annotations

from collections.abc import Callable

from kivy.clock import Clock

from ..camera import frame_of, release
from .widgets import show

# How often a frame is taken from the camera and searched for a code while scanning.
SCAN_INTERVAL = 0.3


class CameraFeed:
    """``update(True)`` opens the camera in ``box`` (once), ``update(False)`` lets it go. Each frame goes to
    ``on_frame(pixels, size, pixel_format)``; a camera that cannot be opened calls ``on_error()``."""

    def __init__(self, box, on_frame: Callable[[bytes, tuple[int, int], str], None], on_error: Callable[[], None]):
        self.box = box
        self.on_frame = on_frame
        self.on_error = on_error
        self.camera = None  # the kivy.uix.camera.Camera widget while scanning
        self._event = None

    def update(self, scanning: bool) -> None:
        if scanning and self.camera is None:
            from kivy.uix.camera import Camera

            try:
                self.camera = Camera(play=True, resolution=(640, 480), allow_stretch=True)
            except Exception:
                self.camera = None
                Clock.schedule_once(lambda _dt: self.on_error())
                return
            self.box.add_widget(self.camera)
            self._event = Clock.schedule_interval(self._tick, SCAN_INTERVAL)
        elif not scanning and self.camera is not None:
            if self._event is not None:
                self._event.cancel()
                self._event = None
            release(self.camera)
            self.box.remove_widget(self.camera)
            self.camera = None
        show(self.box, self.camera is not None)

    def _tick(self, _dt) -> None:
        if self.camera is None:
            return
        frame = frame_of(self.camera)
        if frame is not None:
            self.on_frame(*frame)

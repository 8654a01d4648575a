"""The device's camera through Kivy: is there one, may the app use it, and its current frame.

Kivy picks a camera provider per platform (Android's, GStreamer, OpenCV on desktops). A provider
being there does not mean a camera is: the probe opens none and only asks how many there are
(Android) or whether the first one opens (OpenCV), so a desktop without a webcam offers code
entry alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache

from kivy.utils import platform

log = logging.getLogger("guide_app")


@cache
def camera_available() -> bool:
    """Whether this device has a camera Kivy can show (asked once per run)."""
    try:
        from kivy.core.camera import Camera as CoreCamera
    except Exception as error:
        log.info("no camera provider: %s", error)
        return False
    if CoreCamera is None:
        log.info("no camera provider for Kivy on this platform")
        return False
    try:
        if platform == "android":
            return CoreCamera.get_camera_count() > 0
        if CoreCamera.__name__ == "CameraOpenCV":
            import cv2

            capture = cv2.VideoCapture(0)
            try:
                return bool(capture.isOpened())
            finally:
                capture.release()
        return True  # GStreamer / AVFoundation / Picamera: the provider itself found the device
    except Exception as error:
        log.info("camera probe failed: %s", error)
        return False


def with_camera_permission(then: Callable[[bool], None]) -> None:
    """Call ``then(granted)`` on the UI thread once the app may use the camera (Android asks the guide)."""
    if platform != "android":
        then(True)
        return
    from android.permissions import Permission, check_permission, request_permissions
    from kivy.clock import mainthread

    if check_permission(Permission.CAMERA):
        then(True)
        return

    @mainthread
    def answered(permissions, grants) -> None:
        then(bool(grants) and all(grants))

    request_permissions([Permission.CAMERA], answered)


def frame_of(camera_widget) -> tuple[bytes, tuple[int, int], str] | None:
    """The widget's current frame as (pixels, size, format), or None before the first frame.

    On Android the preview buffer is NV21, whose first width×height bytes are the grey image:
    that is read directly. Elsewhere the texture is read back (RGBA, rows bottom-up; the decoder
    does not mind the mirror).
    """
    core = getattr(camera_widget, "_camera", None)
    if core is not None and hasattr(core, "grab_frame"):
        buffer = core.grab_frame()
        if buffer is None:
            return None
        width, height = core._resolution
        return bytes(buffer[: width * height]), (width, height), "luminance"
    texture = camera_widget.texture
    if texture is None:
        return None
    return texture.pixels, tuple(texture.size), "rgba"


def release(camera_widget) -> None:
    """Stop the camera and let the device go (Kivy's OpenCV provider keeps it open otherwise)."""
    camera_widget.play = False
    device = getattr(getattr(camera_widget, "_camera", None), "_device", None)
    if device is not None and hasattr(device, "release"):
        device.release()

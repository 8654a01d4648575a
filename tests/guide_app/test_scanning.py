"""Scanning the booking QR: real codes of real bookings, drawn into camera-like frames and read back.

The frames are what Kivy's camera texture gives (RGBA bytes, rows bottom-up) or Android's preview
(grey): the code as the customer shows it on her phone, turned, smaller or larger, in a noisy frame.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import qrcode

from guide_app.presenters.scanning import decode_qr, decoder_available

from .conftest import customer_books, eventually, livestream, signed_in_guide

FRAME = (640, 480)  # what the screen asks the camera for


def qr_image(text: str, module: int = 4) -> np.ndarray:
    """The QR code of the text as the customer's phone shows it: black on white, with its quiet zone."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(text)
    code.make(fit=True)
    modules = np.array(code.get_matrix(), dtype=bool)
    image = np.where(modules, 0, 255).astype(np.uint8)
    return cv2.resize(image, None, fx=module, fy=module, interpolation=cv2.INTER_NEAREST)


def camera_frame(
    text: str | None,
    *,
    scale: float = 1.0,
    angle: float = 0.0,
    noise: float = 0.0,
    size: tuple[int, int] = FRAME,
    background: int = 150,
    bottom_up: bool = True,
    seed: int = 5,
) -> bytes:
    """An RGBA frame of the given size with the code in the middle, turned by ``angle`` degrees,
    scaled, with Gaussian noise of the given sigma; rows bottom-up as Kivy's texture gives them."""
    width, height = size
    frame = np.full((height, width), background, dtype=np.float32)
    if text is not None:
        code = qr_image(text)
        code = cv2.resize(code, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        turn = cv2.getRotationMatrix2D((code.shape[1] / 2, code.shape[0] / 2), angle, 1.0)
        side = int(np.ceil(np.hypot(*code.shape)))
        turn[:, 2] += (side - code.shape[1]) / 2, (side - code.shape[0]) / 2
        turned = cv2.warpAffine(code, turn, (side, side), flags=cv2.INTER_LINEAR)
        mask = cv2.warpAffine(np.ones_like(code), turn, (side, side), flags=cv2.INTER_NEAREST) > 0
        assert side <= min(width, height), "the code does not fit in the frame"
        top, left = (height - side) // 2, (width - side) // 2
        window = frame[top : top + side, left : left + side]
        window[mask] = turned[mask]
    if noise:
        frame += np.random.default_rng(seed).normal(0, noise, frame.shape)
    grey = np.clip(frame, 0, 255).astype(np.uint8)
    if bottom_up:
        grey = grey[::-1]
    rgba = cv2.cvtColor(grey, cv2.COLOR_GRAY2RGBA)
    rgba[..., 0] = np.clip(rgba[..., 0].astype(int) + 12, 0, 255)  # a warm cast, as cameras have
    return rgba.tobytes()


async def a_real_qr_token(server, world, clock) -> str:
    booked = await customer_books(server, world, clock, livestream_id=await livestream(server, world, clock))
    return await booked.qr_token(server)


def test_the_decoder_is_installed():
    assert decoder_available(), "opencv-python-headless is a dependency of the app (pyproject.toml)"


async def test_the_decoder_reads_a_real_booking_token_back_from_camera_frames(server, world, clock):
    token = await a_real_qr_token(server, world, clock)
    assert len(token) > 20

    assert decode_qr(camera_frame(token, bottom_up=False), FRAME) == token
    assert decode_qr(camera_frame(token), FRAME) == token  # Kivy's bottom-up rows: a mirrored code
    frames = {
        "turned 30°, smaller": {"angle": 30, "scale": 0.7},
        "upside down": {"angle": 180},
        "turned 75°, noisy": {"angle": 75, "scale": 0.8, "noise": 18},
        "noisy, dim background": {"noise": 25, "background": 90},
        "larger, turned 10°": {"angle": 10, "scale": 1.3, "size": (1280, 960)},
    }
    for what, how in frames.items():
        size = how.get("size", FRAME)
        assert decode_qr(camera_frame(token, **how), size) == token, what


async def test_the_decoder_reads_grey_android_preview_frames(server, world, clock):
    token = await a_real_qr_token(server, world, clock)
    rgba = np.frombuffer(camera_frame(token, angle=20, noise=10), dtype=np.uint8).reshape(FRAME[1], FRAME[0], 4)
    luminance = cv2.cvtColor(rgba, cv2.COLOR_RGBA2GRAY).tobytes()
    assert decode_qr(luminance, FRAME, "luminance") == token
    rgb = cv2.cvtColor(rgba, cv2.COLOR_RGBA2RGB).tobytes()
    assert decode_qr(rgb, FRAME, "rgb") == token


def test_a_frame_without_a_code_gives_none():
    assert decode_qr(camera_frame(None), FRAME) is None
    assert decode_qr(camera_frame(None, noise=40), FRAME) is None
    assert decode_qr(bytes(FRAME[0] * FRAME[1] * 4), FRAME) is None  # a black frame (the camera warming up)


def test_a_frame_of_the_wrong_size_is_refused():
    with pytest.raises(ValueError, match="needs 1228800 bytes"):
        decode_qr(b"\x00" * 100, FRAME)


async def test_a_scanned_code_checks_her_in_against_the_server(server, world, clock, make_session):
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    booked = await customer_books(server, world, clock, livestream_id=await livestream(server, world, clock))
    await eventually(lambda: len(session.inbox.rows()) == 1, what="the task")
    reception = await session.open_reception(session.inbox.rows()[0].id)
    token = await booked.qr_token(server)

    reception.set_camera(False)  # a desktop without a camera: code entry only, and the note says why
    assert not reception.can_scan and reception.scan_note == "此设备没有可用的摄像头：请输入核销码。"
    assert not reception.start_scan() and reception.message == reception.scan_note

    reception.set_camera(True)
    assert reception.can_scan and reception.scan_note == ""
    assert not await reception.scan_frame(camera_frame(token), FRAME)  # not scanning: frames are ignored
    assert reception.start_scan() and reception.scanning and reception.message == ""

    assert not await reception.scan_frame(camera_frame(None, noise=20), FRAME)  # nothing in view yet
    assert reception.scanning and not reception.checked_in

    assert await reception.scan_frame(camera_frame(token, angle=25, noise=12), FRAME), reception.message
    assert not reception.scanning  # the camera stops once a code is read
    assert reception.checked_in and reception.notice == "已签到。" and reception.qr_code == ""
    assert reception.status == "接待中"
    assert session.inbox.tasks[reception.task_id]["status"] == "IN_PROGRESS"


async def test_a_scanned_code_that_is_no_booking_keeps_it_for_the_guide(server, world, clock, make_session):
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    await customer_books(server, world, clock, livestream_id=await livestream(server, world, clock))
    await eventually(lambda: len(session.inbox.rows()) == 1, what="the task")
    reception = await session.open_reception(session.inbox.rows()[0].id)
    reception.set_camera(True)
    assert reception.start_scan()

    assert not await reception.scan_frame(camera_frame("https://example.com/not-a-booking"), FRAME)
    assert not reception.scanning and not reception.checked_in
    assert reception.qr_code == "https://example.com/not-a-booking"  # shown in the field, to check or retype
    assert reception.message == "二维码无效或已过期。"

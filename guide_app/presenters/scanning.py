"""Reading a QR code (a booking's, a coupon's) or a product's barcode (EAN-13, UPC-A) out of a camera frame
(OpenCV's QR and barcode detectors; plain Python, no Kivy).

A frame is what Kivy's camera texture gives (``texture.pixels``: RGBA bytes, rows from the bottom
up) or any RGB/RGBA/BGR(A)/grey byte buffer with its size. OpenCV reads a code at any rotation and
also mirrored (front cameras, bottom-up rows), so a frame is decoded as it comes; a frame that the
classic detector cannot read is given to the ArUco-based one, and a code seen but not read in a
small frame is read again enlarged. OpenCV's barcode detector finds a barcode only when its bars are of a
size its window scales expect, so a frame is looked at in a few sizes until one reads.
"""

from __future__ import annotations

import logging

log = logging.getLogger("guide_app")

CHANNELS = {"rgba": 4, "bgra": 4, "rgb": 3, "bgr": 3, "luminance": 1}
# Larger frames are scaled down first: the detector is quicker and no less sure at this size.
LARGEST_SIDE = 1280

try:  # opencv-python-headless on desktops, the opencv recipe on Android
    import cv2
    import numpy as np
except ImportError:  # pragma: no cover - a build without OpenCV: code entry only
    cv2 = np = None


def decoder_available() -> bool:
    """Whether frames can be decoded here (OpenCV is installed)."""
    return cv2 is not None


def grey(pixels: bytes, size: tuple[int, int], pixel_format: str = "rgba"):
    """The frame as a 2-D grey numpy array (height × width)."""
    width, height = size
    channels = CHANNELS[pixel_format]
    expected = width * height * channels
    if width <= 0 or height <= 0 or len(pixels) < expected:
        raise ValueError(f"a {width}×{height} {pixel_format} frame needs {expected} bytes, got {len(pixels)}")
    frame = np.frombuffer(pixels, dtype=np.uint8, count=expected)
    if channels == 1:
        return frame.reshape(height, width)
    frame = frame.reshape(height, width, channels)
    conversion = {
        "rgba": cv2.COLOR_RGBA2GRAY,
        "bgra": cv2.COLOR_BGRA2GRAY,
        "rgb": cv2.COLOR_RGB2GRAY,
        "bgr": cv2.COLOR_BGR2GRAY,
    }[pixel_format]
    return cv2.cvtColor(frame, conversion)


def decode_qr(pixels: bytes, size: tuple[int, int], pixel_format: str = "rgba") -> str | None:
    """The text of the QR code in the frame, or None when it shows none (or none that can be read)."""
    if not decoder_available():
        return None
    image = grey(pixels, size, pixel_format)
    largest = max(image.shape)
    if largest > LARGEST_SIDE:
        scale = LARGEST_SIDE / largest
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    text, seen = _read(cv2.QRCodeDetector, image)
    if text is None and hasattr(cv2, "QRCodeDetectorAruco"):  # surer on noisy, turned frames
        text, aruco_seen = _read(cv2.QRCodeDetectorAruco, image)
        seen = seen or aruco_seen
    if text is None and seen and max(image.shape) <= LARGEST_SIDE // 2:
        # A code was found but not read: small, a few pixels a module. Enlarged, it often is.
        text, _seen = _read(cv2.QRCodeDetector, cv2.resize(image, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC))
    return text


def _read(detector, image) -> tuple[str | None, bool]:
    """The text read (or None) and whether a code was seen at all."""
    # A detector per frame: frames are decoded off the UI thread, and one is cheap to make.
    try:
        text, points, _straight = detector().detectAndDecode(image)
    except cv2.error as error:  # a frame the detector chokes on is a frame without a code
        log.debug("QR detector failed on a frame: %s", error)
        return None, False
    return text or None, points is not None


# The sizes a frame is looked at for a barcode, largest share first (see the module's note).
BARCODE_SCALES = (1.0, 0.5, 0.7, 0.35, 0.25, 1.6)
# What a product's barcode is (a coupon or booking QR is read by decode_qr).
PRODUCT_BARCODES = frozenset({"EAN_13", "UPC_A", "EAN_8", "UPC_E"})


def decode_barcode(pixels: bytes, size: tuple[int, int], pixel_format: str = "rgba") -> str | None:
    """The digits of the product barcode (EAN-13, UPC-A, EAN-8, UPC-E) in the frame, or None."""
    if not decoder_available() or not hasattr(cv2, "barcode"):
        return None
    image = grey(pixels, size, pixel_format)
    largest = max(image.shape)
    if largest > LARGEST_SIDE:
        image = cv2.resize(
            image, None, fx=LARGEST_SIDE / largest, fy=LARGEST_SIDE / largest, interpolation=cv2.INTER_AREA
        )
    detector = cv2.barcode.BarcodeDetector()
    for scale in BARCODE_SCALES:
        if scale == 1.0:
            scaled = image
        else:
            interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
            scaled = cv2.resize(image, None, fx=scale, fy=scale, interpolation=interpolation)
        try:
            found, texts, kinds, _points = detector.detectAndDecodeWithType(scaled)
        except cv2.error as error:
            log.debug("barcode detector failed on a frame: %s", error)
            continue
        if found:
            for text, kind in zip(texts, kinds, strict=False):
                if text and kind in PRODUCT_BARCODES:
                    return text
    return None


def decode_product_code(pixels: bytes, size: tuple[int, int], pixel_format: str = "rgba") -> str | None:
    """A product scanned at the till: its barcode, else a QR code (some packs carry their code in one)."""
    return decode_barcode(pixels, size, pixel_format) or decode_qr(pixels, size, pixel_format)

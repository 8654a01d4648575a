"""A payment QR code to show the customer: the modules of the code as rows of booleans (plain Python, no
Kivy; the screen turns them into a texture). ``qrcode`` does the encoding; no image library is needed."""

from __future__ import annotations

import qrcode
from qrcode.constants import ERROR_CORRECT_M

QUIET_ZONE = 4  # modules of white around the code: scanners need them


def qr_modules(text: str) -> list[list[bool]]:
    """The QR code of ``text`` with its quiet zone: True is a dark module; rows from the top."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE)
    code.add_data(text)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def luminance(modules: list[list[bool]], scale: int = 1) -> bytes:
    """The modules as 8-bit grey pixels (black on white), each module ``scale`` pixels square, rows from the
    top: what a texture or a decoder takes."""
    rows = []
    for row in modules:
        line = b"".join((b"\x00" if dark else b"\xff") * scale for dark in row)
        rows.extend([line] * scale)
    return b"".join(rows)

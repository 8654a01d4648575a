"""A font with Chinese glyphs: Kivy's bundled Roboto has none."""

from __future__ import annotations

import os
from pathlib import Path

CJK_FONTS = [
    # Debian / Ubuntu: fonts-noto-cjk, fonts-wqy-zenhei, fonts-wqy-microhei
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    # Fedora, Arch
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc",
    # Android (system fonts)
    "/system/fonts/NotoSansCJK-Regular.ttc",
    "/system/fonts/NotoSansSC-Regular.otf",
    "/system/fonts/DroidSansFallbackFull.ttf",
    "/system/fonts/DroidSansFallback.ttf",
    # macOS, Windows (developers' machines)
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Light.ttc",
    "C:/Windows/Fonts/msyh.ttc",
]


def find_cjk_font(candidates: list[str] | None = None) -> str | None:
    """``IRS_GUIDE_FONT`` if set, else the first CJK font installed; None when there is none."""
    chosen = os.environ.get("IRS_GUIDE_FONT")
    if chosen and Path(chosen).is_file():
        return chosen
    return next((path for path in (candidates or CJK_FONTS) if Path(path).is_file()), None)


def bold_variant(font: str) -> str | None:
    """The bold face beside a regular one (NotoSansCJK-Bold.ttc beside NotoSansCJK-Regular.ttc), if installed;
    without one Kivy thickens the regular face."""
    path = Path(font)
    if "Regular" not in path.name:
        return None
    bold = path.with_name(path.name.replace("Regular", "Bold"))
    return str(bold) if bold.is_file() else None

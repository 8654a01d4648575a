"""The app's language: zh-CN by default, English (the message ids themselves) as the fallback.

Catalogs are gettext ``.po`` files under ``locale/<language>/LC_MESSAGES/guide_app.po``;
they are compiled in memory when the app starts (Babel), so no ``.mo`` file is kept
in the repository or has to be rebuilt by hand.
"""

from __future__ import annotations

import gettext
import io
import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "guide_app"
LOCALE_DIR = Path(__file__).with_name("locale")
DEFAULT_LANGUAGE = "zh_CN"
FALLBACK_LANGUAGE = "en"

_active: gettext.NullTranslations = gettext.NullTranslations()
_language = FALLBACK_LANGUAGE


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def available_languages() -> list[str]:
    return [*sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")), FALLBACK_LANGUAGE]


def compile_catalog(language: str) -> gettext.GNUTranslations:
    """The language's .po compiled to a .mo in memory and loaded by gettext."""
    with catalog_path(language).open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def requested_language() -> str:
    return os.environ.get("IRS_GUIDE_LANG", DEFAULT_LANGUAGE)


def use_language(language: str | None = None) -> str:
    """Switch the app's language (unknown languages fall back to English); returns the one in use."""
    global _active, _language
    wanted = (language or requested_language()).replace("-", "_")
    if catalog_path(wanted).exists():
        _active, _language = compile_catalog(wanted), wanted
    else:
        _active, _language = gettext.NullTranslations(), FALLBACK_LANGUAGE
    return _language


def current_language() -> str:
    return _language


def _(message: str) -> str:
    """The message in the current language (the English message id when it has no translation)."""
    return _active.gettext(message)


def N_(message: str) -> str:
    """Marks a message for translation where it is defined; ``_`` translates it where it is shown."""
    return message

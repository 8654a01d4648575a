"""What the app logs: INFO by default, never a password or a token, phones masked, the log file private.

Kivy (in its default ``KIVY_LOG_MODE``) sends every logger of the process to the console and to
``~/.kivy/logs/kivy_*.txt`` with the root logger at NOTSET, so each library's DEBUG lines were
written: gql's transport logs every request and answer body (the ``staffLogin`` password, the
tokens, customers' phones), websockets every frame (``connection_init`` carries the access token).
Here:

* the level is INFO unless ``IRS_GUIDE_LOG_LEVEL`` says otherwise (``debug``, ``warning``…);
* the transports (gql, httpx/httpcore, websockets) log warnings only, whatever that level;
* every record is redacted when it is made (a log record factory, so it holds for every handler:
  Kivy's console and file, pytest's capture): values of password/token/authorization fields,
  ``Bearer …``, JWTs and long opaque secrets become ``[redacted]``, phones become ``139****1111``;
* files the app creates are its user's only (umask 077), and the log directory and its files are
  made 0700/0600 again at start-up (logs an older version left behind included).

Nothing here imports Kivy: ``guide_app.main`` calls these around Kivy's import.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

LEVEL_VARIABLE = "IRS_GUIDE_LOG_LEVEL"
DEFAULT_LEVEL = logging.INFO
# Libraries whose DEBUG/INFO lines carry request bodies, headers or frames.
TRANSPORT_LOGGERS = ("gql.transport", "websockets", "httpx", "httpcore")
REDACTED = "[redacted]"

_SECRET_KEY = r"(?:password|passwd|secret|authorization|[a-z_]*token)"
# A quoted value runs to its closing quote, or to the end of the line when a logger cut it short.
_QUOTED_VALUE = re.compile(rf"""(?im)(["']?{_SECRET_KEY}["']?\s*[:=]\s*)(["'])(?:\\.|(?!\2).)*(?:\2|$)""")
_BARE_VALUE = re.compile(rf"""(?i)(\b{_SECRET_KEY}=)(?!["'])[^\s&,;)]+""")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*){0,2}")
# Opaque secrets (refresh tokens are 43 url-safe characters, QR tokens longer): 32 or more such
# characters with an upper-case letter or a digit (so long snake_case names in tracebacks stay).
_OPAQUE = re.compile(r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*[A-Z0-9])[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])")
# Mainland mobiles, with or without +86 and with spaces or dashes as the app formats them.
_CN_MOBILE = re.compile(r"(?<![\d+])(\+?86[ -]?)?(1[3-9]\d)[ -]?\d{4}[ -]?(\d{4})(?!\d)")
_E164 = re.compile(r"(?<![\w+])\+(\d{3})\d{1,8}(\d{4})(?!\d)")


def mask_phone(text: str) -> str:
    """Phones in ``text`` masked as the server masks them: ``13912341111`` → ``139****1111``."""
    text = _CN_MOBILE.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}****{m.group(3)}", text)
    return _E164.sub(r"+\1****\2", text)


def redact(text: str) -> str:
    """``text`` without passwords, tokens and full phone numbers."""
    text = _QUOTED_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}{m.group(2)}", text)
    text = _BARE_VALUE.sub(rf"\1{REDACTED}", text)
    text = _BEARER.sub(rf"\1 {REDACTED}", text)
    text = _JWT.sub(REDACTED, text)
    text = _OPAQUE.sub(REDACTED, text)
    return mask_phone(text)


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a record in place: its message (arguments merged in) and its traceback text."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: leave it to logging to report
        return record
    clean = redact(message)
    if clean != message or record.args:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class RedactingFilter(logging.Filter):
    """The same redaction as a filter, for a handler or logger set up elsewhere."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


_factory_before: object | None = None


def install_redaction() -> None:
    """Redact every record the process makes from now on (idempotent)."""
    global _factory_before
    if _factory_before is not None:
        return
    previous = logging.getLogRecordFactory()

    def redacting_factory(*args, **kwargs) -> logging.LogRecord:
        return redact_record(previous(*args, **kwargs))

    _factory_before = previous
    logging.setLogRecordFactory(redacting_factory)


def uninstall_redaction() -> None:
    global _factory_before
    if _factory_before is not None:
        logging.setLogRecordFactory(_factory_before)  # type: ignore[arg-type]
        _factory_before = None


def requested_level() -> int:
    """``IRS_GUIDE_LOG_LEVEL`` (a name such as ``debug`` or a number), else INFO."""
    wanted = os.environ.get(LEVEL_VARIABLE, "").strip()
    if not wanted:
        return DEFAULT_LEVEL
    if wanted.isdigit():
        return int(wanted)
    level = logging.getLevelName(wanted.upper())
    return level if isinstance(level, int) else DEFAULT_LEVEL


def set_levels(level: int | None = None) -> int:
    """The app's level on the root and Kivy loggers; transports at WARNING whatever it is."""
    level = requested_level() if level is None else level
    logging.getLogger().setLevel(level)
    logging.getLogger("kivy").setLevel(level)
    for name in TRANSPORT_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    return level


def private_files() -> None:
    """Everything the app creates from now on is readable by its user only."""
    os.umask(0o077)


def make_private(directory: str | Path) -> None:
    """A directory 0700 and the files in it 0600 (what an older run left readable included)."""
    directory = Path(directory)
    if not directory.is_dir():
        return
    directory.chmod(0o700)
    for path in directory.iterdir():
        if path.is_file():
            path.chmod(0o600)


def before_kivy() -> int:
    """Before Kivy is imported: private files, redaction, and Kivy's own logger at our level."""
    private_files()
    install_redaction()
    level = requested_level()
    logging.getLogger("kivy").setLevel(level)  # Kivy logs at import, before it reads its config
    return level

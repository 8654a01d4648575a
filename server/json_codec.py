"""JSON read and written by orjson, as the standard library reads it and (but for NaN) writes it.

JSON was about 3 % of a booking's CPU in the standard library's encoder and decoder: the request, the answer over
HTTP and WebSocket, the JSON columns read from PostgreSQL, the bus's messages. orjson does the same work in a
fraction of the time. Where the two would differ, the standard library answers:

- reading: a number of 19 digits or more (orjson reads an integer beyond 64 bits as a float), and anything orjson
  refuses (NaN, a lone surrogate's escape, a byte-order mark, nesting past its 1,024 levels) goes to the standard
  library, which reads it or raises its own error, as before (``server.api.json_input`` reads what a client sends
  so, then applies its limits). One difference is left: nesting of about 1,000 to 1,024 levels, which the standard
  library refuses with a ``RecursionError`` (how deep depends on the caller's stack), orjson reads (a client's is
  refused by the depth limit all the same);
- writing: what orjson refuses (an integer beyond 64 bits, a lone surrogate, a key that is not a string, an object
  it does not know) goes to the standard library too, which escapes a lone surrogate (the text is valid UTF-8) or
  raises its own ``TypeError``. The text differs (no spaces, non-ASCII as UTF-8), not the value; except NaN and the
  infinities, which JSON cannot hold, written as null (the standard library wrote ``NaN``, which no other reader
  accepts, and Starlette refused it).

JSON columns are still written by the standard library: what a client sent (an event's properties) may hold a NaN,
which PostgreSQL refuses as the standard library writes it, where orjson's null would be stored. Nor for text whose
exact form matters (an idempotency key's fingerprint, a payment's signed body).
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

# A number of 19 digits or more: its ASCII digits, each mapped to 0 (a byte of UTF-8 that is a digit is one).
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_WIDE_NUMBER = b"0" * 19


def encode(value: Any) -> bytes:
    """``value`` as JSON, UTF-8."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(_nan_as_null(value), separators=(",", ":")).encode()


def _nan_as_null(value: Any) -> Any:
    """``value`` with NaN and the infinities as None, as orjson writes them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _nan_as_null(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_nan_as_null(item) for item in value]
    return value


def dumps(value: Any) -> str:
    """``value`` as JSON text."""
    return encode(value).decode()


def loads(text: str | bytes) -> Any:
    """The value ``text`` holds, as ``json.loads`` reads it (and raising what it raises)."""
    try:
        data = text.encode() if isinstance(text, str) else text
    except UnicodeEncodeError:  # a lone surrogate
        return json.loads(text)
    if data.translate(_DIGITS_AS_ZERO).find(_WIDE_NUMBER) < 0:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)

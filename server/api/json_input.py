"""The JSON a client sends (HTTP bodies, GET parameters, WebSocket messages), decoded with limits,
and the same rule for the strings written in the GraphQL document itself.

Refused before any GraphQL work, whatever field they would reach:

* nesting deeper than MAX_DEPTH (Python's decoder would otherwise hit its recursion limit);
* NUL characters, which no text of ours holds and PostgreSQL refuses in text and JSONB;
* lone UTF-16 surrogates ("\\ud800"), which are not Unicode text: they cannot be encoded
  for the database nor echoed back in an answer;
* NaN and the infinities (``NaN``, ``Infinity``, a number too large for a float such as ``1e400``), which
  Python's decoder reads but JSON does not have: PostgreSQL refuses them in a JSON column.
"""

from __future__ import annotations

import math
import re
from typing import Any

from graphql import GraphQLError, StringValueNode, ValidationRule

from .. import json_codec

MAX_DEPTH = 32
_UNWANTED = re.compile("[\x00\ud800-\udfff]")


class NotJSON(ValueError):
    """Not valid JSON at all."""


class UnsafeJSON(ValueError):
    """Valid JSON that breaks one of the limits above; the message says why."""


def decode(data: str | bytes) -> Any:
    try:
        value = json_codec.loads(data)  # read as json.loads reads it, raising what it raises
    except RecursionError:
        raise UnsafeJSON(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:
        raise NotJSON("not valid JSON") from None
    check(value)
    return value


def check(value: Any) -> None:
    """Walk ``value`` (no recursion: depth is what is being checked) for the limits above."""
    pending: list[tuple[Any, int, str]] = [(value, 1, "")]
    while pending:
        item, depth, path = pending.pop()
        if depth > MAX_DEPTH:
            raise UnsafeJSON(f"JSON nested deeper than {MAX_DEPTH} levels (at {path or 'the top'})")
        if isinstance(item, str):
            _check_text(item, path)
        elif isinstance(item, float) and not math.isfinite(item):
            where = _printable(path) or "the top"
            raise UnsafeJSON(f"the number at {where} is {item!r}: NaN and infinities are not JSON")
        elif isinstance(item, dict):
            for key, child in item.items():
                _check_text(key, path)
                pending.append((child, depth + 1, f"{path}.{key}" if path else key))
        elif isinstance(item, list):
            pending.extend((child, depth + 1, f"{path}[{index}]") for index, child in enumerate(item))


def _check_text(text: str, path: str) -> None:
    found = _UNWANTED.search(text)
    if found:
        what = "a NUL character" if found.group() == "\x00" else "a lone UTF-16 surrogate"
        where = _printable(path) or "the top"
        raise UnsafeJSON(
            f"a string at {where} holds {what} (U+{ord(found.group()):04X}): strings must be valid Unicode text"
        )


def _printable(path: str) -> str:
    return _UNWANTED.sub("?", path)[:200]


class TextLiteralRule(ValidationRule):
    """The document's own string literals meet the same rule: GraphQL's lexer already refuses lone
    surrogates, but decodes the escape \\u0000 to a NUL."""

    def enter_string_value(self, node: StringValueNode, *_args) -> None:
        if _UNWANTED.search(node.value):
            self.report_error(
                GraphQLError(
                    "a string literal holds a NUL character (U+0000): strings must be valid Unicode text",
                    node,
                    extensions={"code": "BAD_USER_INPUT"},
                )
            )

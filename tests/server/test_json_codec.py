"""The server's own JSON (server.json_codec): read and written as the standard library reads and writes it."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server import json_codec

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()  # any size: beyond 64 bits orjson would read a float
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()  # lone surrogates included
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


def _same(a: object, b: object) -> bool:
    """Equal and of the same types throughout (1 is not 1.0 here, and NaN is NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[key], b[key]) for key in a)
    return a == b


@given(VALUES)
def test_what_the_standard_library_wrote_reads_back_as_it_reads_it(value):
    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False)):
        assert _same(json_codec.loads(text), json.loads(text))
        with_bytes = text.encode("utf-8", "surrogatepass")
        try:
            expected = json.loads(with_bytes)
        except ValueError:
            with pytest.raises(ValueError):
                json_codec.loads(with_bytes)
        else:
            assert _same(json_codec.loads(with_bytes), expected)


FINITE = st.recursive(
    SCALARS.filter(lambda value: not (isinstance(value, float) and not math.isfinite(value))),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@given(FINITE)
def test_what_it_writes_reads_back_as_the_value(value):
    written = json_codec.dumps(value)
    written.encode()  # valid UTF-8: a lone surrogate is escaped
    assert _same(json.loads(written), json.loads(json.dumps(value)))


@pytest.mark.parametrize("beside", [None, 2**70, "lone \ud800"], ids=["orjson", "wide int", "lone surrogate"])
def test_nan_and_infinities_which_json_cannot_hold_are_written_as_null(beside):
    """The standard library writes NaN, which no JSON reader but Python's accepts (Starlette refused it); also
    where orjson hands the value to the standard library (beside something it refuses)."""
    value = {"numbers": [math.nan, math.inf, -math.inf, 1.5], "in": ({"x": math.nan},), "beside": beside}
    written = json_codec.dumps(value)
    assert "NaN" not in written and "Infinity" not in written
    expected = {"numbers": [None, None, None, 1.5], "in": [{"x": None}], "beside": beside}
    assert json.loads(written) == expected


@pytest.mark.parametrize(
    "text",
    [
        "123456789012345678901234567890",  # an integer beyond 64 bits: an int, not a float
        "-9999999999999999999",
        '{"id": 18446744073709551616}',
        "[NaN, Infinity, -Infinity]",
        '"\\ud800"',  # a lone surrogate's escape
        "1e400",
        "-0",
        '{"a": 1, "a": 2}',
    ],
)
def test_what_orjson_reads_otherwise_is_read_by_the_standard_library(text):
    assert _same(json_codec.loads(text), json.loads(text))
    assert _same(json_codec.loads(text.encode()), json.loads(text.encode()))


@pytest.mark.parametrize("text", ["", "{", "\ufeff{}", '{"a": 1} x', "[" * 100_000, b"\xff\xfe"])
def test_what_is_not_json_raises_what_the_standard_library_raises(text):
    try:
        json.loads(text)
    except (ValueError, RecursionError) as error:
        with pytest.raises(type(error)):
            json_codec.loads(text)
    else:
        raise AssertionError(f"{text!r} was read")


@pytest.mark.parametrize(
    "value",
    [
        {"big": 2**70},  # beyond 64 bits
        {1: "a key that is not a string"},
        "lone \ud800 surrogate",
        {"text": "门店 ✓"},
    ],
)
def test_what_orjson_refuses_to_write_is_written_by_the_standard_library(value):
    written = json_codec.dumps(value)
    written.encode()  # valid UTF-8: a lone surrogate is escaped
    assert json.loads(written) == json.loads(json.dumps(value))


def test_a_value_json_cannot_hold_is_refused_as_by_the_standard_library():
    with pytest.raises(TypeError):
        json_codec.dumps({"when": object()})

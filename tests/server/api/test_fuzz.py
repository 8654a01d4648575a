"""Fuzzing: operations generated from schema.graphql with hostile values never reach an unexpected error.

hypothesis-graphql builds queries and mutations (arguments written inline) for every root field;
the scalars are drawn from strategies that favour what broke the API before: huge and out-of-range
integers and ids, lone surrogates, NUL and other control characters, bidi overrides, 10 KB strings,
far dates. Each is sent as the admin, a guide or a customer. No answer may be a 5xx or hold
"Internal error", and nothing may be logged with a traceback under the "irs" loggers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from pathlib import Path

import graphql
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes
from hypothesis_graphql import strategies as gql_st

from tests.server.bookings.helpers import customer
from tests.world import gid

SCHEMA = graphql.build_schema((Path(__file__).parents[3] / "schema.graphql").read_text())
ROLES = ("admin", "sh.guide", "customer")
# Real rows the generated ids may name; not the three signed-in actors, so a generated
# staffDeactivate cannot sign the fuzzer itself out.
REAL_ROWS = {
    "Store": ("shanghai", "beijing"),
    "Product": ("serum", "lipstick"),
    "ProductCategory": ("skincare",),
    "Service": ("trial",),
    "Team": ("team",),
    "StaffUser": ("bj.guide", "bj.manager", "analyst"),
}

HOSTILE_TEXT = [
    "",
    " ",
    "\ud800",
    "a\udfffb",
    "\x00",
    "a\x00b",
    "\x1b[31mred\x1b[0m",
    "\x07\x08\x7f\x85\x9b",
    "\u202eevil\u202c",
    "\u2066x\u2069",
    "x" * 10_000,
    "你" * 5_000,
    "line\nbreak\ttab",
    "'; DROP TABLE store; --",
    "%s%n{0}",
    "../../etc/passwd",
    "9999-12-31T23:59:59Z",
    "null",
]
PLAUSIBLE_TEXT = [
    "上海",
    "Asia/Shanghai",
    "13812345678",
    "+8613812345678",
    "a@x.cn",
    "wx-app-1",
    "S009",
    "SKU-9",
    "admin",
    "correct horse battery",
    "000000",
    "Double 12",
    "NEW",
    "REGULAR",
]


def mostly(plausible, hostile):
    """Plausible values most of the time, so that operations get past validation and into the
    services; hostile ones often enough to reach every argument."""
    return st.one_of(plausible, hostile)


texts = mostly(
    st.one_of(st.sampled_from(PLAUSIBLE_TEXT), st.text(max_size=20)),
    st.one_of(
        st.sampled_from(HOSTILE_TEXT),
        st.text(st.characters(codec=None, categories=["Cc", "Cf", "Cs", "Co", "Zl", "Zp"]), max_size=8),
    ),
)
huge_numbers = st.one_of(
    st.sampled_from([0, -1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 10**20, 10**30, -(2**63) - 1]), st.integers()
)
ints = mostly(st.one_of(st.integers(-3, 120), st.integers(-(2**31), 2**31 - 1)), huge_numbers)
# Repeated by how many arguments name each type, so a hostile id often has the type its argument wants.
NODE_TYPES = (
    ["Store"] * 6
    + ["StaffUser"] * 3
    + ["Booking", "Task", "Customer", "Product"] * 2
    + [
        "ProductCategory",
        "Service",
        "Team",
        "Livestream",
        "ShiftException",
        "TouchpointSource",
        "PersonMerge",
        "IdentityConflict",
        "CouponCampaign",
        "Coupon",
    ]
)
OUT_OF_RANGE_ROWS = st.sampled_from([0, -1, 2**63, 10**20, 99999999999999999999, -(2**63) - 1])


def real_ids(world_ids: dict[str, int]):
    return st.sampled_from([gid(type_name, world_ids[key]) for type_name, keys in REAL_ROWS.items() for key in keys])


def ids(world_ids: dict[str, int]):
    return st.one_of(
        st.one_of(real_ids(world_ids), st.builds(gid, st.sampled_from(NODE_TYPES), st.integers(1, 50))),
        st.one_of(
            st.builds(gid, st.sampled_from(NODE_TYPES), OUT_OF_RANGE_ROWS),
            st.builds(gid, st.sampled_from(NODE_TYPES), OUT_OF_RANGE_ROWS),
            st.sampled_from(
                [
                    gid("Store", 99999999999999999999),
                    "!!!",
                    "",
                    "U3RvcmU6YWJj",
                    gid("Store", "abc"),
                    gid("Store", " 1"),
                    gid("Store", "1e3"),
                    gid("Store", "١٢"),
                    gid("NoSuchType", 1),
                    gid("Query", 1),
                ]
            ),
            texts,
        ),
    )


FAR_INSTANTS = st.sampled_from(
    [
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00+14:00",
        "1899-12-31T23:59:59Z",
        "3000-01-01T00:00:00Z",
        "2999-12-31T23:30:00Z",
    ]
)
datetimes = mostly(
    st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1), timezones=st.timezones()).map(
        lambda moment: moment.isoformat()
    ),
    st.one_of(
        FAR_INSTANTS,
        FAR_INSTANTS,
        st.sampled_from(["2026-12-01T10:00:00", "2026-13-45T99:00:00Z"]),
        st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat()),
        texts,
    ),
)
FAR_DATES = st.sampled_from(["9999-12-31", "0001-01-01", "1899-12-31", "3000-01-01", "2999-12-31"])
dates = mostly(
    st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 1, 1)).map(dt.date.isoformat),
    st.one_of(FAR_DATES, FAR_DATES, st.just("2026-02-30"), st.dates().map(dt.date.isoformat), texts),
)
times = mostly(
    st.times().map(lambda moment: moment.isoformat(timespec="minutes")),
    st.one_of(st.sampled_from(["23:59:59.999999", "24:00", "10:00+08:00", "25:61"]), texts),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), huge_numbers, st.floats(allow_nan=False, allow_infinity=False), texts),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,8}", fullmatch=True), children, max_size=3),
    ),
    max_leaves=12,
)


def _literal(value) -> graphql.ValueNode:
    """A JSON value as a GraphQL literal (the JSON scalar reads literals as JSON)."""
    if value is None:
        return graphql.NullValueNode()
    if isinstance(value, bool):
        return nodes.Boolean(value)
    if isinstance(value, int):
        return nodes.Int(value)
    if isinstance(value, float):
        return nodes.Float(value)
    if isinstance(value, str):
        return nodes.String(value)
    if isinstance(value, list):
        return nodes.List([_literal(v) for v in value])
    return nodes.Object(
        [graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=_literal(v)) for k, v in value.items()]
    )


def scalars(world_ids: dict[str, int]) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    return {
        "String": texts.map(nodes.String),
        "ID": ids(world_ids).map(nodes.String),
        "Int": ints.map(nodes.Int),
        "MoneyAmount": st.one_of(ints.map(nodes.Int), st.sampled_from([1.5, 1e30]).map(nodes.Float)),
        "Float": st.one_of(
            st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([1e308, -1e308, 1e-320])
        ).map(nodes.Float),
        "DateTime": datetimes.map(nodes.String),
        "Date": dates.map(nodes.String),
        "Time": times.map(nodes.String),
        "JSON": json_values.map(_literal),
    }


def operations(make, root: graphql.GraphQLObjectType, world_ids: dict[str, int]):
    """Per root field, the operations that call it alone (so a bad value fails only its own field)."""
    custom = scalars(world_ids)
    return {name: make(SCHEMA, fields=[name], custom_scalars=custom, codec=None) for name in sorted(root.fields)}


@pytest.fixture
async def signed_in(api, world, token_for):
    tokens = {"admin": await token_for("admin"), "sh.guide": await token_for("sh.guide")}
    tokens["customer"] = (await customer(api))[0]
    return tokens


def _traceback_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("irs") and (r.exc_info or r.levelno >= logging.ERROR)]


def _fuzz(api, signed_in, caplog, generated: dict[str, st.SearchStrategy[str]], loop, examples: int) -> None:
    for strategy in generated.values():
        _fuzz_field(api, signed_in, caplog, strategy, loop, examples)


def _fuzz_field(api, signed_in, caplog, strategy: st.SearchStrategy[str], loop, examples: int) -> None:
    # derandomize: the same examples on every run, so a run fails only for a real regression.
    @settings(
        max_examples=examples, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    @given(document=strategy, role=st.sampled_from(ROLES))
    def check(document: str, role: str) -> None:
        caplog.clear()
        # ensure_ascii: a lone surrogate travels as a JSON escape, as a hostile client would send it.
        body = json.dumps({"query": document}, ensure_ascii=True)
        future = asyncio.run_coroutine_threadsafe(
            api.client.post(
                "/graphql",
                content=body,
                headers={"content-type": "application/json", "authorization": f"Bearer {signed_in[role]}"},
            ),
            loop,
        )
        response = future.result(timeout=120)
        assert response.status_code < 500, (role, document, response.text[:2000])
        assert "Internal error" not in response.text, (role, document, response.text[:2000])
        assert response.headers.get("x-request-id")
        assert not _traceback_records(caplog), (role, document, [r.getMessage() for r in _traceback_records(caplog)])

    check()


async def test_generated_queries_never_fail_unexpectedly(api, world, signed_in, caplog):
    caplog.set_level(logging.INFO, logger="irs")
    generated = operations(gql_st.queries, SCHEMA.query_type, world.ids)
    await asyncio.to_thread(_fuzz, api, signed_in, caplog, generated, asyncio.get_running_loop(), 6)


async def test_generated_mutations_never_fail_unexpectedly(api, world, signed_in, caplog):
    caplog.set_level(logging.INFO, logger="irs")
    generated = operations(gql_st.mutations, SCHEMA.mutation_type, world.ids)
    await asyncio.to_thread(_fuzz, api, signed_in, caplog, generated, asyncio.get_running_loop(), 8)

"""One field's refusal never sinks its siblings: for every role, each root field it may not read
is asked beside `me`, which must still be answered (the refused field null, with its code)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    Undefined,
    build_schema,
    get_named_type,
    is_leaf_type,
)

from tests.server.bookings.helpers import customer
from tests.world import login

SDL = build_schema((Path(__file__).parents[3] / "schema.graphql").read_text())
STAFF_ROLES = ["HQ_ADMIN", "ANALYST", "LIVESTREAM_OPS", "STORE_MANAGER", "GUIDE"]
USERNAMES = {
    "HQ_ADMIN": "admin",
    "ANALYST": "analyst",
    "LIVESTREAM_OPS": "ops",
    "STORE_MANAGER": "sh.manager",
    "GUIDE": "sh.guide",
}
ID_TYPES = {"storeId": "shanghai", "staffId": "sh.guide", "id": "shanghai"}


def allowed_roles(field) -> set[str] | None:
    """The roles of the field's @hasRole directive; None when any signed-in viewer may ask."""
    for directive in field.ast_node.directives:
        if directive.name.value == "hasRole":
            return {value.value for value in directive.arguments[0].value.values}
    return None


def literal(name: str, type_, world) -> str:
    """A valid literal for a required argument (values are plausible, not meaningful)."""
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(inner, GraphQLList):
        return f"[{literal(name, inner.of_type, world)}]"
    if isinstance(inner, GraphQLEnumType):
        return next(iter(inner.values))
    if isinstance(inner, GraphQLInputObjectType):
        fields = [
            f"{key}: {literal(key, value.type, world)}"
            for key, value in inner.fields.items()
            if isinstance(value.type, GraphQLNonNull) and value.default_value is Undefined
        ]
        return "{" + ", ".join(fields) + "}"
    assert isinstance(inner, GraphQLScalarType), inner
    today = date.today()
    return {
        "ID": lambda: f'"{world.gid("Store" if name != "staffId" else "StaffUser", ID_TYPES.get(name, "shanghai"))}"',
        "Date": lambda: f'"{today + timedelta(days=1 if name == "to" else 0)}"',
        "DateTime": lambda: f'"{(datetime.now(UTC) + timedelta(days=1 if name == "to" else 0)).isoformat()}"',
        "String": lambda: '"x"',
        "Int": lambda: "1",
        "Float": lambda: "31.2",
        "Boolean": lambda: "true",
    }[inner.name]()


def ask(name: str, field, world) -> str:
    args = [
        f"{arg}: {literal(arg, value.type, world)}"
        for arg, value in field.args.items()
        if isinstance(value.type, GraphQLNonNull) and value.default_value is Undefined
    ]
    selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"  # ids, counts: no fields
    return f"{name}{'(' + ', '.join(args) + ')' if args else ''}{selection}"


def refused_fields(role: str) -> list[str]:
    refused = []
    for name, field in SDL.query_type.fields.items():
        allowed = allowed_roles(field)
        if allowed is not None and role not in allowed:
            refused.append(name)
    return refused


async def token_of(api, role: str) -> str:
    if role == "CUSTOMER":
        return (await customer(api))[0]
    return await login(api, USERNAMES[role])


@pytest.mark.parametrize("role", [*STAFF_ROLES, "CUSTOMER"])
async def test_each_refused_field_leaves_me_answered(api, world, role, caplog):
    token = await token_of(api, role)
    refused = (
        refused_fields(role)
        if role != "CUSTOMER"
        else [name for name, field in SDL.query_type.fields.items() if allowed_roles(field) is not None]
    )
    assert refused or role == "HQ_ADMIN"
    with caplog.at_level(logging.WARNING):
        for name in refused:
            for document in (
                f"{{ me {{ __typename }} {ask(name, SDL.query_type.fields[name], world)} }}",
                f"{{ {ask(name, SDL.query_type.fields[name], world)} me {{ __typename }} }}",
            ):
                body = await api(document, token=token)
                assert "data" in body, (document, body)
                assert body["data"]["me"]["__typename"] in ("StaffUser", "Customer"), (document, body)
                assert body["data"][name] is None, (document, body)
                assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [([name], "FORBIDDEN")], (
                    document,
                    body,
                )
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


@pytest.mark.parametrize("username", ["sh.manager", "sh.guide"])
async def test_another_stores_fields_leave_me_answered(api, world, username):
    token = await login(api, username)
    beijing = world.gid("Store", "beijing")
    for field in ("storeTasks", "storeBookings", "staff"):
        if username == "sh.guide" and field == "staff":
            continue
        allowed = allowed_roles(SDL.query_type.fields[field])
        document = (
            "{ me { __typename } "
            + ask(field, SDL.query_type.fields[field], world).replace(world.gid("Store", "shanghai"), beijing)
            + " }"
        )
        if "storeId" not in document:
            document = document.replace(f"{field} {{", f'{field}(storeId: "{beijing}") {{')
        body = await api(document, token=token)
        assert allowed is None or "STORE_MANAGER" in allowed or "GUIDE" in allowed
        assert body["data"]["me"] == {"__typename": "StaffUser"}, body
        assert body["data"][field] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body


async def test_bad_input_in_one_field_leaves_me_answered(api, world):
    token = await login(api, "admin")
    shanghai = world.gid("Store", "shanghai")
    body = await api(
        f'{{ me {{ __typename }} availableSlots(storeId: "{shanghai}", from: "2026-01-01", '
        f'to: "2026-06-30") {{ start }} }}',
        token=token,
    )
    assert body["data"] == {"me": {"__typename": "StaffUser"}, "availableSlots": None}, body
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body


async def test_refused_mutation_leaves_the_others_answered(api, world):
    """Mutations run one after another: a refused one answers null, those before and after still answer."""
    token = await login(api, "sh.guide")
    body = await api(
        """mutation {
      a: logout(refreshToken: "unknown") { revoked }
      b: teamCreate(input: {name: "Nope"}) { team { id } }
      c: logout(refreshToken: "unknown") { revoked }
    }""",
        token=token,
    )
    assert body["data"] == {"a": {"revoked": False}, "b": None, "c": {"revoked": False}}, body
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["b"], "FORBIDDEN")], body


async def test_unanswerable_sibling_does_not_leak_driver_messages(api, world):
    """Unauthenticated fields beside an anonymous one: codes only, never a driver message."""
    body = await api("{ stores(first: 1) { totalCount } staff(first: 1) { totalCount } }")
    assert body["data"] == {"stores": None, "staff": None}, body
    assert {e["extensions"]["code"] for e in body["errors"]} == {"UNAUTHENTICATED"}, body

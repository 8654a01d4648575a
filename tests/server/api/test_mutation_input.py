"""One mutation style: every mutation takes one `input`; plain arguments of the older mutations still
work, deprecated, and a call gives one form or the other."""

from __future__ import annotations

from pathlib import Path

import graphql

from server.domains.staff.models import StaffUser
from tests.server.assertions import assert_user_error, fetch, scalar

SCHEMA = Path(__file__).parents[3] / "schema.graphql"

DEACTIVATE = """mutation($input: StaffDeactivateInput, $id: ID) {
  staffDeactivate(input: $input, id: $id) { staff { active } errors { code field message } } }"""
SHIFTS_SET = """mutation($input: ShiftsSetInput, $staff: ID, $shifts: [WeeklyShiftInput!]) {
  shiftsSet(input: $input, staffId: $staff, shifts: $shifts) { shifts { weekday } errors { code field } } }"""
LOGIN = """mutation($input: StaffLoginInput, $u: String, $p: String) {
  staffLogin(input: $input, username: $u, password: $p) { session { accessToken } errors { code field } } }"""


def _mutations() -> dict[str, graphql.GraphQLField]:
    schema = graphql.build_schema(SCHEMA.read_text())
    assert schema.mutation_type is not None
    return schema.mutation_type.fields


def test_every_mutation_takes_an_input_and_any_other_argument_is_deprecated():
    for name, field in _mutations().items():
        assert "input" in field.args, f"{name} takes no input"
        assert graphql.is_input_object_type(graphql.get_nullable_type(field.args["input"].type)), name
        plain = {arg: value for arg, value in field.args.items() if arg != "input"}
        assert all(value.deprecation_reason for value in plain.values()), f"{name}: plain arguments not deprecated"
        if plain:  # clients may still send the plain arguments instead
            assert graphql.is_nullable_type(field.args["input"].type), name


def test_the_input_and_the_plain_arguments_name_the_same_fields():
    for name, field in _mutations().items():
        plain = set(field.args) - {"input"}
        input_fields = set(graphql.get_named_type(field.args["input"].type).fields)
        assert plain <= input_fields, f"{name}: {plain - input_fields} not in its input"


async def test_the_input_form_works(api, world, token_for, db):
    admin = await token_for("admin")
    done = (await api.data(DEACTIVATE, {"input": {"id": world.gid("StaffUser", "bj.guide")}}, admin))["staffDeactivate"]
    assert done == {"staff": {"active": False}, "errors": []}
    [row] = await fetch(db, StaffUser, username="bj.guide")
    assert row.active is False


async def test_the_plain_arguments_still_work(api, world, token_for, db):
    admin = await token_for("admin")
    done = (await api.data(DEACTIVATE, {"id": world.gid("StaffUser", "bj.guide")}, admin))["staffDeactivate"]
    assert done == {"staff": {"active": False}, "errors": []}
    [row] = await fetch(db, StaffUser, username="bj.guide")
    assert row.active is False


async def test_both_forms_at_once_are_refused_and_nothing_is_written(api, world, token_for, db):
    guide = world.gid("StaffUser", "bj.guide")
    both = {"input": {"id": guide}, "id": guide}
    refused = (await api.data(DEACTIVATE, both, await token_for("admin")))["staffDeactivate"]
    assert_user_error(refused, "INVALID_VALUE", ["input"], "staff")
    [row] = await fetch(db, StaffUser, username="bj.guide")
    assert row.active is True


async def test_neither_form_is_refused_and_nothing_is_written(api, token_for, db):
    refused = (await api.data(DEACTIVATE, {}, await token_for("admin")))["staffDeactivate"]
    assert_user_error(refused, "REQUIRED", ["input"], "staff")
    assert await scalar(db, "SELECT count(*) FROM staff_user WHERE active = false") == 0


async def test_an_input_given_as_null_counts_as_not_given(api, world, token_for, db):
    plain = {"input": None, "id": world.gid("StaffUser", "bj.guide")}
    done = (await api.data(DEACTIVATE, plain, await token_for("admin")))["staffDeactivate"]
    assert done["errors"] == []


async def test_a_plain_argument_left_out_is_required_where_graphql_used_to_require_it(api, db):
    refused = (await api.data(LOGIN, {"u": "admin"}))["staffLogin"]
    assert_user_error(refused, "REQUIRED", ["password"], "session")
    assert await scalar(db, "SELECT count(*) FROM refresh_token") == 0


async def test_errors_point_into_the_form_the_call_used(api, world, token_for, db):
    manager = await token_for("sh.manager")
    backwards = [{"weekday": "MONDAY", "starts": "18:00", "ends": "10:00"}]
    staff = world.gid("StaffUser", "sh.guide")
    by_input = (await api.data(SHIFTS_SET, {"input": {"staffId": staff, "shifts": backwards}}, manager))["shiftsSet"]
    by_plain = (await api.data(SHIFTS_SET, {"staff": staff, "shifts": backwards}, manager))["shiftsSet"]
    assert by_input["errors"] == [{"code": "INVALID_SHIFT", "field": ["input", "shifts", "0"]}]
    assert by_plain["errors"] == [{"code": "INVALID_SHIFT", "field": ["shifts", "0"]}]
    assert await scalar(db, "SELECT count(*) FROM shift_pattern") == 0


def test_resolvers_read_the_caller_one_way():
    """`await info.context.viewer()` everywhere: it confirms the caller once per operation, so a field
    that forgot its permission class still sees a deactivated account refused."""
    domains = Path(__file__).parents[3] / "server" / "domains"
    offenders = [str(p) for p in domains.rglob("*.py") if "require_actor" in p.read_text(encoding="utf-8")]
    assert offenders == []

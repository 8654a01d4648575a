"""Staff and teams over GraphQL: staffCreate/Update/Deactivate, teamCreate, the staff listing."""

from __future__ import annotations

from functools import partial

import pytest

from server.domains.staff.models import StaffSkillCategory, StaffSkillService, StaffUser, Team, TeamMember
from tests.conftest import count_rows
from tests.server.assertions import assert_forbidden, assert_user_error, count_tables, fetch
from tests.world import LOGIN, PASSWORD, gid

ERRORS = "errors { code field message }"
STAFF = """id username displayName role active store { code } skillCategories { code }
           skillServices { code }"""
CREATE = f"""mutation($input: StaffCreateInput!) {{
  staffCreate(input: $input) {{ staff {{ {STAFF} }} {ERRORS} }} }}"""
UPDATE = f"""mutation($input: StaffUpdateInput!) {{
  staffUpdate(input: $input) {{ staff {{ {STAFF} }} {ERRORS} }} }}"""
DEACTIVATE = f"""mutation($id: ID!) {{
  staffDeactivate(id: $id) {{ staff {{ {STAFF} }} {ERRORS} }} }}"""
TEAM_CREATE = f"""mutation($input: TeamCreateInput!) {{
  teamCreate(input: $input) {{ team {{ id name members {{ username }} }} {ERRORS} }} }}"""
REFRESH = """mutation($t: String!) {
  tokenRefresh(refreshToken: $t) { session { accessToken } errors { code field } } }"""
STAFF_LIST = """query($storeId: ID, $role: Role) {
  staff(storeId: $storeId, role: $role) { totalCount edges { node { username } } } }"""
TABLES = ("staff_user", "staff_skill_category", "staff_skill_service", "idempotency_record", "team", "team_member")
NEW_PASSWORD = "a brand new secret"


def staff_input(world, **overrides) -> dict:
    value = {
        "username": "sh.guide2",
        "password": "long enough password",
        "displayName": "小美",
        "role": "GUIDE",
        "storeId": world.gid("Store", "shanghai"),
    }
    value.update(overrides)
    return value


async def counts(db) -> dict[str, int]:
    return await count_tables(db, TABLES)


async def staff_row(db, username: str) -> dict:
    (row,) = await fetch(db, StaffUser, username=username)
    return row.model_dump()


assert_user_error = partial(assert_user_error, obj="staff")


async def sign_in(api, username: str, password: str = PASSWORD) -> dict:
    return (await api.data(LOGIN, {"u": username, "p": password}))["staffLogin"]


# staffCreate ---------------------------------------------------------------------------------


async def test_staff_create_returns_staff_and_writes_rows(api, world, token_for, db):
    token = await token_for("admin")
    variables = {
        "input": staff_input(
            world,
            skillCategoryIds=[world.gid("ProductCategory", "skincare")],
            skillServiceIds=[world.gid("Service", "trial")],
        )
    }
    payload = (await api.data(CREATE, variables, token))["staffCreate"]
    assert payload["errors"] == []
    staff = payload["staff"]
    assert {k: staff[k] for k in ("username", "displayName", "role", "active", "store")} == {
        "username": "sh.guide2",
        "displayName": "小美",
        "role": "GUIDE",
        "active": True,
        "store": {"code": "S001"},
    }
    assert staff["skillCategories"] == [{"code": "SKINCARE"}]
    assert staff["skillServices"] == [{"code": "MAKEUP_TRIAL"}]
    row = await staff_row(db, "sh.guide2")
    assert staff["id"] == gid("StaffUser", row["id"])
    assert (row["role"], row["store_id"], row["display_name"], row["active"]) == (
        "GUIDE",
        world.ids["shanghai"],
        "小美",
        True,
    )
    assert row["password_hash"].startswith("$argon2") and "long enough password" not in row["password_hash"]
    assert [r.category_id for r in await fetch(db, StaffSkillCategory, staff_id=row["id"])] == [world.ids["skincare"]]
    assert [r.service_id for r in await fetch(db, StaffSkillService, staff_id=row["id"])] == [world.ids["trial"]]
    assert (await sign_in(api, "sh.guide2", "long enough password"))["errors"] == []


async def test_staff_create_hq_role_without_store(api, world, token_for, db):
    token = await token_for("admin")
    variables = {"input": staff_input(world, username="analyst2", role="ANALYST", storeId=None)}
    staff = (await api.data(CREATE, variables, token))["staffCreate"]["staff"]
    assert staff["role"] == "ANALYST" and staff["store"] is None
    assert (await staff_row(db, "analyst2"))["store_id"] is None


async def test_staff_create_normalizes_username_to_lower_case(api, world, token_for, db):
    token = await token_for("admin")
    staff = (await api.data(CREATE, {"input": staff_input(world, username=" SH.Guide2 ")}, token))["staffCreate"]
    assert staff["staff"]["username"] == "sh.guide2"
    assert await fetch(db, StaffUser, username="sh.guide2")


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        pytest.param({"username": "ab"}, "TOO_SHORT", ["input", "username"], id="username-too-short"),
        pytest.param({"username": "a" * 33}, "TOO_LONG", ["input", "username"], id="username-too-long"),
        pytest.param({"username": "bad name"}, "INVALID_FORMAT", ["input", "username"], id="username-space"),
        pytest.param({"username": "小美guide"}, "INVALID_FORMAT", ["input", "username"], id="username-non-ascii"),
        pytest.param({"username": "-guide"}, "INVALID_FORMAT", ["input", "username"], id="username-leading-dash"),
        pytest.param({"username": ""}, "REQUIRED", ["input", "username"], id="username-empty"),
        pytest.param({"username": "sh.guide"}, "DUPLICATE_USERNAME", ["input", "username"], id="username-duplicate"),
        pytest.param(
            {"username": "SH.GUIDE"}, "DUPLICATE_USERNAME", ["input", "username"], id="username-duplicate-other-case"
        ),
        pytest.param({"password": "123456789"}, "PASSWORD_TOO_SHORT", ["input", "password"], id="password-9-chars"),
        pytest.param({"password": "p" * 129}, "TOO_LONG", ["input", "password"], id="password-too-long"),
        pytest.param({"displayName": " "}, "REQUIRED", ["input", "displayName"], id="display-name-blank"),
        pytest.param({"displayName": "d" * 65}, "TOO_LONG", ["input", "displayName"], id="display-name-too-long"),
        pytest.param({"storeId": None}, "STORE_REQUIRED", ["input", "storeId"], id="guide-without-store"),
        pytest.param(
            {"role": "STORE_MANAGER", "storeId": None},
            "STORE_REQUIRED",
            ["input", "storeId"],
            id="manager-without-store",
        ),
        pytest.param({"role": "ANALYST"}, "STORE_NOT_ALLOWED", ["input", "storeId"], id="analyst-with-store"),
        pytest.param({"role": "HQ_ADMIN"}, "STORE_NOT_ALLOWED", ["input", "storeId"], id="admin-with-store"),
        pytest.param({"role": "LIVESTREAM_OPS"}, "STORE_NOT_ALLOWED", ["input", "storeId"], id="ops-with-store"),
        pytest.param({"storeId": gid("Store", 999999)}, "NOT_FOUND", ["input", "storeId"], id="store-unknown"),
        pytest.param({"storeId": gid("Team", 1)}, "NOT_FOUND", ["input", "storeId"], id="store-other-type"),
        pytest.param(
            {"skillCategoryIds": [gid("ProductCategory", 999999)]},
            "NOT_FOUND",
            ["input", "skillCategoryIds"],
            id="skill-category-unknown",
        ),
        pytest.param(
            {"skillServiceIds": [gid("Service", 999999)]},
            "NOT_FOUND",
            ["input", "skillServiceIds"],
            id="skill-service-unknown",
        ),
    ],
)
async def test_staff_create_rejects_bad_input_and_writes_nothing(api, world, token_for, db, overrides, code, field):
    token = await token_for("admin")
    before = await counts(db)
    data = await api.data(CREATE, {"input": staff_input(world, **overrides)}, token)
    assert_user_error(data["staffCreate"], code, field)
    assert await counts(db) == before


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"skillCategoryIds": [gid("ProductCategory", 999999)]}, "NOT_FOUND"),
        ({"skillServiceIds": [gid("Service", 999999)]}, "NOT_FOUND"),
    ],
    ids=["category", "service"],
)
async def test_staff_create_unknown_skill_writes_nothing(api, world, token_for, db, overrides, code):
    token = await token_for("admin")
    before = await counts(db)
    payload = (await api.data(CREATE, {"input": staff_input(world, **overrides)}, token))["staffCreate"]
    assert [e["code"] for e in payload["errors"]] == [code] and payload["staff"] is None
    assert await counts(db) == before


@pytest.mark.parametrize("username", ["sh.guide", "ops", "analyst"])
async def test_staff_create_wrong_role_is_forbidden(api, world, token_for, db, username):
    before = await counts(db)
    await assert_forbidden(api, CREATE, {"input": staff_input(world)}, await token_for(username))
    assert await counts(db) == before


async def test_staff_create_manager_creates_guide_of_own_store(api, world, token_for, db):
    token = await token_for("sh.manager")
    payload = (await api.data(CREATE, {"input": staff_input(world)}, token))["staffCreate"]
    assert payload["errors"] == [] and payload["staff"]["store"] == {"code": "S001"}
    assert (await staff_row(db, "sh.guide2"))["store_id"] == world.ids["shanghai"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"storeId": "beijing"},
        {"role": "STORE_MANAGER"},
        {"storeId": None},
        {"role": "ANALYST", "storeId": None},
    ],
    ids=["guide-of-other-store", "store-manager", "guide-without-store", "hq-role"],
)
async def test_staff_create_manager_forbidden_outside_her_guides(api, world, token_for, db, overrides):
    if overrides.get("storeId") == "beijing":
        overrides = {"storeId": world.gid("Store", "beijing")}
    before = await counts(db)
    await assert_forbidden(api, CREATE, {"input": staff_input(world, **overrides)}, await token_for("sh.manager"))
    assert await counts(db) == before


async def test_staff_create_same_idempotency_key_returns_same_staff(api, world, token_for, db):
    token = await token_for("admin")
    variables = {"input": staff_input(world, idempotencyKey="hire-1")}
    first = (await api.data(CREATE, variables, token))["staffCreate"]
    second = (await api.data(CREATE, variables, token))["staffCreate"]
    assert first["errors"] == [] and second["errors"] == []
    assert second["staff"] == first["staff"]
    assert await count_rows(db, "staff_user") == 8


async def test_staff_create_idempotency_key_reused_with_other_input(api, world, token_for, db):
    token = await token_for("admin")
    await api.data(CREATE, {"input": staff_input(world, idempotencyKey="hire-1")}, token)
    before = await counts(db)
    variables = {"input": staff_input(world, username="sh.guide3", idempotencyKey="hire-1")}
    assert_user_error(
        (await api.data(CREATE, variables, token))["staffCreate"], "IDEMPOTENCY_KEY_REUSED", ["input", "idempotencyKey"]
    )
    assert await counts(db) == before


# staffUpdate ---------------------------------------------------------------------------------


async def test_staff_update_changes_given_fields_only(api, world, token_for, db):
    token = await token_for("admin")
    variables = {
        "input": {
            "id": world.gid("StaffUser", "sh.guide"),
            "displayName": "  小丽 ",
            "skillCategoryIds": [world.gid("ProductCategory", "makeup")],
            "skillServiceIds": [world.gid("Service", "trial")],
        }
    }
    payload = (await api.data(UPDATE, variables, token))["staffUpdate"]
    assert payload["errors"] == []
    staff = payload["staff"]
    assert (staff["displayName"], staff["role"], staff["store"]) == ("小丽", "GUIDE", {"code": "S001"})
    assert staff["skillCategories"] == [{"code": "MAKEUP"}] and staff["skillServices"] == [{"code": "MAKEUP_TRIAL"}]
    row = await staff_row(db, "sh.guide")
    assert (row["display_name"], row["role"], row["store_id"]) == ("小丽", "GUIDE", world.ids["shanghai"])
    assert [r.category_id for r in await fetch(db, StaffSkillCategory, staff_id=row["id"])] == [world.ids["makeup"]]
    assert [r.service_id for r in await fetch(db, StaffSkillService, staff_id=row["id"])] == [world.ids["trial"]]


async def test_staff_update_move_to_hq_role_leaves_the_store(api, world, token_for, db):
    token = await token_for("admin")
    variables = {"input": {"id": world.gid("StaffUser", "sh.guide"), "role": "ANALYST"}}
    staff = (await api.data(UPDATE, variables, token))["staffUpdate"]["staff"]
    assert staff["role"] == "ANALYST" and staff["store"] is None
    row = await staff_row(db, "sh.guide")
    assert (row["role"], row["store_id"]) == ("ANALYST", None)


async def test_staff_update_move_guide_to_other_store(api, world, token_for, db):
    token = await token_for("admin")
    variables = {"input": {"id": world.gid("StaffUser", "sh.guide"), "storeId": world.gid("Store", "beijing")}}
    staff = (await api.data(UPDATE, variables, token))["staffUpdate"]["staff"]
    assert staff["store"] == {"code": "S002"}
    assert (await staff_row(db, "sh.guide"))["store_id"] == world.ids["beijing"]


async def test_staff_update_password_reset_ends_sessions(api, world, token_for, db):
    session = (await sign_in(api, "sh.guide"))["session"]
    token = await token_for("admin")
    variables = {"input": {"id": world.gid("StaffUser", "sh.guide"), "password": NEW_PASSWORD}}
    assert (await api.data(UPDATE, variables, token))["staffUpdate"]["errors"] == []
    refreshed = (await api.data(REFRESH, {"t": session["refreshToken"]}))["tokenRefresh"]
    assert [e["code"] for e in refreshed["errors"]] == ["INVALID_REFRESH_TOKEN"]
    assert [e["code"] for e in (await sign_in(api, "sh.guide"))["errors"]] == ["INVALID_CREDENTIALS"]
    assert (await sign_in(api, "sh.guide", NEW_PASSWORD))["errors"] == []


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        pytest.param({"displayName": ""}, "REQUIRED", ["input", "displayName"], id="display-name-empty"),
        pytest.param({"displayName": "d" * 65}, "TOO_LONG", ["input", "displayName"], id="display-name-too-long"),
        pytest.param({"password": "short"}, "PASSWORD_TOO_SHORT", ["input", "password"], id="password-too-short"),
        pytest.param({"password": "p" * 129}, "TOO_LONG", ["input", "password"], id="password-too-long"),
        pytest.param(
            {"role": "ANALYST", "storeId": "shanghai"},
            "STORE_NOT_ALLOWED",
            ["input", "storeId"],
            id="hq-role-with-store",
        ),
        pytest.param({"storeId": gid("Store", 999999)}, "NOT_FOUND", ["input", "storeId"], id="store-unknown"),
    ],
)
async def test_staff_update_rejects_bad_input_and_writes_nothing(api, world, token_for, db, changes, code, field):
    if changes.get("storeId") == "shanghai":
        changes = {**changes, "storeId": world.gid("Store", "shanghai")}
    token = await token_for("admin")
    before, row_before = await counts(db), await staff_row(db, "sh.guide")
    data = await api.data(UPDATE, {"input": {"id": world.gid("StaffUser", "sh.guide"), **changes}}, token)
    assert_user_error(data["staffUpdate"], code, field)
    assert await counts(db) == before
    assert await staff_row(db, "sh.guide") == row_before


async def test_staff_update_store_role_needs_store(api, world, token_for, db):
    token = await token_for("admin")
    row_before = await staff_row(db, "analyst")
    data = await api.data(UPDATE, {"input": {"id": world.gid("StaffUser", "analyst"), "role": "GUIDE"}}, token)
    assert_user_error(data["staffUpdate"], "STORE_REQUIRED", ["input", "storeId"])
    assert await staff_row(db, "analyst") == row_before


async def test_staff_update_unknown_skill_writes_nothing(api, world, token_for, db):
    token = await token_for("admin")
    before = await counts(db)
    variables = {
        "input": {"id": world.gid("StaffUser", "sh.guide"), "skillCategoryIds": [gid("ProductCategory", 999999)]}
    }
    payload = (await api.data(UPDATE, variables, token))["staffUpdate"]
    assert [e["code"] for e in payload["errors"]] == ["NOT_FOUND"] and payload["staff"] is None
    assert await counts(db) == before


@pytest.mark.parametrize("staff_id", [gid("StaffUser", 999999), gid("Store", 1)], ids=["missing", "other-type"])
async def test_staff_update_unknown_id_is_not_found(api, world, token_for, db, staff_id):
    token = await token_for("admin")
    before = await counts(db)
    data = await api.data(UPDATE, {"input": {"id": staff_id, "displayName": "某人"}}, token)
    assert_user_error(data["staffUpdate"], "NOT_FOUND", ["input", "id"])
    assert await counts(db) == before


async def test_staff_update_manager_updates_own_guide(api, world, token_for, db):
    token = await token_for("sh.manager")
    variables = {"input": {"id": world.gid("StaffUser", "sh.guide"), "displayName": "新名字"}}
    assert (await api.data(UPDATE, variables, token))["staffUpdate"]["errors"] == []
    assert (await staff_row(db, "sh.guide"))["display_name"] == "新名字"


@pytest.mark.parametrize(
    ("target", "changes"),
    [
        ("bj.guide", {"displayName": "x"}),
        ("sh.guide", {"role": "STORE_MANAGER"}),
        ("sh.guide", {"storeId": "beijing"}),
        ("sh.manager", {"displayName": "x"}),
        ("admin", {"displayName": "x"}),
    ],
    ids=["guide-of-other-store", "promote-to-manager", "move-to-other-store", "herself", "hq-admin"],
)
async def test_staff_update_manager_forbidden_outside_her_guides(api, world, token_for, db, target, changes):
    if changes.get("storeId") == "beijing":
        changes = {"storeId": world.gid("Store", "beijing")}
    row_before = await staff_row(db, target)
    variables = {"input": {"id": world.gid("StaffUser", target), **changes}}
    await assert_forbidden(api, UPDATE, variables, await token_for("sh.manager"))
    assert await staff_row(db, target) == row_before


async def test_staff_update_guide_is_forbidden(api, world, token_for, db):
    row_before = await staff_row(db, "sh.guide")
    variables = {"input": {"id": world.gid("StaffUser", "sh.guide"), "displayName": "我自己"}}
    await assert_forbidden(api, UPDATE, variables, await token_for("sh.guide"))
    assert await staff_row(db, "sh.guide") == row_before


# staffDeactivate -----------------------------------------------------------------------------


async def test_staff_deactivate_ends_sessions_and_blocks_login(api, world, token_for, db):
    session = (await sign_in(api, "sh.guide"))["session"]
    token = await token_for("admin")
    payload = (await api.data(DEACTIVATE, {"id": world.gid("StaffUser", "sh.guide")}, token))["staffDeactivate"]
    assert payload["errors"] == []
    assert payload["staff"]["username"] == "sh.guide" and payload["staff"]["active"] is False
    assert (await staff_row(db, "sh.guide"))["active"] is False
    refreshed = (await api.data(REFRESH, {"t": session["refreshToken"]}))["tokenRefresh"]
    assert refreshed["session"] is None
    assert [e["code"] for e in refreshed["errors"]] == ["INVALID_REFRESH_TOKEN"]
    login_again = await sign_in(api, "sh.guide")
    assert login_again["session"] is None
    assert [e["code"] for e in login_again["errors"]] == ["INVALID_CREDENTIALS"]


async def test_staff_deactivate_manager_deactivates_own_guide(api, world, token_for, db):
    token = await token_for("sh.manager")
    payload = (await api.data(DEACTIVATE, {"id": world.gid("StaffUser", "sh.guide")}, token))["staffDeactivate"]
    assert payload["errors"] == [] and payload["staff"]["active"] is False
    assert (await staff_row(db, "sh.guide"))["active"] is False


@pytest.mark.parametrize("target", ["bj.guide", "bj.manager", "sh.manager", "ops"])
async def test_staff_deactivate_manager_forbidden_outside_her_guides(api, world, token_for, db, target):
    session = (await sign_in(api, target))["session"]
    await assert_forbidden(api, DEACTIVATE, {"id": world.gid("StaffUser", target)}, await token_for("sh.manager"))
    assert (await staff_row(db, target))["active"] is True
    assert (await api.data(REFRESH, {"t": session["refreshToken"]}))["tokenRefresh"]["errors"] == []


@pytest.mark.parametrize("username", ["sh.guide", "ops", "analyst"])
async def test_staff_deactivate_wrong_role_is_forbidden(api, world, token_for, db, username):
    await assert_forbidden(api, DEACTIVATE, {"id": world.gid("StaffUser", "bj.guide")}, await token_for(username))
    assert (await staff_row(db, "bj.guide"))["active"] is True


async def test_staff_deactivate_unknown_id_is_not_found(api, world, token_for, db):
    token = await token_for("admin")
    before = await counts(db)
    payload = (await api.data(DEACTIVATE, {"id": gid("StaffUser", 999999)}, token))["staffDeactivate"]
    assert [e["code"] for e in payload["errors"]] == ["NOT_FOUND"] and payload["staff"] is None
    assert await counts(db) == before


async def test_staff_deactivate_not_found_points_at_the_id_argument(api, world, token_for):
    token = await token_for("admin")
    payload = (await api.data(DEACTIVATE, {"id": gid("StaffUser", 999999)}, token))["staffDeactivate"]
    assert_user_error(payload, "NOT_FOUND", ["id"])


# teamCreate ----------------------------------------------------------------------------------


async def test_team_create_returns_team_and_writes_rows(api, world, token_for, db):
    token = await token_for("admin")
    variables = {"input": {"name": " Douyin Team ", "memberIds": [world.gid("StaffUser", "ops")]}}
    payload = (await api.data(TEAM_CREATE, variables, token))["teamCreate"]
    assert payload["errors"] == []
    assert payload["team"]["name"] == "Douyin Team"
    assert payload["team"]["members"] == [{"username": "ops"}]
    (row,) = await fetch(db, Team, name="Douyin Team")
    assert payload["team"]["id"] == gid("Team", row.id)
    assert [m.staff_id for m in await fetch(db, TeamMember, team_id=row.id)] == [world.ids["ops"]]


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        pytest.param({"name": " "}, "REQUIRED", ["input", "name"], id="name-blank"),
        pytest.param({"name": "t" * 65}, "TOO_LONG", ["input", "name"], id="name-too-long"),
        pytest.param({"name": "Live Team"}, "DUPLICATE_NAME", ["input", "name"], id="name-duplicate"),
        pytest.param({"memberIds": ["sh.guide"]}, "INVALID_MEMBER", ["input", "memberIds"], id="member-not-ops"),
        pytest.param(
            {"memberIds": [gid("StaffUser", 999999)]}, "INVALID_MEMBER", ["input", "memberIds"], id="member-unknown"
        ),
    ],
)
async def test_team_create_rejects_bad_input_and_writes_nothing(api, world, token_for, db, overrides, code, field):
    overrides = {
        k: [world.gid("StaffUser", m) if m in world.ids else m for m in v] if k == "memberIds" else v
        for k, v in overrides.items()
    }
    token = await token_for("admin")
    before = await counts(db)
    data = await api.data(TEAM_CREATE, {"input": {"name": "New Team", **overrides}}, token)
    assert_user_error(data["teamCreate"], code, field, obj="team")
    assert await counts(db) == before


async def test_team_create_inactive_member_is_invalid(api, world, token_for, db):
    token = await token_for("admin")
    await api.data(DEACTIVATE, {"id": world.gid("StaffUser", "ops")}, token)
    before = await counts(db)
    variables = {"input": {"name": "New Team", "memberIds": [world.gid("StaffUser", "ops")]}}
    assert_user_error(
        (await api.data(TEAM_CREATE, variables, token))["teamCreate"],
        "INVALID_MEMBER",
        ["input", "memberIds"],
        obj="team",
    )
    assert await counts(db) == before


@pytest.mark.parametrize("username", ["ops", "sh.manager", "analyst"])
async def test_team_create_needs_hq_admin(api, world, token_for, db, username):
    await assert_forbidden(api, TEAM_CREATE, {"input": {"name": "New Team"}}, await token_for(username))
    assert await count_rows(db, "team") == 1


async def test_team_create_same_idempotency_key_returns_same_team(api, world, token_for, db):
    token = await token_for("admin")
    variables = {"input": {"name": "New Team", "idempotencyKey": "team-1"}}
    first = (await api.data(TEAM_CREATE, variables, token))["teamCreate"]
    second = (await api.data(TEAM_CREATE, variables, token))["teamCreate"]
    assert first["errors"] == [] and second == first
    assert await count_rows(db, "team") == 2
    other = {"input": {"name": "Other Team", "idempotencyKey": "team-1"}}
    assert_user_error(
        (await api.data(TEAM_CREATE, other, token))["teamCreate"],
        "IDEMPOTENCY_KEY_REUSED",
        ["input", "idempotencyKey"],
        obj="team",
    )
    assert await count_rows(db, "team") == 2


# staff listing -------------------------------------------------------------------------------


async def usernames(api, token, **filters) -> list[str]:
    data = (await api.data(STAFF_LIST, filters, token))["staff"]
    assert data["totalCount"] == len(data["edges"])
    return sorted(edge["node"]["username"] for edge in data["edges"])


async def test_staff_listing_filters_by_store_and_role_for_admin(api, world, token_for):
    token = await token_for("admin")
    assert len(await usernames(api, token)) == 7
    assert await usernames(api, token, storeId=world.gid("Store", "shanghai")) == ["sh.guide", "sh.manager"]
    assert await usernames(api, token, role="GUIDE") == ["bj.guide", "sh.guide"]
    assert await usernames(api, token, storeId=world.gid("Store", "beijing"), role="STORE_MANAGER") == ["bj.manager"]
    assert await usernames(api, token, role="LIVESTREAM_OPS") == ["ops"]


async def test_staff_listing_manager_sees_her_store_only(api, world, token_for):
    token = await token_for("sh.manager")
    assert await usernames(api, token) == ["sh.guide", "sh.manager"]
    assert await usernames(api, token, storeId=world.gid("Store", "shanghai"), role="GUIDE") == ["sh.guide"]


async def test_staff_listing_manager_asking_for_other_store_is_forbidden(api, world, token_for):
    await assert_forbidden(api, STAFF_LIST, {"storeId": world.gid("Store", "beijing")}, await token_for("sh.manager"))


@pytest.mark.parametrize("username", ["sh.guide", "ops"])
async def test_staff_listing_wrong_role_is_forbidden(api, world, token_for, username):
    await assert_forbidden(api, STAFF_LIST, {}, await token_for(username))

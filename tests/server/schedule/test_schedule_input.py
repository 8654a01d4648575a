"""A guide's week and her exceptions through `input`; the plain arguments of shiftsSet and
shiftExceptionRemove are deprecated and tested in test_schedule_api."""

from __future__ import annotations

from tests.server.assertions import scalar
from tests.world import gid

SHIFTS_SET = """mutation($i: ShiftsSetInput!) { shiftsSet(input: $i) {
  shifts { weekday starts ends } errors { code field } } }"""
EXCEPTION_ADD = """mutation($input: ShiftExceptionAddInput!) { shiftExceptionAdd(input: $input) {
  shiftException { id } errors { code field } } }"""
EXCEPTION_REMOVE = """mutation($i: ShiftExceptionRemoveInput!) { shiftExceptionRemove(input: $i) {
  removedId errors { code field } } }"""


async def test_a_manager_sets_a_week_and_removes_an_exception_through_input(api, world, db, token_for):
    manager, guide = await token_for("sh.manager"), world.gid("StaffUser", "sh.guide")
    week = [{"weekday": "MONDAY", "starts": "10:00", "ends": "18:00"}]
    saved = (await api.data(SHIFTS_SET, {"i": {"staffId": guide, "shifts": week}}, manager))["shiftsSet"]
    assert saved == {"shifts": [{"weekday": "MONDAY", "starts": "10:00:00", "ends": "18:00:00"}], "errors": []}
    assert await scalar(db, "SELECT count(*) FROM shift_pattern") == 1
    leave = {"staffId": guide, "day": "2030-01-07", "kind": "LEAVE"}
    added = (await api.data(EXCEPTION_ADD, {"input": leave}, manager))["shiftExceptionAdd"]
    exception = added["shiftException"]["id"]
    removed = (await api.data(EXCEPTION_REMOVE, {"i": {"id": exception}}, manager))["shiftExceptionRemove"]
    assert removed == {"removedId": exception, "errors": []}
    assert await scalar(db, "SELECT count(*) FROM shift_exception") == 0


async def test_an_unknown_exception_points_into_the_input(api, world, db, token_for):
    manager = await token_for("sh.manager")
    unknown = gid("ShiftException", 9999)
    missing = (await api.data(EXCEPTION_REMOVE, {"i": {"id": unknown}}, manager))["shiftExceptionRemove"]
    assert missing["errors"] == [{"code": "NOT_FOUND", "field": ["input", "id"]}], missing

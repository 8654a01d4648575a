"""A customer's own guide (专属导购)."""

from __future__ import annotations

from server.domains.identity.events import EventType
from tests.world import gid

from .helpers import event, send

SET = """mutation($c: ID!, $g: ID) { customerRelationshipGuideSet(customerId: $c, guideId: $g) {
  customer { relationshipGuide { username } } errors { code field } } }"""


async def _shanghai_customer(db, world) -> str:
    [result] = await send(
        db, event("v1", "phone:13812345678", kind=EventType.STORE_VISIT, store_id=world.ids["shanghai"])
    )
    return gid("Customer", result.person_id)


async def test_hq_admin_sets_and_clears_her_guide(api, world, db, token_for):
    customer = await _shanghai_customer(db, world)
    token = await token_for("admin")
    set_ = await api.data(SET, {"c": customer, "g": world.gid("StaffUser", "sh.guide")}, token)
    assert set_["customerRelationshipGuideSet"] == {
        "customer": {"relationshipGuide": {"username": "sh.guide"}},
        "errors": [],
    }
    cleared = await api.data(SET, {"c": customer, "g": None}, token)
    assert cleared["customerRelationshipGuideSet"]["customer"]["relationshipGuide"] is None


async def test_a_manager_gives_her_a_guide_of_the_managers_store(api, world, db, token_for):
    customer = await _shanghai_customer(db, world)
    done = await api.data(SET, {"c": customer, "g": world.gid("StaffUser", "sh.guide")}, await token_for("sh.manager"))
    assert done["customerRelationshipGuideSet"]["errors"] == []


async def test_a_manager_cannot_give_a_guide_of_another_store(api, world, db, token_for):
    customer = await _shanghai_customer(db, world)
    body = await api(SET, {"c": customer, "g": world.gid("StaffUser", "bj.guide")}, await token_for("sh.manager"))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_manager_cannot_reach_a_customer_of_another_store(api, world, db, token_for):
    customer = await _shanghai_customer(db, world)
    body = await api(SET, {"c": customer, "g": world.gid("StaffUser", "bj.guide")}, await token_for("bj.manager"))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_only_an_active_guide_can_be_her_guide(api, world, db, token_for):
    customer = await _shanghai_customer(db, world)
    data = await api.data(SET, {"c": customer, "g": world.gid("StaffUser", "sh.manager")}, await token_for("admin"))
    assert data["customerRelationshipGuideSet"]["errors"] == [{"code": "NOT_A_GUIDE", "field": ["input", "guideId"]}]
    unknown = await api.data(SET, {"c": customer, "g": gid("StaffUser", 99999)}, await token_for("admin"))
    assert unknown["customerRelationshipGuideSet"]["errors"][0]["code"] == "NOT_FOUND"


async def test_a_guide_cannot_assign_guides(api, world, db, token_for):
    customer = await _shanghai_customer(db, world)
    body = await api(SET, {"c": customer, "g": world.gid("StaffUser", "sh.guide")}, await token_for("sh.guide"))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

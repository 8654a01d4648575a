"""OneID's older mutations through `input` (their plain arguments are deprecated and tested beside
each rule); each call is checked against what it stored."""

from __future__ import annotations

from .helpers import scalar
from .test_api_ingest import create_source, ev, person_id
from .test_api_lifecycle import P1, P2, merge_gid

ROTATE = """mutation($i: SourceRotateKeyInput!) { sourceRotateKey(input: $i) {
  apiKey source { keyPrefix } errors { code field } } }"""
DISABLE = (
    """mutation($i: SourceDisableInput!) { sourceDisable(input: $i) { source { active } errors { code field } } }"""
)
INGEST = """mutation($i: EventsIngestInput!) { eventsIngest(input: $i) {
  accepted rejected results { customerId code } errors { code field } } }"""
SPLIT = """mutation($i: PersonSplitInput!) { personSplit(input: $i) {
  merge { undoneAt } customer { id } errors { code field } } }"""
ERASE = """mutation($i: PersonEraseInput!) { personErase(input: $i) { customer { erased } errors { code field } } }"""
GUIDE_SET = """mutation($i: CustomerRelationshipGuideSetInput!) { customerRelationshipGuideSet(input: $i) {
  customer { relationshipGuide { username } } errors { code field } } }"""
SMS = """mutation($i: CustomerSmsCodeRequestInput!) { customerSmsCodeRequest(input: $i) {
  expiresAt errors { code field } } }"""


async def ingest(api, key: str, *events: dict) -> dict:
    body = await api(INGEST, {"i": {"events": list(events)}}, **{"x-source-key": key})
    assert "errors" not in body, body
    return body["data"]["eventsIngest"]


async def test_sources_are_rotated_and_disabled_through_input(api, admin, db):
    created = await create_source(api, admin)
    source = {"id": created["source"]["id"]}
    rotated = (await api.data(ROTATE, {"i": source}, admin))["sourceRotateKey"]
    assert rotated["errors"] == [] and rotated["apiKey"] != created["apiKey"]
    assert await scalar(db, "SELECT key_prefix FROM touchpoint_source") == rotated["source"]["keyPrefix"]
    disabled = (await api.data(DISABLE, {"i": source}, admin))["sourceDisable"]
    assert disabled == {"source": {"active": False}, "errors": []}
    assert await scalar(db, "SELECT active FROM touchpoint_source") in (False, 0)


async def test_events_are_ingested_through_input(api, key, db):
    done = await ingest(api, key, ev("e1", P1), ev("e2", P2))
    assert (done["accepted"], done["rejected"], done["errors"]) == (2, 0, [])
    assert await scalar(db, "SELECT count(*) FROM customer_event") == 2


async def test_a_merge_is_split_and_a_customer_erased_through_input(api, key, admin, db):
    ann = (await ingest(api, key, ev("ann", P1)))["results"][0]["customerId"]
    bea = (await ingest(api, key, ev("bea", P2)))["results"][0]["customerId"]
    await ingest(api, key, ev("join", P1, P2))
    merge = await merge_gid(db, person_id(ann), person_id(bea))
    split = (await api.data(SPLIT, {"i": {"mergeId": merge}}, admin))["personSplit"]
    assert split["errors"] == [] and split["merge"]["undoneAt"] and split["customer"]["id"] == bea
    assert await scalar(db, "SELECT merged_into_id FROM person WHERE id = :b", b=person_id(bea)) is None
    erased = (await api.data(ERASE, {"i": {"customerId": bea}}, admin))["personErase"]
    assert erased == {"customer": {"erased": True}, "errors": []}
    assert await scalar(db, "SELECT erased_at FROM person WHERE id = :b", b=person_id(bea)) is not None


async def test_her_guide_is_set_through_input_and_errors_point_into_it(api, key, world, token_for, db):
    customer = (await ingest(api, key, ev("v1", P1)))["results"][0]["customerId"]
    admin = await token_for("admin")
    unknown = {"customerId": customer, "guideId": world.gid("StaffUser", "admin")}
    refused = (await api.data(GUIDE_SET, {"i": unknown}, admin))["customerRelationshipGuideSet"]
    assert [e["field"] for e in refused["errors"]] == [["input", "guideId"]], refused
    assert await scalar(db, "SELECT relationship_guide_id FROM person") is None
    given = {"customerId": customer, "guideId": world.gid("StaffUser", "sh.guide")}
    done = (await api.data(GUIDE_SET, {"i": given}, admin))["customerRelationshipGuideSet"]
    assert done == {"customer": {"relationshipGuide": {"username": "sh.guide"}}, "errors": []}
    assert await scalar(db, "SELECT relationship_guide_id FROM person") == world.ids["sh.guide"]


async def test_a_sign_in_code_is_requested_through_input(api, db):
    sent = (await api.data(SMS, {"i": {"phone": "13812345678"}}))["customerSmsCodeRequest"]
    assert sent["errors"] == [] and sent["expiresAt"]
    assert await scalar(db, "SELECT count(*) FROM sms_code") == 1
    bad = (await api.data(SMS, {"i": {"phone": "12"}}))["customerSmsCodeRequest"]
    assert [(e["code"], e["field"]) for e in bad["errors"]] == [("INVALID_PHONE", ["input", "phone"])]
    assert await scalar(db, "SELECT count(*) FROM sms_code") == 1

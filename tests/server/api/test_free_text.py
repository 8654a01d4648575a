"""One rule for every free text: no control characters, no bidi controls; line breaks only where a
field is multi-line (notes, descriptions, talking points, guidance). Refused with INVALID_FORMAT on the
field, nothing written; NUL never gets that far (the request is refused, see test_hostile_input)."""

from __future__ import annotations

import pytest

from tests.server.api.test_hostile_input import table_counts
from tests.server.bookings.helpers import customer, give_shifts, next_local

ESC = "red\x1b[31m alert"
BIDI = "invoice\u202etxt.exe"
ISOLATE = "a\u2066b\u2069"
C1 = "a\x85b"
BELL = "a\x07b"
NEWLINE = "two\nlines"
HOSTILE = {"ESC": ESC, "BIDI": BIDI, "ISOLATE": ISOLATE, "C1": C1, "BELL": BELL}


def _store(world, **overrides) -> dict:
    return {
        "code": "S009",
        "name": "广州店",
        "city": "广州",
        "address": "天河路 1 号",
        "location": {"latitude": 23.1, "longitude": 113.3},
        "openingHours": [],
        **overrides,
    }


# name -> (mutation, role, build(world, text) -> variables, the input field the text went to)
CASES = {
    "storeCreate.name": (
        "mutation($i: StoreCreateInput!) { storeCreate(input: $i) { errors { code field } } }",
        "admin",
        lambda w, t: {"i": _store(w, name=t)},
        "name",
    ),
    "storeUpdate.address": (
        "mutation($i: StoreUpdateInput!) { storeUpdate(input: $i) { errors { code field } } }",
        "admin",
        lambda w, t: {"i": {"id": w.gid("Store", "shanghai"), "address": t}},
        "address",
    ),
    "staffCreate.displayName": (
        "mutation($i: StaffCreateInput!) { staffCreate(input: $i) { errors { code field } } }",
        "admin",
        lambda w, t: {
            "i": {
                "username": "new.guide",
                "password": "long enough pw",
                "displayName": t,
                "role": "GUIDE",
                "storeId": w.gid("Store", "shanghai"),
            }
        },
        "displayName",
    ),
    "staffUpdate.displayName": (
        "mutation($i: StaffUpdateInput!) { staffUpdate(input: $i) { errors { code field } } }",
        "admin",
        lambda w, t: {"i": {"id": w.gid("StaffUser", "sh.guide"), "displayName": t}},
        "displayName",
    ),
    "teamCreate.name": (
        "mutation($i: TeamCreateInput!) { teamCreate(input: $i) { errors { code field } } }",
        "admin",
        lambda w, t: {"i": {"name": t}},
        "name",
    ),
    "productCategoryCreate.name": (
        "mutation($i: ProductCategoryCreateInput!) { productCategoryCreate(input: $i) { errors { code field } } }",
        "admin",
        lambda w, t: {"i": {"code": "HAIR", "name": t}},
        "name",
    ),
    "serviceCreate.name": (
        "mutation($i: ServiceCreateInput!) { serviceCreate(input: $i) { errors { code field } } }",
        "admin",
        lambda w, t: {"i": {"code": "NAILS", "name": t, "durationMinutes": 30}},
        "name",
    ),
    "productCreate.description": (
        "mutation($i: ProductCreateInput!) { productCreate(input: $i) { errors { code field } } }",
        "admin",
        lambda w, t: {
            "i": {
                "sku": "NEW-01",
                "name": "新品",
                "description": t,
                "categoryId": w.gid("ProductCategory", "skincare"),
                "price": {"amount": 100, "currency": "CNY"},
            }
        },
        "description",
    ),
    "productUpdate.name": (
        "mutation($i: ProductUpdateInput!) { productUpdate(input: $i) { errors { code field } } }",
        "admin",
        lambda w, t: {"i": {"id": w.gid("Product", "serum"), "name": t}},
        "name",
    ),
    "livestreamCreate.title": (
        "mutation($i: LivestreamCreateInput!) { livestreamCreate(input: $i) { errors { code field } } }",
        "admin",
        lambda w, t: {
            "i": {
                "title": t,
                "hostName": "小雅",
                "teamId": w.gid("Team", "team"),
                "channel": "DOUYIN",
                "scheduledStart": "2026-12-24T12:00:00Z",
                "scheduledEnd": "2026-12-24T14:00:00Z",
            }
        },
        "title",
    ),
    "livestreamCreate.talkingPoints": (
        "mutation($i: LivestreamCreateInput!) { livestreamCreate(input: $i) { errors { code field } } }",
        "admin",
        lambda w, t: {
            "i": {
                "title": "Double 12",
                "hostName": "小雅",
                "teamId": w.gid("Team", "team"),
                "channel": "DOUYIN",
                "talkingPoints": [t],
                "scheduledStart": "2026-12-24T12:00:00Z",
                "scheduledEnd": "2026-12-24T14:00:00Z",
            }
        },
        "0",
    ),
    "sourceCreate.name": (
        "mutation($i: SourceCreateInput!) { sourceCreate(input: $i) { errors { code field } } }",
        "admin",
        lambda w, t: {"i": {"name": t, "kind": "APP"}},
        "name",
    ),
    "sopTemplateSet.name": (
        "mutation($i: SopTemplateSetInput!) { sopTemplateSet(input: $i) { errors { code field } } }",
        "admin",
        lambda w, t: {"i": {"customerType": "WALK_IN", "name": t, "steps": [{"title": "Greet"}]}},
        "name",
    ),
    "sopTemplateSet.guidance": (
        "mutation($i: SopTemplateSetInput!) { sopTemplateSet(input: $i) { errors { code field } } }",
        "admin",
        lambda w, t: {
            "i": {"customerType": "WALK_IN", "name": "Walk-in", "steps": [{"title": "Greet", "guidance": t}]}
        },
        "guidance",
    ),
    "shiftExceptionAdd.note": (
        "mutation($i: ShiftExceptionAddInput!) { shiftExceptionAdd(input: $i) { errors { code field } } }",
        "admin",
        lambda w, t: {
            "i": {"staffId": w.gid("StaffUser", "sh.guide"), "day": "2026-12-24", "kind": "LEAVE", "note": t}
        },
        "note",
    ),
}
MULTI_LINE = {
    "productCreate.description",
    "livestreamCreate.talkingPoints",
    "sopTemplateSet.guidance",
    "shiftExceptionAdd.note",
}


def _errors(body: dict) -> list[dict]:
    assert "errors" not in body, body
    (payload,) = body["data"].values()
    return payload["errors"]


@pytest.mark.parametrize("kind", sorted(HOSTILE))
@pytest.mark.parametrize("case", sorted(CASES))
async def test_control_and_bidi_characters_are_refused_and_nothing_is_written(api, db, world, token_for, case, kind):
    mutation, role, variables, field = CASES[case]
    token = await token_for(role)
    before = await table_counts(db)
    errors = _errors(await api(mutation, variables(world, HOSTILE[kind]), token))
    assert {"code": "INVALID_FORMAT", "field": errors[0]["field"]} in errors, errors
    assert any(e["code"] == "INVALID_FORMAT" and e["field"][-1] == field for e in errors), errors
    assert await table_counts(db) == before


@pytest.mark.parametrize("case", sorted(CASES))
async def test_line_breaks_only_in_multi_line_fields(api, db, world, token_for, case):
    mutation, role, variables, field = CASES[case]
    errors = _errors(await api(mutation, variables(world, NEWLINE), await token_for(role)))
    refused = any(e["code"] == "INVALID_FORMAT" and e["field"][-1] == field for e in errors)
    assert refused is (case not in MULTI_LINE), errors


async def test_booking_note_and_cancel_reason_follow_the_rule(api, db, world, clock):
    await give_shifts(db, world)
    token, _ = await customer(api)
    book = "mutation($i: BookingCreateInput!) { bookingCreate(input: $i) { booking { id } errors { code field } } }"
    slot = next_local(clock, 2, 14).isoformat()
    shanghai = world.gid("Store", "shanghai")
    before = await table_counts(db)
    refused = (await api(book, {"i": {"storeId": shanghai, "slotStart": slot, "note": BIDI}}, token))["data"]
    assert refused["bookingCreate"]["errors"] == [{"code": "INVALID_FORMAT", "field": ["input", "note"]}]
    assert await table_counts(db) == before
    booked = (await api(book, {"i": {"storeId": shanghai, "slotStart": slot, "note": NEWLINE}}, token))["data"]
    booking = booked["bookingCreate"]["booking"]["id"]
    cancel = "mutation($i: BookingCancelInput!) { bookingCancel(input: $i) { booking { status } errors { code } } }"
    assert (await api(cancel, {"i": {"id": booking, "reason": ESC}}, token))["data"]["bookingCancel"] == {
        "booking": None,
        "errors": [{"code": "INVALID_FORMAT"}],
    }
    assert (await api(cancel, {"i": {"id": booking, "reason": NEWLINE}}, token))["data"]["bookingCancel"] == {
        "booking": {"status": "CANCELLED"},
        "errors": [],
    }


@pytest.mark.parametrize("text", [ESC, BIDI, NEWLINE])
async def test_customer_traits_follow_the_rule(api, db, world, token_for, text):
    _, customer_id = await customer(api)
    admin = await token_for("admin")
    before = await table_counts(db)
    body = await api(
        "mutation($i: CustomerTraitsInput!) { customerTraitsUpdate(input: $i) { errors { code } } }",
        {"i": {"customerId": customer_id, "city": text}},
        admin,
    )
    assert body["data"]["customerTraitsUpdate"]["errors"] == [{"code": "INVALID_VALUE"}]
    assert await table_counts(db) == before

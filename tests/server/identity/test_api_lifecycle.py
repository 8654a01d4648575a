"""A customer's life over GraphQL: merges and splits, traits and consents, erasure, identity conflicts."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from server.models import metadata
from tests.conftest import count_rows
from tests.server.bookings.helpers import CANCEL, book, give_shifts, next_local
from tests.server.bookings.helpers import customer as signed_in_customer
from tests.world import gid

from .helpers import scalar
from .test_api_ingest import ev, ingest, person_id, top_level_code

CUSTOMER = """
query Customer($id: ID!) {
  customer(id: $id) {
    id erased
    identifiers { type namespace value }
    traits { name city birthday tags }
    consents { kind granted updatedAt }
  }
}"""
MERGES = "query Merges($id: ID!) { customer(id: $id) { id merges { id survivorId mergedId undoneAt } } }"
SPLIT = """
mutation Split($id: ID!) {
  personSplit(mergeId: $id) { merge { id undoneAt } customer { id } errors { code field message } }
}"""
ERASE = """
mutation Erase($id: ID!) { personErase(customerId: $id) { customer { id erased } errors { code field } } }"""
TRAITS_UPDATE = """
mutation Traits($input: CustomerTraitsInput!) {
  customerTraitsUpdate(input: $input) { customer { id traits { city tags } } errors { code field } }
}"""
SMS_CODE = "mutation($phone: String!) { customerSmsCodeRequest(phone: $phone) { errors { code } } }"
FIGURES = "query($id: ID!) { customer(id: $id) { purchaseCount lifetimeValue { amount } } }"
CONFLICTS = """
{ identityConflicts { edges { node { customerId otherCustomerIds identifierType } } } }"""
P1, P2, P3 = "phone:13812345678", "phone:13912345678", "phone:13712345678"


async def customer(api, token, customer_gid: str) -> dict:
    return (await api.data(CUSTOMER, {"id": customer_gid}, token))["customer"]


async def values_of(db, pid: int) -> set[str]:
    async with db.engine.connect() as connection:
        rows = await connection.execute(sa.text("SELECT value FROM identifier WHERE person_id = :p"), {"p": pid})
        return set(rows.scalars().all())


async def event_keys_of(db, pid: int) -> set[str]:
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            sa.text("SELECT event_key FROM customer_event WHERE person_id = :p"), {"p": pid}
        )
        return set(rows.scalars().all())


async def merge_gid(db, survivor: int, merged: int) -> str:
    merge = await scalar(
        db, "SELECT id FROM person_merge WHERE survivor_id = :s AND merged_id = :m", s=survivor, m=merged
    )
    assert merge is not None
    return gid("PersonMerge", merge)


async def two_merged(api, key) -> tuple[str, str]:
    """Ann (P1) and Bea (P2), then an event with both phones merges Bea into Ann."""
    ann = (await ingest(api, key, ev("ann", P1)))["results"][0]["customerId"]
    bea = (await ingest(api, key, ev("bea", P2)))["results"][0]["customerId"]
    joined = (await ingest(api, key, ev("join", P1, P2)))["results"][0]["customerId"]
    assert joined == ann != bea
    return ann, bea


async def split(api, token, merge: str) -> dict:
    return (await api.data(SPLIT, {"id": merge}, token))["personSplit"]


# --- merges --------------------------------------------------------------------------------------


async def test_event_linking_two_customers_merges_them_with_a_record(api, key, db):
    ann, bea = await two_merged(api, key)
    a, b = person_id(ann), person_id(bea)
    assert await scalar(db, "SELECT merged_into_id FROM person WHERE id = :b", b=b) == a
    trigger = await scalar(db, "SELECT id FROM customer_event WHERE event_key = 'join'")
    assert (
        await scalar(db, "SELECT event_id FROM person_merge WHERE survivor_id = :a AND merged_id = :b", a=a, b=b)
        == trigger
    )
    assert await values_of(db, a) == {"+8613812345678", "+8613912345678"}
    assert await event_keys_of(db, a) == {"ann", "bea", "join"} and await event_keys_of(db, b) == set()


async def test_merged_id_opens_the_survivor(api, key, admin):
    ann, bea = await two_merged(api, key)
    opened = await customer(api, admin, bea)
    assert opened["id"] == ann
    assert {i["value"] for i in opened["identifiers"]} == {"+8613812345678", "+8613912345678"}


async def test_hq_admin_sees_merges_on_the_survivor(api, key, admin, db):
    ann, bea = await two_merged(api, key)
    merges = (await api.data(MERGES, {"id": ann}, admin))["customer"]["merges"]
    assert merges == [
        {
            "id": await merge_gid(db, person_id(ann), person_id(bea)),
            "survivorId": ann,
            "mergedId": bea,
            "undoneAt": None,
        }
    ]


# --- split ---------------------------------------------------------------------------------------


async def test_split_gives_the_merged_customer_back_her_identifiers_and_events(api, key, admin, db):
    ann, bea = await two_merged(api, key)
    a, b = person_id(ann), person_id(bea)
    result = await split(api, admin, await merge_gid(db, a, b))
    assert result["errors"] == [] and result["merge"]["undoneAt"] and result["customer"]["id"] == bea
    assert await scalar(db, "SELECT merged_into_id FROM person WHERE id = :b", b=b) is None
    assert await values_of(db, a) == {"+8613812345678"} and await values_of(db, b) == {"+8613912345678"}
    assert await event_keys_of(db, a) == {"ann", "join"} and await event_keys_of(db, b) == {"bea"}
    assert (await customer(api, admin, bea))["id"] == bea
    assert await scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'person.split'") == 1


async def test_identifier_linked_later_through_her_follows_her_on_split(api, key, admin, db):
    ann, bea = await two_merged(api, key)
    later = await ingest(api, key, ev("bea-mail", P2, "email:bea@example.com"))
    assert later["results"][0]["customerId"] == ann
    await split(api, admin, await merge_gid(db, person_id(ann), person_id(bea)))
    assert await values_of(db, person_id(bea)) == {"+8613912345678", "bea@example.com"}
    assert await event_keys_of(db, person_id(bea)) == {"bea", "bea-mail"}
    assert await values_of(db, person_id(ann)) == {"+8613812345678"}


async def test_later_merge_made_only_through_her_identifiers_blocks_the_split(api, key, admin, db):
    ann, bea = await two_merged(api, key)
    cat = (await ingest(api, key, ev("cat", P3)))["results"][0]["customerId"]
    await ingest(api, key, ev("bea-cat", P2, P3))  # joins Cat through Bea's phone only
    a, b, c = person_id(ann), person_id(bea), person_id(cat)
    first, second = await merge_gid(db, a, b), await merge_gid(db, a, c)
    blocked = await split(api, admin, first)
    assert [e["code"] for e in blocked["errors"]] == ["SPLIT_BLOCKED_BY_LATER_MERGE"] and blocked["merge"] is None
    assert await scalar(db, "SELECT merged_into_id FROM person WHERE id = :b", b=b) == a
    assert await values_of(db, a) == {"+8613812345678", "+8613912345678", "+8613712345678"}
    assert (await split(api, admin, second))["errors"] == []
    assert await values_of(db, c) == {"+8613712345678"}
    assert (await split(api, admin, first))["errors"] == []
    assert await values_of(db, a) == {"+8613812345678"} and await values_of(db, b) == {"+8613912345678"}


async def test_split_is_forbidden_to_other_roles(api, key, token_for, db):
    ann, bea = await two_merged(api, key)
    merge = await merge_gid(db, person_id(ann), person_id(bea))
    body = await api(SPLIT, {"id": merge}, await token_for("analyst"))
    assert top_level_code(body) == "FORBIDDEN"
    assert await scalar(db, "SELECT count(*) FROM person_merge WHERE undone_at IS NULL") == 1


async def test_split_of_an_unknown_merge_is_not_found(api, admin, world):
    result = await split(api, admin, gid("PersonMerge", 999_999))
    assert [e["code"] for e in result["errors"]] == ["NOT_FOUND"]


async def test_split_twice_is_refused(api, key, admin, db):
    ann, bea = await two_merged(api, key)
    merge = await merge_gid(db, person_id(ann), person_id(bea))
    assert (await split(api, admin, merge))["errors"] == []
    again = await split(api, admin, merge)
    assert [e["code"] for e in again["errors"]] == ["MERGE_ALREADY_UNDONE"]
    assert await scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'person.split'") == 1


async def test_two_admins_splitting_at_once_split_once(api, key, admin, db):
    ann, bea = await two_merged(api, key)
    merge = await merge_gid(db, person_id(ann), person_id(bea))
    results = await asyncio.gather(*(split(api, admin, merge) for _ in range(4)))
    assert sorted(tuple(e["code"] for e in r["errors"]) for r in results) == [
        (),
        ("MERGE_ALREADY_UNDONE",),
        ("MERGE_ALREADY_UNDONE",),
        ("MERGE_ALREADY_UNDONE",),
    ]
    assert await scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'person.split'") == 1


# --- traits and consents -------------------------------------------------------------------------


def profile(event_id: str, *identifiers: str, at, **traits) -> dict:
    return ev(event_id, *identifiers, type="PROFILE_UPDATE", at=at, properties=traits)


async def test_profile_updates_set_traits(api, key, admin, clock):
    answer = await ingest(
        api, key, profile("p1", P1, at=clock.now(), name="Ann", city="上海", birthday="1990-05-01", tags=["vip"])
    )
    traits = (await customer(api, admin, answer["results"][0]["customerId"]))["traits"]
    assert traits == {"name": "Ann", "city": "上海", "birthday": "1990-05-01", "tags": ["vip"]}


async def test_latest_occurred_at_wins_even_when_the_older_event_arrives_later(api, key, admin, db, clock):
    now = clock.now()
    ann = (await ingest(api, key, profile("new", P1, at=now - timedelta(hours=1), city="上海")))["results"][0]
    await ingest(api, key, profile("old", P1, at=now - timedelta(days=3), city="北京", name="Ann"))
    traits = (await customer(api, admin, ann["customerId"]))["traits"]
    assert (traits["city"], traits["name"]) == ("上海", "Ann")
    assert await scalar(db, "SELECT count(*) FROM person_trait WHERE name = 'city'") == 1


async def test_traits_are_recomputed_after_a_merge_and_after_a_split(api, key, admin, db, clock):
    now = clock.now()
    ann = await ingest(api, key, profile("pa", P1, at=now - timedelta(days=2), city="北京", name="Ann"))
    bea = await ingest(api, key, profile("pb", P2, at=now - timedelta(days=1), city="上海"))
    ann, bea = ann["results"][0]["customerId"], bea["results"][0]["customerId"]
    await ingest(api, key, ev("join", P1, P2))
    merged = (await customer(api, admin, ann))["traits"]
    assert (merged["city"], merged["name"]) == ("上海", "Ann")  # Bea's later city wins
    assert await scalar(db, "SELECT count(*) FROM person_trait WHERE person_id = :b", b=person_id(bea)) == 0
    await split(api, admin, await merge_gid(db, person_id(ann), person_id(bea)))
    assert (await customer(api, admin, ann))["traits"]["city"] == "北京"
    assert (await customer(api, admin, bea))["traits"] == {"name": None, "city": "上海", "birthday": None, "tags": []}


async def test_consent_updates_set_consents_with_their_time(api, key, admin, clock):
    earlier, later = clock.now() - timedelta(days=2), clock.now() - timedelta(hours=1)
    ann = await ingest(
        api,
        key,
        ev("c1", P1, type="CONSENT_UPDATE", at=earlier, properties={"marketingSms": True, "wechatMessages": True}),
        ev("c2", P1, type="CONSENT_UPDATE", at=later, properties={"wechatMessages": False}),
    )
    consents = (await customer(api, admin, ann["results"][0]["customerId"]))["consents"]
    by_kind = {c["kind"]: (c["granted"], c["updatedAt"]) for c in consents}
    assert by_kind.keys() == {"marketingSms", "wechatMessages"}
    assert by_kind["marketingSms"][0] is True and by_kind["wechatMessages"][0] is False
    assert _same_instant(by_kind["marketingSms"][1], earlier) and _same_instant(by_kind["wechatMessages"][1], later)


def _same_instant(text: str, expected: datetime) -> bool:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) == expected


async def test_hq_admin_edits_traits_and_it_is_audit_logged(api, key, admin, db):
    ann = (await ingest(api, key, ev("e1", P1)))["results"][0]["customerId"]
    payload = (await api.data(TRAITS_UPDATE, {"input": {"customerId": ann, "city": "杭州", "tags": ["vip"]}}, admin))[
        "customerTraitsUpdate"
    ]
    assert payload["errors"] == [] and payload["customer"]["traits"] == {"city": "杭州", "tags": ["vip"]}
    assert (
        await scalar(
            db,
            "SELECT count(*) FROM audit_log WHERE action = 'customer.update_traits' AND subject = :s",
            s=f"person:{person_id(ann)}",
        )
        == 1
    )
    # The payload shows her unmasked: a read like any other, in the audit log.
    assert (
        await scalar(
            db,
            "SELECT count(*) FROM audit_log WHERE action = 'customer.read_unmasked' AND subject = :s",
            s=f"person:{person_id(ann)}",
        )
        == 1
    )


async def test_an_edit_changing_nothing_is_refused_and_writes_nothing(api, key, admin, db):
    ann = (await ingest(api, key, ev("e1", P1)))["results"][0]["customerId"]
    refused = (await api.data(TRAITS_UPDATE, {"input": {"customerId": ann}}, admin))["customerTraitsUpdate"]
    assert refused == {"customer": None, "errors": [{"code": "REQUIRED", "field": ["input"]}]}
    assert await count_rows(db, "customer_event") == 1 and await count_rows(db, "audit_log") == 0


async def test_analyst_may_not_edit_traits(api, key, token_for, db):
    ann = (await ingest(api, key, ev("e1", P1)))["results"][0]["customerId"]
    body = await api(TRAITS_UPDATE, {"input": {"customerId": ann, "city": "杭州"}}, await token_for("analyst"))
    assert top_level_code(body) == "FORBIDDEN"
    assert await count_rows(db, "person_trait") == 0
    assert await scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'customer.update_traits'") == 0


# --- erasure -------------------------------------------------------------------------------------


async def erased_customer(api, key, admin, clock, before_erasure=None) -> str:
    ann = (
        await ingest(
            api,
            key,
            profile("p1", P1, "email:ann@example.com", at=clock.now() - timedelta(hours=2), name="Ann"),
            ev("c1", P1, type="CONSENT_UPDATE", at=clock.now() - timedelta(hours=2), properties={"marketingSms": True}),
            ev("v1", P1, properties={"page": "serum"}),
            ev("b1", P1, type="POS_PURCHASE", properties={"amount": 89000, "currency": "CNY", "cashier": "Li"}),
        )
    )["results"][0]["customerId"]
    sent = (await api.data(SMS_CODE, {"phone": "13812345678"}))["customerSmsCodeRequest"]
    assert sent["errors"] == []
    if before_erasure is not None:
        await before_erasure(ann)
    result = (await api.data(ERASE, {"id": ann}, admin))["personErase"]
    assert result == {"customer": {"id": ann, "erased": True}, "errors": []}
    return ann


MONDAY = 0
NOTE, REASON = "想试色，Ann 的过敏史：酒精", "Ann 临时住院"  # free text she wrote


async def her_bookings(api, db, world, clock, ann: str) -> None:
    """She signs in by SMS and books twice with a note; she cancels one, giving a reason."""
    await give_shifts(db, world)
    token, me = await signed_in_customer(api, "13812345678")
    assert me == ann
    kept = await book(api, token, world, next_local(clock, MONDAY, 15), note=NOTE)
    cancelled = await book(api, token, world, next_local(clock, MONDAY, 16), note=NOTE)
    assert kept["errors"] == [] and cancelled["errors"] == []
    answer = await api.data(CANCEL, {"input": {"id": cancelled["booking"]["id"], "reason": REASON}}, token)
    assert answer["bookingCancel"]["errors"] == []


async def cells_holding(db, needles: tuple[str, ...], names: tuple[str, ...]) -> list[tuple[str, str]]:
    """(table, column) of every stored value, in every table, that contains one of ``needles`` or is one
    of ``names`` (a column of its own, or a string in a JSON document)."""
    found = []
    async with db.engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in (await connection.execute(sa.select(table))).mappings():
                for column, value in row.items():
                    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
                    if (
                        any(needle in text for needle in needles)
                        or value in names
                        or any(json.dumps(name, ensure_ascii=False) in text for name in names)
                    ):
                        found.append((table.name, column))
    return found


async def test_erasure_deletes_personal_data_and_keeps_the_facts(api, key, admin, db, clock, world):
    ann = await erased_customer(
        api, key, admin, clock, before_erasure=lambda ann: her_bookings(api, db, world, clock, ann)
    )
    pid = person_id(ann)
    assert await count_rows(db, "identifier") == 0
    assert await count_rows(db, "person_trait") == 0 and await count_rows(db, "person_consent") == 0
    assert await scalar(db, "SELECT erased_at FROM person WHERE id = :p", p=pid) is not None
    logins = await event_keys_of(db, pid) - {"p1", "c1", "v1", "b1"}
    assert len(logins) == 1  # she signed in to book
    async with db.engine.connect() as connection:
        properties = dict((await connection.execute(sa.text("SELECT event_key, properties FROM customer_event"))).all())
    kept = {key: value if isinstance(value, dict) else json.loads(value) for key, value in properties.items()}
    # Accounting keeps the purchase's amount; who she is (and who served her) goes.
    assert kept == {
        "p1": {},
        "c1": {},
        "v1": {},
        "b1": {"amount": 89000, "currency": "CNY"},
        **{key_0: {} for key_0 in logins},
    }
    assert await count_rows(db, "sms_code") == 0 and await count_rows(db, "sms_throttle") == 0
    figures = (await api.data(FIGURES, {"id": ann}, admin))["customer"]
    assert figures == {"purchaseCount": 1, "lifetimeValue": {"amount": 89000}}
    assert (
        await scalar(
            db, "SELECT count(*) FROM audit_log WHERE action = 'person.erase' AND subject = :s", s=f"person:{pid}"
        )
        == 1
    )
    assert (await customer(api, admin, ann))["erased"] is True
    async with db.engine.connect() as connection:  # her bookings stay as facts, without what she wrote
        bookings = (
            await connection.execute(
                sa.text("SELECT status, note, cancel_reason FROM booking WHERE person_id = :p ORDER BY slot_start"),
                {"p": pid},
            )
        ).all()
    assert [tuple(b) for b in bookings] == [("CONFIRMED", "", None), ("CANCELLED", "", None)]
    assert (
        await cells_holding(db, needles=(NOTE, REASON, "Ann 的", "13812345678", "ann@example.com"), names=("Ann", "Li"))
        == []
    )


async def test_an_erased_customer_gets_no_personal_data_again(api, key, admin, db, clock, token_for):
    ann = await erased_customer(api, key, admin, clock)
    events = await count_rows(db, "customer_event")
    stranger = await api(TRAITS_UPDATE, {"input": {"customerId": ann, "city": "上海"}}, await token_for("sh.guide"))
    assert top_level_code(stranger) == "FORBIDDEN"  # not PERSON_ERASED: that would tell her story
    refused = (await api.data(TRAITS_UPDATE, {"input": {"customerId": ann, "city": "上海"}}, admin))[
        "customerTraitsUpdate"
    ]
    assert refused == {"customer": None, "errors": [{"code": "PERSON_ERASED", "field": ["input", "customerId"]}]}
    assert await count_rows(db, "person_trait") == 0 and await count_rows(db, "customer_event") == events


async def test_replayed_old_event_does_not_link_an_erased_customer_again(api, key, admin, db, clock):
    await erased_customer(api, key, admin, clock)
    replay = await ingest(api, key, ev("replay", P1, "email:ann@example.com", at=clock.now() - timedelta(hours=3)))
    assert (replay["results"][0]["status"], replay["results"][0]["code"]) == ("REJECTED", "PERSON_ERASED")
    assert await count_rows(db, "identifier") == 0 and await count_rows(db, "person") == 1


async def test_new_event_after_erasure_creates_a_new_customer(api, key, admin, db, clock):
    ann = await erased_customer(api, key, admin, clock)
    clock.advance(minutes=5)
    fresh = await ingest(api, key, ev("new", P1, at=clock.now()))
    assert fresh["results"][0]["status"] == "ACCEPTED" and fresh["results"][0]["customerId"] != ann
    assert await values_of(db, person_id(fresh["results"][0]["customerId"])) == {"+8613812345678"}
    assert await count_rows(db, "person") == 2


async def test_erasure_is_for_hq_admins_only(api, key, token_for, db):
    ann = (await ingest(api, key, ev("e1", P1)))["results"][0]["customerId"]
    body = await api(ERASE, {"id": ann}, await token_for("analyst"))
    assert top_level_code(body) == "FORBIDDEN"
    assert await count_rows(db, "identifier") == 1


# --- identity conflicts --------------------------------------------------------------------------


async def make_conflict(api, key) -> tuple[str, str]:
    ann = (await ingest(api, key, ev("a", "unionid:u-ann", P1)))["results"][0]["customerId"]
    bea = (await ingest(api, key, ev("b", "unionid:u-bea", P2)))["results"][0]["customerId"]
    joined = (await ingest(api, key, ev("x", P1, P2)))["results"][0]
    assert joined["status"] == "ACCEPTED" and joined["customerId"] == ann
    return ann, bea


@pytest.mark.parametrize("username", ["admin", "analyst"])
async def test_identity_conflicts_lists_an_event_joining_different_unionids(api, key, token_for, db, username):
    ann, bea = await make_conflict(api, key)
    edges = (await api.data(CONFLICTS, token=await token_for(username)))["identityConflicts"]["edges"]
    assert [e["node"] for e in edges] == [
        {"customerId": ann, "otherCustomerIds": [bea], "identifierType": "WECHAT_UNIONID"}
    ]
    assert await scalar(db, "SELECT count(*) FROM person WHERE merged_into_id IS NOT NULL") == 0


async def test_identity_conflicts_are_forbidden_to_guides(api, key, token_for):
    await make_conflict(api, key)
    assert top_level_code(await api(CONFLICTS, token=await token_for("sh.guide"))) == "FORBIDDEN"

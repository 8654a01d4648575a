"""The OneID resolution rules, each on its own."""

from __future__ import annotations

from server.domains.identity.ingestion import Outcome

from .helpers import event, grouping, scalar, send

P1, P2, P3 = "phone:13812345678", "phone:13912345678", "phone:13712345678"


async def test_unknown_identifiers_make_a_new_person(db):
    [result] = await send(db, event("e1", P1, "openid:o1"))
    assert result.outcome is Outcome.ACCEPTED and result.person_id
    assert await scalar(db, "SELECT count(*) FROM person") == 1
    assert await grouping(db) == {frozenset({"PHONE::+8613812345678", "WECHAT_OPENID:wx-app-1:o1"})}


async def test_one_match_attaches_new_identifiers(db):
    [first] = await send(db, event("e1", P1))
    [second] = await send(db, event("e2", P1, "email:Ann@Example.com"))
    assert second.person_id == first.person_id
    assert await grouping(db) == {frozenset({"PHONE::+8613812345678", "EMAIL::ann@example.com"})}


async def test_several_matches_merge_into_the_earliest_person(db):
    [a] = await send(db, event("e1", P1))
    [b] = await send(db, event("e2", "openid:o2"))
    [c] = await send(db, event("e3", P1, "openid:o2"))
    assert c.person_id == a.person_id
    assert await scalar(db, "SELECT merged_into_id FROM person WHERE id = :id", id=b.person_id) == a.person_id
    assert await scalar(db, "SELECT count(*) FROM customer_event WHERE person_id = :id", id=a.person_id) == 3
    assert (
        await scalar(
            db,
            "SELECT count(*) FROM person_merge WHERE survivor_id = :s AND merged_id = :m AND event_id IS NOT NULL",
            s=a.person_id,
            m=b.person_id,
        )
        == 1
    )


async def test_a_repeated_event_id_is_a_duplicate(db):
    await send(db, event("e1", P1))
    [again] = await send(db, event("e1", P1))
    assert again.outcome is Outcome.DUPLICATE
    assert await scalar(db, "SELECT count(*) FROM customer_event") == 1


async def test_limited_types_never_join_two_values(db):
    [a] = await send(db, event("e1", "unionid:u1", P1))
    [b] = await send(db, event("e2", "unionid:u2", P2))
    [c] = await send(db, event("e3", P1, P2, "email:x@example.com"))
    assert c.person_id == a.person_id  # equal priority (phones): the earlier person
    assert await scalar(db, "SELECT count(*) FROM person WHERE merged_into_id IS NOT NULL") == 0
    assert await scalar(db, "SELECT count(*) FROM identity_conflict WHERE person_id = :p", p=a.person_id) == 1
    assert await scalar(db, "SELECT person_id FROM identifier WHERE value = :v", v="+8613912345678") == b.person_id


async def test_conflicting_event_goes_to_the_highest_priority_identifier(db):
    [a] = await send(db, event("e1", "app:A1", P1))
    [b] = await send(db, event("e2", "app:A2", "unionid:u9"))
    [c] = await send(db, event("e3", P1, "unionid:u9"))
    assert c.person_id == b.person_id  # UNIONID outranks PHONE
    assert await scalar(db, "SELECT count(*) FROM identity_conflict") == 1
    assert a.person_id != b.person_id


async def test_blocked_values_never_link(db):
    [a] = await send(db, event("e1", "phone:13800000000", "app:x1"))
    [b] = await send(db, event("e2", "phone:13800000000", "app:x2"))
    assert a.person_id != b.person_id
    [c] = await send(db, event("e3", "app:anonymous", "email:y@example.com"))
    assert c.outcome is Outcome.ACCEPTED
    assert await scalar(db, "SELECT count(*) FROM identifier WHERE value IN ('anonymous', '+8613800000000')") == 0


async def test_merged_id_stays_resolvable_as_an_alias(db):
    from server.domains.identity.persons import root_person

    [a] = await send(db, event("e1", P1))
    [b] = await send(db, event("e2", P2))
    await send(db, event("e3", P1, P2))
    async with db.reader() as session:
        assert (await root_person(session, b.person_id)).id == a.person_id

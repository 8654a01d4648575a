"""Order independence of OneID, checked by hypothesis over permutations and repeats."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.db import Database
from tests.conftest import empty_tables

from .helpers import event, grouping, send

# Pools small enough that events often share identifiers.
UNLIMITED = [f"phone:1381234567{d}" for d in range(4)] + [
    "openid:o1",
    "openid:o2",
    "email:a@x.cn",
    "email:b@x.cn",
    "viewer:v1",
    "viewer:v2",
]
LIMITED = ["unionid:u1", "unionid:u2", "app:a1", "app:a2", "pos:p1"]

event_sets = st.lists(st.sets(st.sampled_from(UNLIMITED), min_size=1, max_size=3), min_size=1, max_size=8)


def components(events: list[set[str]]) -> set[frozenset[str]]:
    """The expected grouping: identifiers joined by any event end up together."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for identifiers in events:
        first, *rest = sorted(identifiers)
        find(first)
        for other in rest:
            parent[find(other)] = find(first)
    groups: dict[str, set[str]] = {}
    for x in list(parent):
        groups.setdefault(find(x), set()).add(x)
    return {frozenset(_canonical(i) for i in g) for g in groups.values()}


def _canonical(text: str) -> str:
    kind, _, value = text.partition(":")
    return {
        "phone": f"PHONE::+86{value}",
        "openid": f"WECHAT_OPENID:wx-app-1:{value}",
        "email": f"EMAIL::{value}",
        "viewer": f"LIVESTREAM_VIEWER_ID:douyin:{value}",
    }[kind]


def _run_in_fresh_loop(url: str, body):
    async def main():
        database = Database.connect(url)
        try:
            await empty_tables(database)
            return await body(database)
        finally:
            await database.dispose()

    return asyncio.run(main())


async def test_grouping_ignores_arrival_order_and_repeats(db):
    url = db.engine.url.render_as_string(hide_password=False)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(events=event_sets, data=st.data())
    def check(events, data):
        order = data.draw(st.permutations(range(len(events))))
        repeats = data.draw(st.lists(st.sampled_from(range(len(events))), max_size=4))
        batch_size = data.draw(st.integers(min_value=1, max_value=4))

        async def body(database):
            sequence = [event(f"e{i}", *sorted(events[i])) for i in [*order, *repeats]]
            for start in range(0, len(sequence), batch_size):
                await send(database, *sequence[start : start + batch_size])
            return await grouping(database)

        assert _run_in_fresh_loop(url, body) == components(events)

    await asyncio.to_thread(check)


async def test_no_person_ever_holds_two_values_of_a_limited_type(db):
    url = db.engine.url.render_as_string(hide_password=False)
    mixed = st.lists(st.sets(st.sampled_from(UNLIMITED[:4] + LIMITED), min_size=1, max_size=3), min_size=1, max_size=10)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(events=mixed)
    def check(events):
        async def body(database):
            for i, identifiers in enumerate(events):
                limited_types = [i.split(":")[0] for i in identifiers if i in LIMITED]
                if len(limited_types) != len(set(limited_types)):
                    continue  # two values of one type in one event: rejected on its own
                await send(database, event(f"e{i}", *sorted(identifiers)))
            async with database.engine.connect() as connection:
                return (
                    await connection.execute(
                        sa.text(
                            "SELECT person_id, type, count(DISTINCT value) FROM identifier "
                            "WHERE type IN ('WECHAT_UNIONID', 'APP_USER_ID', 'POS_MEMBER_ID') "
                            "GROUP BY person_id, type HAVING count(DISTINCT value) > 1"
                        )
                    )
                ).all()

        assert _run_in_fresh_loop(url, body) == []

    await asyncio.to_thread(check)

"""Concurrent ingests that link the same persons: no duplicate persons, no lost identifiers, no deadlock."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

from server.domains.common.actor import Actor, ActorKind, Role
from server.domains.identity.erasure import erase_person
from server.domains.identity.ingestion import Outcome

from .helpers import POLICY, T0, event, grouping, scalar, send

CHAINS = 6
LINKS = 8
PHONE = "phone:13812345678"
RACERS = 12


def chain_events(chain: int) -> list:
    """Events that join identifiers phone-a-0 … phone-a-8 of one chain pairwise, plus an openid each."""
    phones = [f"phone:1391{chain}{n:06d}" for n in range(LINKS + 1)]
    return [event(f"c{chain}-l{n}", phones[n], phones[n + 1], f"openid:c{chain}-{n}") for n in range(LINKS)]


async def test_racing_batches_converge_to_one_person_per_chain(db):
    rng = random.Random(7)
    everything = [e for chain in range(CHAINS) for e in chain_events(chain)]
    workers = []
    for worker in range(8):
        mine = everything[:]
        rng.shuffle(mine)
        batches = [mine[i : i + 5] for i in range(0, len(mine), 5)]
        workers.append(_run_batches(db, batches, source=f"src:w{worker}"))
    results = await asyncio.wait_for(asyncio.gather(*workers), timeout=120)
    assert all(r.outcome is Outcome.ACCEPTED for batch in results for r in batch)
    groups = await grouping(db)
    assert len(groups) == CHAINS
    assert sum(len(g) for g in groups) == CHAINS * (LINKS + 1 + LINKS)  # every phone and openid kept
    roots = await scalar(
        db, "SELECT count(*) FROM person WHERE merged_into_id IS NULL AND id IN (SELECT person_id FROM identifier)"
    )
    assert roots == CHAINS
    orphans = await scalar(
        db,
        "SELECT count(*) FROM customer_event e JOIN person p ON p.id = e.person_id WHERE p.merged_into_id IS NOT NULL",
    )
    assert orphans == 0


async def _run_batches(db, batches, source):
    results = []
    for batch in batches:
        results.extend(await send(db, *batch, source=source))
    return results


async def test_an_erasure_racing_ingests_leaves_no_identifier_on_her(db):
    """Erasure locks her as ingestion does: an identifier attached meanwhile is erased with the rest,
    or goes to a new customer, never stays on the erased one."""
    [ann] = await send(db, event("a0", PHONE))
    admin = Actor(kind=ActorKind.STAFF, id=1, role=Role.HQ_ADMIN)

    async def erase() -> None:
        async with db.writer() as session:
            await erase_person(session, admin, POLICY, ann.person_id, T0 + timedelta(hours=1))

    racers = [
        send(
            db,
            event(f"r{n}", PHONE, f"email:n{n}@example.com", minutes=90),
            source=f"src:r{n}",
            now=T0 + timedelta(hours=2),
        )
        for n in range(RACERS)
    ]
    results = await asyncio.wait_for(
        asyncio.gather(*racers[: RACERS // 2], erase(), *racers[RACERS // 2 :]), timeout=60
    )
    assert all(r.outcome is Outcome.ACCEPTED for batch in results if batch for r in batch)
    assert await scalar(db, "SELECT count(*) FROM identifier WHERE person_id = :p", p=ann.person_id) == 0


async def test_replayed_older_events_racing_an_erasure_never_bring_her_phone_back(db):
    """Events from before the erasure, arriving while it runs: attached and erased with her, or
    refused by its tombstones afterwards; no new customer ever holds her phone."""
    [ann] = await send(db, event("a0", PHONE))
    admin = Actor(kind=ActorKind.STAFF, id=1, role=Role.HQ_ADMIN)

    async def erase() -> None:
        async with db.writer() as session:
            await erase_person(session, admin, POLICY, ann.person_id, T0 + timedelta(hours=1))

    replays = [
        send(db, event(f"old{n}", PHONE, minutes=30), source=f"src:o{n}", now=T0 + timedelta(hours=2))
        for n in range(RACERS)
    ]
    results = await asyncio.wait_for(
        asyncio.gather(*replays[: RACERS // 2], erase(), *replays[RACERS // 2 :]), timeout=60
    )
    outcomes = {r.outcome for batch in results if batch for r in batch}
    assert outcomes <= {Outcome.ACCEPTED, Outcome.REJECTED}
    assert await scalar(db, "SELECT count(*) FROM identifier WHERE type = 'PHONE'") == 0
    assert await scalar(db, "SELECT count(*) FROM person") == 1

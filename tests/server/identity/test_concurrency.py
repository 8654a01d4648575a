"""Concurrent ingests that link the same persons: no duplicate persons, no lost identifiers, no deadlock."""

from __future__ import annotations

import asyncio
import random

from server.domains.identity.services import Outcome

from .helpers import event, grouping, scalar, send

CHAINS = 6
LINKS = 8


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
        batches = [mine[i:i + 5] for i in range(0, len(mine), 5)]
        workers.append(_run_batches(db, batches, source=f"src:w{worker}"))
    results = await asyncio.wait_for(asyncio.gather(*workers), timeout=120)
    assert all(r.outcome is Outcome.ACCEPTED for batch in results for r in batch)
    groups = await grouping(db)
    assert len(groups) == CHAINS
    assert sum(len(g) for g in groups) == CHAINS * (LINKS + 1 + LINKS)  # every phone and openid kept
    roots = await scalar(db, "SELECT count(*) FROM person WHERE merged_into_id IS NULL "
                             "AND id IN (SELECT person_id FROM identifier)")
    assert roots == CHAINS
    orphans = await scalar(db, "SELECT count(*) FROM customer_event e JOIN person p ON p.id = e.person_id "
                               "WHERE p.merged_into_id IS NOT NULL")
    assert orphans == 0


async def _run_batches(db, batches, source):
    results = []
    for batch in batches:
        results.extend(await send(db, *batch, source=source))
    return results

"""OneID resolution: which person each event belongs to, merging persons where identifiers join them.

A batch is resolved in memory, in arrival order, against the persons its
identifiers already point at, then written with a handful of bulk statements.
The rules (README "OneID resolution rules"):

* no identifier known -> a new person; one person matched -> new identifiers
  attach to her; several -> they merge into the survivor (earliest created,
  then lowest id), with a merge record;
* a person holds at most one WECHAT_UNIONID, APP_USER_ID and POS_MEMBER_ID: an
  event that would break that merges nobody, goes to the person of its
  highest-priority identifier, links nothing that would break it, and leaves
  an identity conflict for review;
* an identifier's ``home_person_id`` is the person it first belonged to; the
  identifiers and events an event brings get the home of the highest-priority
  identifier it matched, so a split gives a merged person back what came
  through her.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..common.dialect import is_in
from ..common.rows import exec_any, pk, select_columns, table_of
from . import hooks
from .events import CheckedEvent, EventType
from .identifiers import LIMITED, PRIORITY, IdentifierKey, IdentifierType
from .models import (
    CustomerEvent,
    Identifier,
    IdentityConflict,
    Person,
    PersonConsent,
    PersonMerge,
    PersonTrait,
)
from .traits import fold

LOOKUP_CHUNK = 2000
PROJECTED_TYPES = (EventType.PROFILE_UPDATE.value, EventType.CONSENT_UPDATE.value)


class StaleRead(Exception):
    """Persons changed between reading and locking them; the batch is resolved again."""


@dataclass
class PersonState:
    id: int  # a row id, or a negative placeholder for a person this batch creates
    order: tuple  # survivor order: earliest created, then lowest id
    limited: dict[IdentifierType, str] = field(default_factory=dict)


@dataclass
class Workspace:
    now: datetime
    actor: str
    persons: dict[int, PersonState] = field(default_factory=dict)
    owner: dict[IdentifierKey, tuple[int, int]] = field(default_factory=dict)  # key -> (person, home)
    parent: dict[int, int] = field(default_factory=dict)  # merged -> survivor
    new_identifiers: list[tuple[IdentifierKey, int, int]] = field(default_factory=list)
    merges: list[tuple[int, int, int, list[int]]] = field(default_factory=list)  # survivor, merged, event, via
    conflicts: list[tuple[int, int, list[int], IdentifierType]] = field(default_factory=list)
    placed: list[tuple[int, int]] = field(default_factory=list)  # per event: (person, home)
    created: int = 0

    def root(self, person: int) -> int:
        while person in self.parent:
            person = self.parent[person]
        return person

    def new_person(self) -> int:
        self.created += 1
        placeholder = -self.created
        self.persons[placeholder] = PersonState(placeholder, (self.now, 1, self.created))
        return placeholder

    def attach(self, key: IdentifierKey, person: int, home: int) -> None:
        self.owner[key] = (person, home)
        self.new_identifiers.append((key, person, home))
        if key.is_limited:
            self.persons[person].limited[key.type] = key.value

    def place(self, index: int, keys: list[IdentifierKey]) -> None:
        """Resolve event ``index`` with its linkable ``keys`` (sorted, highest priority first)."""
        matched = [(key, self.root(self.owner[key][0]), self.owner[key][1]) for key in keys if key in self.owner]
        unknown = [key for key in keys if key not in self.owner]
        if not matched:
            person = self.new_person()
            for key in unknown:
                self.attach(key, person, person)
            self.placed.append((person, person))
            return
        candidates = {person for _, person, _ in matched}
        _best_key, best_person, home = min(matched, key=lambda m: (m[0].rank, self.persons[m[1]].order))
        clash = self._limited_clash(candidates, unknown)
        if clash is not None:
            self._place_conflicted(index, best_person, home, candidates, unknown, clash)
            return
        survivor = min(candidates, key=lambda p: self.persons[p].order)
        via = sorted({h for _, p, h in matched if p == survivor})
        for merged in sorted(candidates - {survivor}, key=lambda p: self.persons[p].order):
            self.parent[merged] = survivor
            self.persons[survivor].limited.update(self.persons[merged].limited)
            self.merges.append((survivor, merged, index, via))
        for key in unknown:
            self.attach(key, survivor, home)
        self.placed.append((survivor, home))

    def _limited_clash(self, candidates: set[int], unknown: list[IdentifierKey]) -> IdentifierType | None:
        for kind in (t for t in PRIORITY if t in LIMITED):
            values = {self.persons[p].limited[kind] for p in candidates if kind in self.persons[p].limited}
            values |= {k.value for k in unknown if k.type is kind}
            if len(values) > 1:
                return kind
        return None

    def _place_conflicted(self, index, person, home, candidates, unknown, clash) -> None:
        limited = self.persons[person].limited
        for key in unknown:
            if not key.is_limited or limited.get(key.type, key.value) == key.value:
                self.attach(key, person, home)
        others = sorted(candidates - {person}, key=lambda p: self.persons[p].order)
        self.conflicts.append((index, person, others, clash))
        self.placed.append((person, home))


OWNER_COLUMNS = (
    Identifier.person_id,
    Identifier.home_person_id,
    Identifier.type,
    Identifier.namespace,
    Identifier.value,
)


async def _owners(session: AsyncSession, keys: list[IdentifierKey]) -> list:
    """Plain rows, not ORM objects: a re-read after waiting for a lock must see the new owners
    (the identity map would hand back the objects as first loaded)."""
    wanted = set(keys)  # (type, namespace, value), as OWNER_COLUMNS end
    values = sorted({k.value for k in keys})
    rows: list = []
    for start in range(0, len(values), LOOKUP_CHUNK):
        # By value alone (the index's leading column): a row-value IN list makes PostgreSQL scan.
        statement = select_columns(*OWNER_COLUMNS).where(
            is_in(session, Identifier.value, values[start : start + LOOKUP_CHUNK])
        )
        rows.extend(r for r in (await session.exec(statement)).all() if r[2:] in wanted)
    return rows


async def _lock_owners(session: AsyncSession, keys: list[IdentifierKey]) -> list[Identifier]:
    """Lock the persons the keys belong to, until what we locked is what they belong to.

    An identifier only changes hands in a transaction that holds both persons'
    locks, so once every current owner is locked the picture stays still. A
    person merged away while we waited shows up as her survivor on the next
    read, which we lock too (deadlocks from that are retried by the caller).
    """
    locked: set[int] = set()
    for _ in range(20):
        owners = await _owners(session, keys)
        missing = sorted({row.person_id for row in owners} - locked)
        if not missing:
            return owners
        await session.exec(
            select(Person.id).where(is_in(session, Person.id, missing)).order_by(col(Person.id)).with_for_update()
        )
        locked.update(missing)
    raise StaleRead


async def _load(session: AsyncSession, workspace: Workspace, keys: list[IdentifierKey]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        owners = await _lock_owners(session, keys)
    else:
        owners = await _owners(session, keys)  # SQLite: BEGIN IMMEDIATE already runs writers one at a time
    person_ids = sorted({row.person_id for row in owners})
    persons = await session.exec(select(pk(Person.id), Person.created_at).where(is_in(session, Person.id, person_ids)))
    for person_id, created_at in persons:
        workspace.persons[person_id] = PersonState(person_id, (created_at, 0, person_id))
    limited = await session.exec(
        select(Identifier.person_id, Identifier.type, Identifier.value).where(
            is_in(session, Identifier.person_id, person_ids), col(Identifier.type).in_([t.value for t in LIMITED])
        )
    )
    for person_id, kind, value in limited:
        workspace.persons[person_id].limited[IdentifierType(kind)] = value
    for row in owners:
        key = IdentifierKey(IdentifierType(row.type), row.namespace, row.value)
        workspace.owner[key] = (row.person_id, row.home_person_id)


async def resolve(session: AsyncSession, events: list[CheckedEvent], *, now: datetime, actor: str) -> list[int]:
    """Store ``events`` (already checked and deduplicated) and return each one's person id.

    Runs in the caller's transaction and does not commit.
    """
    workspace = Workspace(now=now, actor=actor)
    await _load(session, workspace, sorted({k for e in events for k in e.keys}))
    for index, event in enumerate(events):
        workspace.place(index, event.keys)
    real = await _insert_persons(session, workspace)
    final = {p: real[workspace.root(p)] for p in workspace.persons}
    await _apply_merges(session, workspace, real, final)
    await _insert_identifiers(session, workspace, real, final)
    event_ids = await _insert_events(session, workspace, events, real, final)
    await _insert_merge_records(session, workspace, real, event_ids)
    await _insert_conflicts(session, workspace, real, final, event_ids)
    placed_events = zip(workspace.placed, events, strict=False)
    touched = {final[p] for (p, _), e in placed_events if e.raw.type.value in PROJECTED_TYPES}
    touched |= {final[s] for s, *_ in workspace.merges}
    await reproject(session, sorted(touched))
    return [final[p] for p, _ in workspace.placed]


class RealIds(dict):
    """Placeholder -> row id; a row id (a person loaded, or only named as a home) maps to itself."""

    def __missing__(self, person: int) -> int:
        if person < 0:
            raise KeyError(person)
        return person


async def _insert_persons(session: AsyncSession, workspace: Workspace) -> RealIds:
    real = RealIds()
    if workspace.created:
        statement = sa.insert(Person).returning(pk(Person.id), sort_by_parameter_order=True)
        rows = await session.exec(statement, params=[{"created_at": workspace.now}] * workspace.created)
        for placeholder, row in zip(range(-1, -workspace.created - 1, -1), rows.all(), strict=False):
            real[placeholder] = row.id
    return real


async def _apply_merges(session: AsyncSession, workspace: Workspace, real, final) -> None:
    """Point each merged person at her survivor and move what she holds to the final root (batched)."""
    if not workspace.merges:
        return
    survivor_of = {real[m]: real[s] for s, m, _, _ in workspace.merges}
    root_of = {real[m]: final[m] for _, m, _, _ in workspace.merges}
    persons = table_of(Person)
    await _remap(session, persons.c.id, persons.c.merged_into_id, survivor_of)
    for model in (Identifier, CustomerEvent):
        table = table_of(model)
        await _remap(session, table.c.person_id, table.c.person_id, root_of)
    await hooks.follow_merges(session, root_of)  # the domains above re-key what she holds there
    merged_ids = list(root_of)
    await session.exec(sa.delete(PersonTrait).where(is_in(session, PersonTrait.person_id, merged_ids)))
    await session.exec(sa.delete(PersonConsent).where(is_in(session, PersonConsent.person_id, merged_ids)))


async def _remap(session: AsyncSession, key: sa.Column, target: sa.Column, mapping: dict[int, int]) -> None:
    """``SET target = mapping[key]`` for every row whose key is in the mapping."""
    table, old, new = key.table.name, list(mapping), list(mapping.values())
    if session.get_bind().dialect.name == "postgresql":  # one statement of fixed text
        await exec_any(
            session,
            sa.text(
                f"UPDATE {table} SET {target.name} = m.new FROM unnest(CAST(:old AS int[]), CAST(:new AS int[]))"
                f" AS m(old, new) WHERE {table}.{key.name} = m.old"
            ),
            params={"old": old, "new": new},
        )
    else:  # SQLite executes in-process: a prepared statement per row costs little
        await session.exec(
            sa.update(key.table).where(key == sa.bindparam("old")).values({target: sa.bindparam("new")}),
            params=[{"old": o, "new": n} for o, n in mapping.items()],
        )


async def _insert_identifiers(session: AsyncSession, workspace: Workspace, real, final) -> None:
    rows = [
        {
            "person_id": final[person],
            "home_person_id": real[home],
            "type": key.type.value,
            "namespace": key.namespace,
            "value": key.value,
            "created_at": workspace.now,
        }
        for key, person, home in workspace.new_identifiers
    ]
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        await _copy(session, "identifier", rows)
    else:
        await session.exec(sa.insert(Identifier), params=rows)


async def _insert_events(session, workspace: Workspace, events: list[CheckedEvent], real, final) -> list[int]:
    rows = []
    for event, (person, home) in zip(events, workspace.placed, strict=False):
        raw = event.raw
        rows.append(
            {
                "source": event.source,
                "event_key": raw.event_id,
                "type": raw.type.value,
                "occurred_at": raw.occurred_at,
                "received_at": workspace.now,
                "person_id": final[person],
                "home_person_id": real[home],
                "livestream_id": raw.livestream_id,
                "store_id": raw.store_id,
                "product_id": raw.product_id,
                "properties": raw.properties,
            }
        )
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return await _copy_events(session, rows)
    statement = sa.insert(CustomerEvent).returning(pk(CustomerEvent.id), sort_by_parameter_order=True)
    return [row.id for row in (await session.exec(statement, params=rows)).all()]


async def _copy_events(session: AsyncSession, rows: list[dict]) -> list[int]:
    """PostgreSQL: take the ids from the sequence, then COPY the rows."""
    ids = list(
        (
            await exec_any(
                session,
                sa.text("SELECT nextval(pg_get_serial_sequence('customer_event', 'id')) FROM generate_series(1, :n)"),
                params={"n": len(rows)},
            )
        ).scalars()
    )
    for event_id, row in zip(ids, rows, strict=False):
        row["id"] = event_id
        row["properties"] = json.dumps(row["properties"])
    await _copy(session, "customer_event", rows)
    return ids


async def _copy(session: AsyncSession, table: str, rows: list[dict]) -> None:
    """COPY ``rows`` (dicts with the same keys) into ``table``: several times faster than INSERT.

    A unique violation surfaces as the driver's own error; ingest retries it like any collision.
    """
    columns = list(rows[0])
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None, "an open connection has its driver's (asyncpg's)"
    records = [tuple(map(row.__getitem__, columns)) for row in rows]
    await driver.copy_records_to_table(table, records=records, columns=columns)


async def _insert_merge_records(session, workspace: Workspace, real, event_ids) -> None:
    rows = [
        {
            "survivor_id": real[s],
            "merged_id": real[m],
            "event_id": event_ids[i],
            "actor": workspace.actor,
            "via_home_ids": [real[h] for h in via],
            "created_at": workspace.now,
        }
        for s, m, i, via in workspace.merges
    ]
    if rows and session.get_bind().dialect.name == "postgresql":
        await _copy(session, "person_merge", [{**r, "via_home_ids": json.dumps(r["via_home_ids"])} for r in rows])
    elif rows:
        await session.exec(sa.insert(PersonMerge), params=rows)


async def _insert_conflicts(session, workspace: Workspace, real, final, event_ids) -> None:
    rows = [
        {
            "event_id": event_ids[i],
            "person_id": final[p],
            "other_person_ids": [final[o] for o in others],
            "identifier_type": kind.value,
            "created_at": workspace.now,
        }
        for i, p, others, kind in workspace.conflicts
    ]
    if rows:
        await session.exec(sa.insert(IdentityConflict), params=rows)


async def reproject(session: AsyncSession, person_ids: list[int]) -> None:
    """Recompute traits and consents of these (root) persons from their events."""
    if not person_ids:
        return
    rows = await session.exec(
        select_columns(
            CustomerEvent.person_id,
            CustomerEvent.type,
            CustomerEvent.occurred_at,
            CustomerEvent.id,
            CustomerEvent.properties,
        ).where(is_in(session, CustomerEvent.person_id, person_ids), col(CustomerEvent.type).in_(PROJECTED_TYPES))
    )
    by_person: dict[int, list[tuple[str, Any, int, dict]]] = defaultdict(list)
    for person_id, kind, occurred_at, event_id, properties in rows:
        by_person[person_id].append((kind, occurred_at, event_id, properties or {}))
    await session.exec(sa.delete(PersonTrait).where(is_in(session, PersonTrait.person_id, person_ids)))
    await session.exec(sa.delete(PersonConsent).where(is_in(session, PersonConsent.person_id, person_ids)))
    traits, consents = [], []
    for person_id, events in by_person.items():
        person_traits, person_consents = fold(events)
        traits += [
            {"person_id": person_id, "name": n, "value": v, "occurred_at": at} for n, (v, at) in person_traits.items()
        ]
        consents += [
            {"person_id": person_id, "kind": k, "granted": g, "occurred_at": at}
            for k, (g, at) in person_consents.items()
        ]
    if traits:
        await session.exec(sa.insert(PersonTrait), params=traits)
    if consents:
        await session.exec(sa.insert(PersonConsent), params=consents)

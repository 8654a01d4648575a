"""Opening a customer for a viewer: alias resolution, access rules, masking and the audit log."""

from __future__ import annotations

import strawberry

from ...common.errors import Forbidden
from .. import view
from ..services import root_person
from .types import Customer


async def _audit_read(info: strawberry.Info, actor_key: str, person_id: int) -> None:
    """A query records the read in a short transaction of its own, beside the read; a mutation (whose
    own writes are committed by now) in its session: on SQLite a second writer would wait for it."""
    runtime = info.context.runtime
    entry = (actor_key, person_id, runtime.clock.now(), info.context.request_id)
    if info.context.operation_writes:
        async with info.context.db() as session:
            await view.record_unmasked_read(session, *entry)
        return

    async def write() -> None:
        async with runtime.db.writer() as writer:
            await view.record_unmasked_read(writer, *entry)

    info.context.write_beside(write)


async def open_customer(info: strawberry.Info, person_id: int, *, hidden_as_none: bool = False) -> Customer | None:
    """The customer as this viewer may see her; None when unknown.

    A merged id opens the person she was merged into. A viewer who may not see
    her gets FORBIDDEN (or None, for node(id:)). Unmasked reads by staff are
    written to the audit log.
    """
    actor = await info.context.viewer()
    async with info.context.db() as session:
        person = await root_person(session, person_id)
        if person is None:
            return None
        try:
            access = await view.access_for(session, actor, person.id)
        except Forbidden:
            if hidden_as_none:
                return None
            raise
    if access.audited:
        await _audit_read(info, actor.key, person.id)
    return Customer(id=person.id, masked=access.masked, erased=person.erased_at is not None)

"""What the domains above staff plug into it.

Auth keeps staff members' sessions but sits above staff (it reads their
accounts to sign them in), so staff cannot call it. Auth registers a handler
here when its services are imported (``server.wiring.connect_domains()``), and
staff runs the handlers inside its own transaction when a member's access
changes: deactivated, given another role or store, or a new password.
Handlers must not commit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from ..common.hooks import Hooks

# (session, staff id, now) -> None
AccessChangeHandler = Callable[[AsyncSession, int, datetime], Awaitable[None]]

_access_changes: Hooks[AccessChangeHandler] = Hooks()

on_access_change = _access_changes.register


async def access_changed(session: AsyncSession, staff_id: int, now: datetime) -> None:
    for handler in _access_changes.handlers():
        await handler(session, staff_id, now)

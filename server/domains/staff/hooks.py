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

# (session, staff id, now) -> None
AccessChangeHandler = Callable[[AsyncSession, int, datetime], Awaitable[None]]

_access_changes: dict[str, AccessChangeHandler] = {}


def on_access_change(domain: str) -> Callable[[AccessChangeHandler], AccessChangeHandler]:
    """Register ``domain``'s handler (once: registering again replaces it)."""

    def register(handler: AccessChangeHandler) -> AccessChangeHandler:
        _access_changes[domain] = handler
        return handler

    return register


async def access_changed(session: AsyncSession, staff_id: int, now: datetime) -> None:
    for domain in sorted(_access_changes):
        await _access_changes[domain](session, staff_id, now)

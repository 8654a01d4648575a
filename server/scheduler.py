"""Background jobs: one asyncio scheduler per server process, safe with several replicas.

Every job handles a batch per run in its own transaction and claims rows with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so replicas running it at the same
time share the work instead of repeating it. Time comes from the injectable
clock; tests call :meth:`Scheduler.run_once` after moving a frozen clock.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from .background import BackgroundLoop
from .clock import Clock
from .db import Database
from .domains.auth.services import purge_refresh_tokens
from .domains.bookings import codes as check_in_codes
from .domains.bookings import jobs as booking_jobs
from .domains.identity.services import purge_sms_codes
from .domains.messaging.channels import MessageChannel
from .domains.messaging.services import send_pending
from .domains.payments import services as payments
from .domains.payments.services import Providers
from .domains.social.invitations import invite_to_share
from .domains.tasks.services import TaskPolicy
from .outbox import purge_published
from .unit_of_work import use_case

logger = logging.getLogger("irs.scheduler")
TICK_SECONDS = 1.0
RETENTION = timedelta(days=1)


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[AsyncSession, datetime], Awaitable[int]]


def standard_jobs(
    policy: TaskPolicy, no_show_grace: timedelta, channels: Sequence[MessageChannel], brand: str
) -> list[Job]:
    return [
        Job("escalate_overdue_tasks", 10, lambda s, now: booking_jobs.escalate_overdue_tasks(s, policy, now)),
        Job("remind_guides", 30, lambda s, now: booking_jobs.remind_guides(s, policy, now)),
        Job("remind_customers", 30, lambda s, now: booking_jobs.remind_customers(s, policy, brand, now)),
        Job("mark_no_shows", 60, lambda s, now: booking_jobs.mark_no_shows(s, no_show_grace, now)),
        Job("send_customer_messages", 10, lambda s, now: send_pending(s, channels, now)),
        Job("purge_expired", 3600, lambda s, now: purge_expired(s, now - RETENTION, no_show_grace)),
    ]


def payment_jobs(providers: Providers, reconcile_after: timedelta) -> list[Job]:
    """Unpaid orders expire (unless a charge is pending at a provider); lost notifications are made up;
    what was paid for an order that could no longer be paid goes back."""
    return [
        Job("expire_unpaid_orders", 30, lambda s, now: payments.expire_unpaid_orders(s, now, reconcile_after)),
        Job("reconcile_payments", 60, lambda s, now: payments.reconcile(s, providers, now, reconcile_after)),
        Job("refund_orphaned_payments", 60, lambda s, now: payments.refund_orphans(s, providers, now)),
    ]


def social_jobs(public_url: str, brand: str) -> list[Job]:
    """After a completed visit, she is invited to share it."""
    return [Job("invite_to_share", 60, lambda s, now: invite_to_share(s, public_url, brand, now))]


@use_case
async def purge_expired(session: AsyncSession, before: datetime, no_show_grace: timedelta = timedelta(0)) -> int:
    """Published outbox rows, expired sign-in codes and refresh tokens, older than a day; check-in codes
    of bookings whose check-in window (open until ``no_show_grace`` after the slot) closed a day ago."""
    return (
        await purge_published(session, before)
        + await purge_sms_codes(session, before)
        + await purge_refresh_tokens(session, before)
        + await check_in_codes.purge_closed(session, before - no_show_grace)
    )


class Scheduler:
    def __init__(self, db: Database, clock: Clock, jobs: Sequence[Job]) -> None:
        self.db, self.clock, self.jobs = db, clock, list(jobs)
        self._next = {job.name: 0.0 for job in self.jobs}
        self._loop = BackgroundLoop("scheduler")

    async def run_once(self) -> dict[str, int]:
        """Every job once, now (tests, and `irs` commands)."""
        return {job.name: await self._run(job) for job in self.jobs}

    async def _run(self, job: Job) -> int:
        try:
            async with self.db.writer() as session:
                return await job.run(session, self.clock.now())
        except Exception:
            logger.exception("job %s failed", job.name)
            return 0

    def start(self) -> None:
        self._loop.start(self._run_due_jobs)

    async def close(self) -> None:
        """Stop after the job in hand: its transaction is never cut in two."""
        await self._loop.stop()

    async def _run_due_jobs(self) -> None:
        while not self._loop.stopping:
            for job in self.jobs:
                if self._loop.stopping:
                    return
                if time.monotonic() >= self._next[job.name]:
                    self._next[job.name] = time.monotonic() + job.every_seconds
                    await self._run(job)
            await self._loop.sleep(TICK_SECONDS)

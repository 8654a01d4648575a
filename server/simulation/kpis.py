"""The day's KPIs, read back through the public API once the ledger has credited every paid order."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from . import operations as ops
from .client import Account, Api

SETTLE_TIMEOUT_SECONDS = 120
POLL_SECONDS = 1.0
BOARD_SIZE = 100


@dataclass(frozen=True)
class Kpis:
    period: str
    brand: dict  # performance of the whole brand that day
    livestream: dict  # performance of the day's livestream
    guides: dict  # the GUIDE leaderboard
    teams: dict  # the TEAM leaderboard

    @property
    def commission_to_guides(self) -> int:
        return _commission(self.guides)

    @property
    def commission_to_teams(self) -> int:
        return _commission(self.teams)


async def read_kpis(api: Api, analyst: Account, period: str, livestream_id: str, paid_orders: int) -> Kpis:
    """Wait until the ledger has credited ``paid_orders`` orders and its figures stand still, then read."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    previous = None
    while True:
        current = await _read(api, analyst, period, livestream_id)
        settled = current.brand["orders"] >= paid_orders and current == previous
        if settled or time.monotonic() > deadline:
            return current
        previous = current
        await asyncio.sleep(POLL_SECONDS)


async def _read(api: Api, analyst: Account, period: str, livestream_id: str) -> Kpis:
    async def performance(scope: str | None = None, key: str | None = None) -> dict:
        variables = {"period": period, "scope": scope, "id": key}
        return (await api.as_account(analyst, ops.PERFORMANCE, variables))["performance"]

    async def board(scope: str) -> dict:
        variables = {"scope": scope, "period": period, "first": BOARD_SIZE}
        return (await api.as_account(analyst, ops.LEADERBOARD, variables))["leaderboard"]

    brand, livestream, guides, teams = await asyncio.gather(
        performance(), performance("LIVESTREAM", livestream_id), board("GUIDE"), board("TEAM")
    )
    return Kpis(period, brand, livestream, guides, teams)


def _commission(board: dict) -> int:
    return sum(int(entry["commission"]["amount"]) for entry in board["entries"])

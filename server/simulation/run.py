"""``irs simulate livestream``: start (or reach) a server, play the day, print the KPIs."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.console import Console

from ..demo import data
from ..settings import Settings
from .client import Api
from .day import Day, Tally
from .kpis import Kpis, read_kpis
from .plan import Options
from .report import PhaseBars, actions_line, kpi_table, top_guides_table
from .servers import DayServer, EmbeddedServer, RunningServer

SHOWN_FAILURES = 5


@dataclass(frozen=True)
class Outcome:
    tally: Tally
    kpis: Kpis
    seconds: float


async def simulate(options: Options, url: str | None, console: Console) -> Outcome:
    started = time.monotonic()
    embedded = EmbeddedServer() if url is None else None
    server: DayServer = embedded or RunningServer(url or "", Settings().brand_zone)
    if embedded is not None:
        with console.status("Migrating and seeding the demo brand, starting the embedded server…"):
            await embedded.start()
    api = Api(server.base_url)
    try:
        return await _play(api, server, options, console, started)
    finally:
        await api.close()
        if embedded is not None:
            await embedded.stop()


async def _play(api: Api, server: DayServer, options: Options, console: Console, started: float) -> Outcome:
    with PhaseBars(console) as bars:
        day = Day(api, server, options, bars)
        await day.run()
    assert day.live is not None
    analyst = await api.staff_login("analyst", data.DEMO_PASSWORD)
    paid = day.tally.booked_sales + day.tally.walk_in_sales
    with console.status("Waiting for the ledger to credit every paid order…"):
        kpis = await read_kpis(api, analyst, day.local_date.isoformat(), day.live.livestream_id, paid)
    outcome = Outcome(day.tally, kpis, time.monotonic() - started)
    show(console, outcome)
    return outcome


def show(console: Console, outcome: Outcome) -> None:
    console.print(kpi_table(outcome.kpis))
    console.print(top_guides_table(outcome.kpis))
    console.print(actions_line(outcome.tally))
    for failure in outcome.tally.failures[:SHOWN_FAILURES]:
        console.print(f"  refused: {failure}", markup=False)
    console.print(f"Wall time: {outcome.seconds:.1f} s")

"""What the simulation shows: a progress bar per phase while it runs, then the KPI table."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .day import Tally, Tick
from .kpis import Kpis


class PhaseBars:
    """One rich progress bar per phase of the day."""

    def __init__(self, console: Console) -> None:
        self.bars = Progress(
            TextColumn("{task.description:<32}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        )

    def __enter__(self) -> PhaseBars:
        self.bars.start()
        return self

    def __exit__(self, *exc) -> None:
        self.bars.stop()

    def phase(self, name: str, total: int) -> Tick:
        task = self.bars.add_task(name, total=total)
        return lambda: self.bars.advance(task)


def yuan(money: dict | None) -> str:
    if money is None:
        return "-"
    fen = int(money["amount"])
    return f"¥{fen / 100:,.2f}"


def fen_as_yuan(fen: int) -> str:
    return yuan({"amount": fen})


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f} %"


def kpi_table(kpis: Kpis) -> Table:
    table = Table(title=f"The livestream day {kpis.period} (read back from the API)", box=box.ASCII)
    table.add_column("KPI")
    table.add_column("brand, that day", justify="right")
    table.add_column("the livestream", justify="right")
    brand, live = kpis.brand, kpis.livestream
    for label, show in (
        ("Bookings", lambda p: str(p["bookings"])),
        ("Check-ins", lambda p: str(p["checkIns"])),
        ("No-shows", lambda p: str(p["noShows"])),
        ("Arrival rate", lambda p: percent(p["arrivalRate"])),
        ("Purchase rate", lambda p: percent(p["purchaseRate"])),
        ("Orders credited", lambda p: str(p["orders"])),
        ("GMV", lambda p: yuan(p["gmv"])),
        ("AOV booked", lambda p: yuan(p["averageOrderValueBooked"])),
        ("AOV others", lambda p: yuan(p["averageOrderValueOthers"])),
        ("AOV uplift", lambda p: "-" if p["aovUpliftPercent"] is None else f"{p['aovUpliftPercent']:+.1f} %"),
        ("Credited revenue", lambda p: yuan(p["creditedRevenue"])),
        ("Commission", lambda p: yuan(p["commission"])),
        ("Acknowledged in (p50)", lambda p: _seconds(p["acknowledgementSecondsP50"])),
        ("SLA breaches", lambda p: str(p["slaBreaches"])),
        ("UGC posts", lambda p: str(p["ugcPosts"])),
    ):
        table.add_row(label, show(brand), show(live))
    table.add_row("Commission to GUIDE", fen_as_yuan(kpis.commission_to_guides), "")
    table.add_row("Commission to LIVESTREAM_TEAM", fen_as_yuan(kpis.commission_to_teams), "")
    return table


def top_guides_table(kpis: Kpis, first: int = 5) -> Table:
    table = Table(title="Top guides (GUIDE leaderboard)", box=box.ASCII)
    for column in ("#", "guide", "credited revenue", "commission", "orders"):
        table.add_column(column, justify="left" if column == "guide" else "right")
    for entry in kpis.guides["entries"][:first]:
        table.add_row(
            str(entry["rank"]),
            entry["name"],
            yuan(entry["creditedRevenue"]),
            yuan(entry["commission"]),
            str(entry["orders"]),
        )
    return table


def actions_line(tally: Tally) -> str:
    return (
        f"Simulated: {tally.viewers} viewers signed in, {tally.coupons} coupons claimed, {tally.bookings} bookings "
        f"({tally.without_seat} found no seat), {tally.acknowledged} tasks acknowledged, {tally.check_ins} "
        f"check-ins, {tally.booked_sales} booked and {tally.walk_in_sales} walk-in sales paid, {tally.refunds} "
        f"refunds, {tally.ugc_posts} posts shared ({tally.featured} featured); {len(tally.failures)} refused."
    )


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} s"

"""业绩: her credited revenue, commission and rank today and this month, her store's and her city's guide
boards, and a bar chart of her store's top guides; live through ``leaderboardChanged`` on her store's
month board, caught up with one query after every (re)connect."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..api.client import GuideApi, utcnow
from ..api.errors import Offline
from ..api.live import Backoff, LiveSubscription
from ..i18n import _
from .base import RECOVERABLE, Presenter, settles
from .formatting import local, shown_money

# The ledger's periods are days and months in the brand's time zone (the server's IRS_BRAND_TIMEZONE).
BRAND_TIMEZONE = "Asia/Shanghai"
BOARD_SIZE = 10
BAR_COUNT = 6
BOARDS = ("storeMonth", "cityMonth", "storeDay", "cityDay")


@dataclass(frozen=True)
class Figures:
    """One KPI card (今日 or 本月)."""

    revenue: str
    commission: str
    store_rank: str
    city_rank: str


@dataclass(frozen=True)
class BoardRow:
    """One place on a leaderboard; ``mine`` is drawn highlighted."""

    rank: str
    name: str
    revenue: str
    orders: str
    mine: bool


@dataclass(frozen=True)
class Bar:
    """One bar of the chart: ``height`` is the revenue as a share (0 to 1) of the tallest bar."""

    name: str
    revenue: str
    height: float
    mine: bool


def periods(now: datetime) -> tuple[str, str]:
    """(this month ``YYYY-MM``, today ``YYYY-MM-DD``) in the brand's time zone."""
    moment = local(now, BRAND_TIMEZONE)
    return moment.strftime("%Y-%m"), moment.strftime("%Y-%m-%d")


def revenue_of(entry: dict) -> int:
    return int((entry.get("creditedRevenue") or {}).get("amount") or 0)


def rank_text(board: dict | None) -> str:
    """第 2 名 / 共 5 人, or 未上榜 while she has no credited sale in the period."""
    me = (board or {}).get("me")
    if not me:
        return _("Not ranked yet")
    return _("No. {rank} of {total}").format(rank=me["rank"], total=board["total"])


def figures_of(store_board: dict | None, city_board: dict | None) -> Figures:
    me = (store_board or {}).get("me") or (city_board or {}).get("me") or {}
    return Figures(
        revenue=shown_money(me.get("creditedRevenue")),
        commission=shown_money(me.get("commission")),
        store_rank=rank_text(store_board),
        city_rank=rank_text(city_board),
    )


def board_rows(board: dict | None) -> list[BoardRow]:
    return [
        BoardRow(
            rank=str(entry["rank"]),
            name=entry["name"],
            revenue=shown_money(entry.get("creditedRevenue")),
            orders=_("{count} orders").format(count=entry.get("orders", 0)),
            mine=bool(entry.get("isMe")),
        )
        for entry in (board or {}).get("entries", [])
    ]


def chart_bars(board: dict | None) -> list[Bar]:
    """Her store's top guides this month; she is always among them (in the last bar when she ranks lower)."""
    board = board or {}
    chosen = list(board.get("entries", [])[:BAR_COUNT])
    me = board.get("me")
    if me and not any(entry.get("isMe") for entry in chosen):
        chosen = [*chosen[: BAR_COUNT - 1], {**me, "isMe": True}]
    tallest = max((revenue_of(entry) for entry in chosen), default=0)
    return [
        Bar(
            name=entry["name"],
            revenue=shown_money(entry.get("creditedRevenue")),
            height=revenue_of(entry) / tallest if tallest else 0.0,
            mine=bool(entry.get("isMe")),
        )
        for entry in chosen
    ]


class PerformancePresenter(Presenter):
    """``viewer`` is the signed-in staff user as the session holds it ({id, store {id, city}})."""

    def __init__(
        self,
        api: GuideApi,
        viewer: Callable[[], dict],
        *,
        clock: Callable[[], datetime] = utcnow,
        backoff: Backoff = Backoff(),
    ) -> None:
        super().__init__()
        self.api = api
        self.viewer = viewer
        self.clock = clock
        self.backoff = backoff
        self.boards: dict[str, dict] = {}
        self.offline = False
        self.loaded = False
        self.live: LiveSubscription | None = None
        self._city: str | None = None
        self._loading: asyncio.Task | None = None
        self._load_again = False
        self._stopping: set[asyncio.Future] = set()

    # --- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Load her figures and keep them live (a second call while running does nothing)."""
        if self.live is None:
            await self.load()
            self._follow(periods(self.clock())[0])

    async def stop(self) -> None:
        """Signed out: the socket closes and nothing of hers stays on the phone."""
        live, self.live = self.live, None
        if live is not None:
            await live.stop()
        if self._loading is not None:
            self._loading.cancel()  # an answer arriving after she signed out is not shown
        self.boards, self._city, self.loaded, self.offline = {}, None, False, False

    def _follow(self, month: str) -> None:
        """Listen to her store's board of ``month`` (a new month: a new subscription)."""
        if self.live is not None and self.live.variables["month"] == month:
            return
        previous = self.live
        self.live = LiveSubscription(
            self.api,
            "StoreBoardChanged",
            {"month": month, "storeId": self._store_id(), "first": BOARD_SIZE},
            self.on_board,
            self.on_connection,
            backoff=self.backoff,
        )
        self.live.start()
        if previous is not None:  # stopped apart: this may run inside its own task
            stopping = asyncio.ensure_future(previous.stop())
            self._stopping.add(stopping)
            stopping.add_done_callback(self._stopping.discard)

    # --- loading -----------------------------------------------------------------------------------

    def _store_id(self) -> str:
        return (self.viewer().get("store") or {}).get("id", "")

    async def _store_city(self) -> str:
        if self._city is None:
            store = self.viewer().get("store") or {}
            city = store.get("city")
            if city is None and store.get("id"):  # a session kept from before the viewer had it
                city = ((await self.api.query("StoreCity", {"id": store["id"]}))["node"] or {}).get("city")
            self._city = city or ""
        return self._city

    async def load(self) -> None:
        """Her four boards in one request; overlapping calls (pushes, reconnects) make one more at most."""
        if self._loading is None or self._loading.done():
            self._loading = asyncio.ensure_future(self._load_until_current())
        else:
            self._load_again = True
        await asyncio.shield(self._loading)

    async def _load_until_current(self) -> None:
        self._load_again = True
        while self._load_again:
            self._load_again = False
            await self._load_once()

    @settles
    async def _load_once(self) -> None:
        month, day = periods(self.clock())
        self.busy = True
        try:
            variables = {"month": month, "day": day, "storeId": self._store_id(), "first": BOARD_SIZE}
            data = await self.api.query("MyPerformance", {**variables, "city": await self._store_city()})
        except RECOVERABLE as error:
            self.busy, self.offline = False, isinstance(error, Offline)
            self.fail(error)
            return
        self.boards = {name: data[name] for name in BOARDS}
        self.busy, self.loaded, self.offline, self.message = False, True, False, ""
        if self.live is not None:
            self._follow(month)
        self.changed()

    # --- live --------------------------------------------------------------------------------------

    async def on_board(self, data: dict) -> None:
        """Her store's month board, pushed: drawn at once; today's and the city's figures are asked for."""
        board = data["leaderboardChanged"]
        if board["period"] == (self.boards.get("storeMonth") or {}).get("period"):
            self.boards["storeMonth"] = board
            self.changed()
        await self.load()

    async def on_connection(self, connected: bool) -> None:
        if connected:
            await self.load()  # what was posted while the socket was down
        else:
            self.offline = True
            self.changed()

    # --- what the screen draws ---------------------------------------------------------------------

    def today(self) -> Figures:
        return figures_of(self.boards.get("storeDay"), self.boards.get("cityDay"))

    def this_month(self) -> Figures:
        return figures_of(self.boards.get("storeMonth"), self.boards.get("cityMonth"))

    def store_rows(self) -> list[BoardRow]:
        return board_rows(self.boards.get("storeMonth"))

    def city_rows(self) -> list[BoardRow]:
        return board_rows(self.boards.get("cityMonth"))

    def bars(self) -> list[Bar]:
        return chart_bars(self.boards.get("storeMonth"))

    @property
    def city(self) -> str:
        return self._city or ""

"""The customer 360° view, with her timeline read page by page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..api.client import GuideApi, utcnow
from ..i18n import _
from .base import RECOVERABLE, Presenter
from .formatting import booking_status, day_and_time, day_and_time_in, event_type, money, phone

TIMELINE_PAGE = 20


@dataclass(frozen=True)
class TimelineRow:
    when: str
    what: str
    detail: str


@dataclass(frozen=True)
class BookingRow:
    when: str
    store: str
    status: str


def timeline_row(event: dict, timezone: str | None, now: datetime) -> TimelineRow:
    details = [
        (event.get(key) or {}).get(name)
        for key, name in (("livestream", "title"), ("product", "name"), ("store", "name"))
    ]
    details.append(_purchase_amount(event))
    return TimelineRow(
        when=day_and_time_in(event["occurredAt"], timezone, now),
        what=event_type(event["type"]),
        detail=" · ".join(d for d in details if d),
    )


def _purchase_amount(event: dict) -> str | None:
    """What she paid, on a purchase (its amount is in fen, as the POS sent it)."""
    amount = (event.get("properties") or {}).get("amount")
    if event["type"] != "POS_PURCHASE" or not isinstance(amount, int) or isinstance(amount, bool):
        return None
    return money(amount, (event.get("properties") or {}).get("currency") or "CNY")


class CustomerPresenter(Presenter):
    def __init__(
        self,
        api: GuideApi,
        customer_id: str,
        timezone: str | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__()
        self.api = api
        self.clock = clock
        self.customer_id = customer_id
        self.timezone = timezone
        self.customer: dict | None = None
        self.events: list[dict] = []
        self.total_events = 0
        self._next_cursor: str | None = None
        self.has_more = False

    async def load(self) -> bool:
        try:
            data = await self.api.query("Customer360", {"id": self.customer_id, "first": TIMELINE_PAGE})
        except RECOVERABLE as error:
            self.fail(error)
            return False
        self.customer = data["customer"]
        if self.customer is None:
            self.message = _("Not found: it may have been cancelled.")
            self.changed()
            return False
        self.events = []
        self._take_page(self.customer["timeline"])
        self.message = ""
        self.changed()
        return True

    async def load_more(self) -> bool:
        if not self.has_more:
            return False
        try:
            data = await self.api.query(
                "CustomerTimeline", {"id": self.customer_id, "first": TIMELINE_PAGE, "after": self._next_cursor}
            )
        except RECOVERABLE as error:
            self.fail(error)
            return False
        self._take_page(data["customer"]["timeline"])
        self.changed()
        return True

    def _take_page(self, page: dict) -> None:
        self.events.extend(edge["node"] for edge in page["edges"])
        self.total_events = page["totalCount"]
        self.has_more = page["pageInfo"]["hasNextPage"]
        self._next_cursor = page["pageInfo"]["endCursor"]

    # --- what the screen shows ---------------------------------------------------------------------

    def timeline(self) -> list[TimelineRow]:
        now = self.clock()
        return [timeline_row(event, self.timezone, now) for event in self.events]

    def bookings(self) -> list[BookingRow]:
        """Her store visits, newest first (her bookings at your store, for store staff)."""
        edges = ((self.customer or {}).get("bookings") or {}).get("edges") or []
        now = self.clock()
        return [
            BookingRow(
                when=day_and_time_in(b["slotStart"], self.timezone, now),
                store=(b.get("store") or {}).get("name", ""),
                status=booking_status(b["status"]),
            )
            for b in (edge["node"] for edge in edges)
        ]

    def facts(self) -> list[tuple[str, str]]:
        """(label, value) lines of her profile."""
        c = self.customer or {}
        traits = c.get("traits") or {}
        value = c.get("lifetimeValue") or {"amount": 0, "currency": "CNY"}
        lines = [
            (_("Phone"), phone(c.get("phone")) + (_(" (masked)") if c.get("masked") else "")),
            (_("City"), traits.get("city") or ""),
            (_("Skin type"), traits.get("skinType") or ""),
            (_("Tags"), "、".join(c.get("tags") or [])),
            (_("Own guide"), (c.get("relationshipGuide") or {}).get("displayName", "")),
            (_("Purchases"), str(c.get("purchaseCount", 0))),
            (_("Lifetime value"), money(value["amount"], value["currency"])),
            (_("Last visit"), day_and_time(c.get("lastVisitAt"), self.timezone)),
            (_("Livestreams watched"), "、".join(s["title"] for s in c.get("livestreamsWatched") or [])),
            (_("Interested in"), "、".join(i["product"]["name"] for i in c.get("productsOfInterest") or [])),
            (_("Suggest"), "、".join(r["product"]["name"] for r in c.get("recommendations") or [])),
        ]
        return [(label, text) for label, text in lines if text]

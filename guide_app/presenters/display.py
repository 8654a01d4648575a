"""What the screens show, worked out from the presenters' state: plain Python (no Kivy), tested alone.

Kept apart from the presenters so their logic and their public API stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..i18n import _
from .formatting import phone, role
from .reception import ReceptionPresenter


@dataclass(frozen=True)
class ReceptionSummary:
    """The customer's card on the reception screen."""

    phone: str  # 139 0000 1111, with "(masked)" when the server masked it
    note: str  # what she wrote when she booked
    booked: list[str]  # the products she booked to see
    interests: list[str]  # what else she looked at (not booked)
    service: str


def reception_summary(p: ReceptionPresenter) -> ReceptionSummary:
    customer, booking = p.customer, p.booking
    number = phone(customer.get("phone")) or _("No phone")
    booked = [product["name"] for product in booking.get("products") or []]
    interests = [i["product"]["name"] for i in customer.get("productsOfInterest") or []]
    return ReceptionSummary(
        phone=_("{phone} (masked)").format(phone=number) if customer.get("masked") else number,
        note=(booking.get("note") or "").strip(),
        booked=booked,
        interests=[name for name in interests if name not in booked],
        service=(booking.get("service") or {}).get("name", ""),
    )


@dataclass(frozen=True)
class Outcome:
    """The end state of a reception: the screen shows it instead of check-in and the finish button."""

    title: str
    detail: str
    success: bool


def reception_outcome(p: ReceptionPresenter) -> Outcome | None:
    """None while the reception is still open."""
    status = (p.task or {}).get("status")
    if status == "DONE":
        return Outcome(
            _("Reception finished"),
            _("Well done: {customer} has been received.").format(customer=phone(p.customer_name)),
            True,
        )
    if status == "CANCELLED":
        return Outcome(_("This booking was cancelled"), _("Nothing more to do for this task."), False)
    return None


@dataclass(frozen=True)
class Profile:
    """The signed-in guide, for the top app bar and the 我的 tab."""

    name: str
    username: str
    role: str
    store: str


def profile(viewer: dict | None) -> Profile:
    viewer = viewer or {}
    return Profile(
        name=viewer.get("displayName") or "",
        username=viewer.get("username") or "",
        role=role(viewer.get("role")),
        store=(viewer.get("store") or {}).get("name") or "",
    )

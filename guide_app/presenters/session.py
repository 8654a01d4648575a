"""The signed-in guide's session: which screen is up, and what happens when the session ends."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from ..api.client import GuideApi, utcnow
from ..api.errors import Offline, SessionExpired, SessionRevoked
from ..api.live import Backoff
from ..i18n import N_, _
from .base import Presenter
from .checkout import STAGE_SCREENS, CheckoutPresenter
from .customer import CustomerPresenter
from .inbox import InboxPresenter
from .notifier import Notifier
from .performance import PerformancePresenter
from .reception import ReceptionPresenter
from .search import CustomerSearchPresenter
from .signin import SignInPresenter

log = logging.getLogger("guide_app")

# Bottom navigation ("me": her profile, sign-out).
TABS = [
    ("inbox", N_("Tasks")),
    ("checkout", N_("Checkout")),
    ("performance", N_("Performance")),
    ("me", N_("Me")),
]
# The 收银 tab's screens: finding the customer (a walk-in), then the sale's stages.
CHECKOUT_SCREENS = frozenset({"checkout_start", *STAGE_SCREENS.values()})


class SessionPresenter(Presenter):
    def __init__(
        self, api: GuideApi, notifier: Notifier, *, clock: Callable[[], datetime] = utcnow, backoff: Backoff = Backoff()
    ) -> None:
        super().__init__()
        self.api = api
        self.clock = clock
        self.backoff = backoff
        self.screen = "signin"
        self.signin = SignInPresenter(api, self._signed_in)
        self.inbox = InboxPresenter(api, notifier, self.session_expired, clock=clock, backoff=backoff)
        self.inbox.task_listeners.append(self._forward_to_reception)
        self.inbox.removal_listeners.append(self._task_given_away)
        self.reception: ReceptionPresenter | None = None
        self.customer: CustomerPresenter | None = None
        self.search: CustomerSearchPresenter | None = None
        self.customer_opened_from = "inbox"
        self.checkout: CheckoutPresenter | None = None
        self.checkout_search: CustomerSearchPresenter | None = None
        self.checkout_origin = "checkout_start"  # where the sale was started: "reception" or the 收银 tab
        self.confirming_sign_out = False  # the screen shows the "Sign out?" dialog while True
        self.performance = PerformancePresenter(api, self._viewer, clock=clock, backoff=backoff)
        self._opening: set[asyncio.Future] = set()  # tabs' loads started from a tap

    def _viewer(self) -> dict:
        tokens = self.api.tokens
        return tokens.viewer if tokens else {}

    @property
    def viewer_name(self) -> str:
        return self._viewer().get("displayName", "")

    def _forward_to_reception(self, task: dict) -> None:
        if self.reception is not None:
            self.reception.apply(task)

    def _task_given_away(self, task_id: str) -> None:
        """Her open reception closes when its task is given to someone else (no live buttons left)."""
        if self.reception is not None and self.reception.task_id == task_id:
            self.reception = None
            if self.screen == "reception":
                self.inbox.message = _("This task was given to another guide.")
                self._show("inbox")

    async def start(self) -> None:
        """Resume a session kept on the device, else show sign-in."""
        if not self.api.signed_in:
            self._show("signin")
            return
        await self.run(self._resume())

    async def _resume(self) -> None:
        # Signed in but offline: the inbox says so and the socket keeps trying.
        with contextlib.suppress(Offline):
            await self.api.fresh_access_token()
        await self._signed_in()

    async def _signed_in(self) -> None:
        self.signin.username = self._viewer().get("username") or self.signin.username
        log.info("signed in as %s", self.signin.username)
        self._show("inbox")
        await self.inbox.start()

    async def session_expired(self) -> None:
        await self.inbox.stop()
        await self.performance.stop()
        await self._close_checkout()
        self.api.store.clear()
        self.reception = self.customer = self.search = None
        self.confirming_sign_out = False
        revoked = isinstance(self.api.session_ended, SessionRevoked)
        log.info("session %s: back to sign-in", "ended by the server" if revoked else "expired")
        self.signin.session_expired(revoked=revoked)
        self._show("signin")

    # --- signing out (a shared store phone: ask first, leave nothing behind) -----------------------

    def ask_sign_out(self) -> None:
        """The sign-out button: ask before signing out (one stray tap must not end her shift)."""
        self.confirming_sign_out = True
        self.changed()

    def cancel_sign_out(self) -> None:
        self.confirming_sign_out = False
        self.changed()

    async def confirm_sign_out(self) -> None:
        """Sign out once she confirmed; without a question asked (a late second tap) nothing happens."""
        if not self.confirming_sign_out:
            return
        self.confirming_sign_out = False
        await self.sign_out()

    async def sign_out(self) -> None:
        """Revoke the refresh token on the server, forget the session and the password on the phone."""
        await self.inbox.stop()
        await self.performance.stop()
        await self._close_checkout()
        await self.api.sign_out()
        log.info("signed out")
        self.reception = self.customer = self.search = None
        self.signin.signed_out()
        self._show("signin")

    # --- navigation --------------------------------------------------------------------------------

    async def open_reception(self, task_id: str) -> ReceptionPresenter:
        self.reception = ReceptionPresenter(self.api, task_id, on_task_changed=self.inbox.apply)
        self._show("reception")
        await self.run(self.reception.load())
        return self.reception

    async def open_customer(self, customer_id: str, timezone: str | None = None) -> CustomerPresenter:
        self.customer_opened_from = self.screen if self.screen in ("reception", "search") else "inbox"
        self.customer = CustomerPresenter(self.api, customer_id, timezone, clock=self.clock)
        self._show("customer")
        await self.run(self.customer.load())
        return self.customer

    def back_from_customer(self) -> None:
        """Back to where her 360° view was opened: the reception, the search, or the inbox."""
        came_from = self.customer_opened_from
        if came_from == "reception" and self.reception is None:  # given away meanwhile
            came_from = "inbox"
        self._show(came_from)

    def customer_search(self) -> CustomerSearchPresenter:
        """Find a customer at her store (by name or phone), or serve a walk-in by her number."""
        store_id = (self._viewer().get("store") or {}).get("id", "")
        self.search = CustomerSearchPresenter(self.api, store_id, self._open_found_customer)
        self._show("search")
        return self.search

    async def _open_found_customer(self, customer_id: str) -> None:
        timezone = (self._viewer().get("store") or {}).get("timezone")
        await self.open_customer(customer_id, timezone)

    # --- 收银: selling, from a reception or to a walk-in -------------------------------------------

    def _store(self) -> dict:
        return self._viewer().get("store") or {}

    async def start_checkout(
        self, customer_id: str, booking_id: str | None = None, *, origin: str | None = None
    ) -> CheckoutPresenter:
        """A sale for her (with the booking she came with): the same sale again if one is under way for
        her, else a new one (a sale left unpaid for someone else is cancelled: its units go back)."""
        current = self.checkout
        if current is not None and current.customer_id == customer_id and current.booking_id == booking_id:
            self._show(current.screen)
            return current
        await self._close_checkout(abandon=True)
        self.checkout_origin = origin or ("reception" if self.screen == "reception" else "checkout_start")
        store = self._store()
        checkout = CheckoutPresenter(
            self.api,
            store.get("id", ""),
            customer_id,
            booking_id=booking_id,
            timezone=store.get("timezone"),
            run=self.run,
            backoff=self.backoff,
        )
        checkout.stage_listeners.append(self._checkout_stage)
        self.checkout = checkout
        self._show(checkout.screen)
        await self.run(checkout.load())
        return checkout

    def _checkout_stage(self, stage: str) -> None:
        """The sale moved on (paid live, say): its screen comes up if she is on the 收银 tab."""
        if self.screen in CHECKOUT_SCREENS and self.checkout is not None:
            self._show(self.checkout.screen)

    def open_checkout(self) -> None:
        """The 收银 tab: the sale under way, else finding the customer to sell to."""
        if self.checkout is not None:
            self._show(self.checkout.screen)
            return
        if self.checkout_search is None:
            self.checkout_search = CustomerSearchPresenter(self.api, self._store().get("id", ""), self._sell_to_found)
        self._show("checkout_start")

    async def _sell_to_found(self, customer_id: str) -> None:
        await self.start_checkout(customer_id, origin="checkout_start")

    async def finish_checkout(self) -> None:
        """完成 on the receipt, or 放弃 on the cart: back where the sale was started."""
        await self._close_checkout(abandon=True)
        self.checkout_search = None
        if self.checkout_origin == "reception" and self.reception is not None:
            self._show("reception")
            await self.run(self.reception.load())  # paid: her booking and its reception are done
        else:
            self.open_checkout()

    def leave_checkout(self) -> None:
        """The back arrow on a sale started from a reception: the reception (the sale waits on the 收银 tab)."""
        self._show("reception" if self.checkout_origin == "reception" and self.reception is not None else "inbox")

    async def _close_checkout(self, *, abandon: bool = False) -> None:
        checkout, self.checkout = self.checkout, None
        if checkout is None:
            return
        if abandon and not checkout.finished:
            await self.run(checkout.abandon())
        else:
            await checkout.close()

    # --- 业绩 ---------------------------------------------------------------------------------------

    async def open_performance(self) -> PerformancePresenter:
        """The 业绩 tab: her figures, loaded the first time and live from then on."""
        self._show("performance")
        await self.run(self.performance.start())
        return self.performance

    def go(self, screen: str) -> None:
        if screen == "checkout":
            self.open_checkout()
        elif screen == "performance":
            opening = asyncio.ensure_future(self.open_performance())
            self._opening.add(opening)  # the loop keeps only a weak reference
            opening.add_done_callback(self._opening.discard)
        else:
            self._show(screen)

    def _show(self, screen: str) -> None:
        self.screen = screen
        self.changed()

    # --- running actions ---------------------------------------------------------------------------

    async def run(self, action: Awaitable):
        """Run a screen's action: a spent session leads back to sign-in; nothing else crashes the app."""
        try:
            return await action
        except SessionExpired:
            await self.session_expired()
        except Exception:
            log.exception("unexpected failure in a screen action")
            self.message = _("Something went wrong. Please try again.")
            self.changed()
        return None

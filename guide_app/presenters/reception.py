"""Reception (the task's detail): who she is, the SOP to tick, check-in (from the task itself, by her QR
code scanned or typed, or by the 6-digit code she shows), completion."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass

from ..api.client import GuideApi
from ..api.live import older_copy
from ..i18n import _
from .base import RECOVERABLE, Presenter, settles
from .formatting import day_and_time, listing, task_status
from .messages import user_errors_message
from .scanning import decode_qr, decoder_available

# The check-in answers that mean "she is in" when a retry or a second scan repeats a check-in.
ALREADY_IN = {"ALREADY_CHECKED_IN"}
# What a guide may type between the digits of a check-in code ("123 456", "123-456").
CODE_SEPARATORS = re.compile(r"[\s\-]")
CODE_DIGITS = 6


def check_in_variables(typed: str) -> dict | None:
    """What to send for the text scanned or typed: six digits are her check-in code, anything else her
    QR token; other runs of digits are neither (None: no call to make)."""
    digits = CODE_SEPARATORS.sub("", typed)
    if digits.isdigit():
        return {"checkInCode": digits} if len(digits) == CODE_DIGITS else None
    return {"qrToken": typed}


@dataclass(frozen=True)
class StepRow:
    position: int
    title: str
    guidance: str
    required: bool
    done: bool


class ReceptionPresenter(Presenter):
    def __init__(self, api: GuideApi, task_id: str, on_task_changed: Callable[[dict], None] = lambda task: None):
        super().__init__()
        self.api = api
        self.task_id = task_id
        self.on_task_changed = on_task_changed
        self.task: dict | None = None
        self.qr_code = ""
        self.notice = ""
        self.camera = False  # the screen says whether this device has a camera it can open
        self.scanning = False
        self.checking_in = False  # a check-in is on its way: further taps and scans wait for its answer
        self._decoding = False
        self._toggling: set[int] = set()  # checklist rows whose change is on its way

    # --- loading -----------------------------------------------------------------------------------

    @settles
    async def load(self) -> bool:
        self.busy = True
        self.changed()
        try:
            task = (await self.api.query("TaskDetail", {"id": self.task_id}))["node"]
        except RECOVERABLE as error:
            self.busy = False
            self.fail(error)
            return False
        self.busy = False
        if task is None:
            self.message = _("Not found: it may have been cancelled.")
        else:
            self._take(task)
        self.changed()
        return task is not None

    def _take(self, task: dict) -> None:
        """Keep the detail-only fields (interests, visits) when a mutation answers the shorter task;
        an older copy than the one shown (a late live event or read) changes nothing."""
        if older_copy(task, self.task):
            return
        previous = (self.task or {}).get("customer") or {}
        customer = {**previous, **(task.get("customer") or {})} if task.get("customer") else None
        self.task = {**task, "customer": customer}
        self.on_task_changed(self.task)

    def apply(self, task: dict) -> None:
        """The same task changed elsewhere (a live event)."""
        if task["id"] == self.task_id and self.task is not None:
            self._take(task)
            self.changed()

    # --- what the screen shows ---------------------------------------------------------------------

    @property
    def customer(self) -> dict:
        return (self.task or {}).get("customer") or {}

    @property
    def booking(self) -> dict:
        return (self.task or {}).get("booking") or {}

    @property
    def customer_name(self) -> str:
        return self.customer.get("displayName") or _("Customer")

    @property
    def phone(self) -> str:
        phone = self.customer.get("phone") or _("No phone")
        return _("{phone} (masked)").format(phone=phone) if self.customer.get("masked") else phone

    @property
    def tags(self) -> list[str]:
        return list(self.customer.get("tags") or [])

    @property
    def livestream_title(self) -> str:
        return (self.booking.get("livestream") or {}).get("title", "")

    @property
    def talking_points(self) -> list[str]:
        return list((self.booking.get("livestream") or {}).get("talkingPoints") or [])

    @property
    def products(self) -> list[str]:
        wanted = [p["name"] for p in self.booking.get("products") or []]
        interests = [i["product"]["name"] for i in self.customer.get("productsOfInterest") or []]
        return wanted + [name for name in interests if name not in wanted]

    @property
    def slot(self) -> str:
        return day_and_time(self.booking.get("slotStart"), ((self.task or {}).get("store") or {}).get("timezone"))

    @property
    def status(self) -> str:
        return task_status((self.task or {}).get("status", ""))

    @property
    def checked_in(self) -> bool:
        return self.booking.get("status") in ("CHECKED_IN", "COMPLETED")

    @property
    def steps(self) -> list[StepRow]:
        return [
            StepRow(s["position"], s["title"], s["guidance"], s["required"], s["doneAt"] is not None)
            for s in (self.task or {}).get("steps") or []
        ]

    @property
    def open_required_steps(self) -> list[str]:
        return [step.title for step in self.steps if step.required and not step.done]

    @property
    def finished(self) -> bool:
        return (self.task or {}).get("status") in ("DONE", "CANCELLED")

    # --- actions -----------------------------------------------------------------------------------

    async def tick(self, position: int) -> bool:
        return await self._task_mutation(
            "TaskStepComplete", "taskStepComplete", {"taskId": self.task_id, "position": position}
        )

    async def untick(self, position: int) -> bool:
        """A step ticked by mistake, while she is still being received."""
        return await self._task_mutation(
            "TaskStepReopen", "taskStepReopen", {"taskId": self.task_id, "position": position}
        )

    async def toggle(self, position: int) -> bool:
        """The checklist row: ticks an open step, unticks a done one (not once the reception is over)."""
        step = next((s for s in self.steps if s.position == position), None)
        if step is None or self.finished or position in self._toggling:  # a second tap on a row in flight
            return False
        self._toggling.add(position)
        try:
            return await (self.untick(position) if step.done else self.tick(position))
        finally:
            self._toggling.discard(position)

    def edit_code(self, code: str) -> None:
        self.qr_code = code

    # --- scanning her QR with the camera (code entry always stays) ---------------------------------

    def set_camera(self, available: bool) -> None:
        self.camera = available
        if not self.can_scan:
            self.scanning = False
        self.changed()

    @property
    def can_scan(self) -> bool:
        return self.camera and decoder_available()

    @property
    def scan_note(self) -> str:
        """Why there is no scan button (empty when there is one)."""
        if self.can_scan:
            return ""
        if not self.camera:
            return _("No camera here: type in her 6-digit code.")
        return _("This build cannot read QR codes: type in her 6-digit code.")

    def start_scan(self) -> bool:
        if not self.can_scan:
            self.message = self.scan_note
            self.changed()
            return False
        self.scanning, self.message, self.notice = True, "", ""
        self.changed()
        return True

    def stop_scan(self, message: str = "") -> None:
        self.scanning = False
        self.message = message
        self.changed()

    async def scan_frame(self, pixels: bytes, size: tuple[int, int], pixel_format: str = "rgba") -> bool:
        """Look for her QR code in a camera frame; when there is one, stop scanning and check her in.

        Frames that come while one is being decoded are skipped (the camera keeps sending them).
        """
        if not self.scanning or self._decoding:
            return False
        self._decoding = True
        try:
            code = await asyncio.to_thread(decode_qr, pixels, size, pixel_format)
        finally:
            self._decoding = False
        if code is None or not self.scanning:
            return False
        self.scanning = False
        self.edit_code(code)
        self.changed()
        return await self.check_in()

    async def check_in(self) -> bool:
        """Check her in with the scanned or typed QR code, or the 6-digit code she shows; what was typed
        stays when it is refused."""
        code = self.qr_code.strip()
        if not code:
            self.message = _("Scan her QR code or type in her 6-digit code.")
            self.changed()
            return False
        variables = check_in_variables(code)
        if variables is None:
            self.message = _("A check-in code has 6 digits.")
            self.changed()
            return False
        return await self._check_in(variables)

    async def check_in_from_task(self) -> bool:
        """She is here: check in this task's booking without any code."""
        booking_id = self.booking.get("id")
        if not booking_id:
            self.message = _("This task has no booking to check in.")
            self.changed()
            return False
        return await self._check_in({"bookingId": booking_id})

    async def _check_in(self, variables: dict) -> bool:
        """One check-in at a time: a second tap (or a scanned frame) while one is on its way does nothing."""
        if self.checking_in:
            return False
        self.checking_in, self.busy = True, True
        self.changed()
        try:
            payload = (await self.api.mutate("BookingCheckIn", variables))["bookingCheckIn"]
        except RECOVERABLE as error:
            self.checking_in, self.busy = False, False
            self.fail(error)
            return False
        finally:  # whatever else ends it (a lost session, a cancelled task): the next tap may try again
            self.checking_in, self.busy = False, False
        refused = [e for e in payload["errors"] if e["code"] not in ALREADY_IN]
        if refused:
            self.message = user_errors_message(refused)
            self.changed()
            return False
        booking = payload["booking"]
        if booking is not None and booking["id"] != self.booking.get("id"):
            self.notice = _("Checked in, but this code belongs to another customer's booking.")
        else:
            self.notice = _("Checked in.")
        self.qr_code, self.message = "", ""
        await self.load()
        return True

    async def complete(self) -> bool:
        if self.open_required_steps:
            self.message = _("Finish the required steps first: {steps}").format(steps=listing(self.open_required_steps))
            self.changed()
            return False
        return await self._task_mutation("TaskComplete", "taskComplete", {"id": self.task_id})

    @settles
    async def _task_mutation(self, operation: str, field: str, variables: dict) -> bool:
        self.busy = True
        self.changed()
        try:
            payload = (await self.api.mutate(operation, variables))[field]
        except RECOVERABLE as error:
            self.busy = False
            self.fail(error)
            return False
        self.busy = False
        if payload["errors"]:
            await self.load()  # the task changed meanwhile (or a lost answer's retry): show it as it is
            self.message = user_errors_message(payload["errors"])
            self.changed()
            return False
        self._take(payload["task"])
        self.message = ""
        self.changed()
        return True

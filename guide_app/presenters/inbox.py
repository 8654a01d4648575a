"""The task inbox: live through ``myTasks``, caught up after every reconnect, sorted by slot time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..api.client import GuideApi, utcnow
from ..api.errors import Offline
from ..api.live import Backoff, LiveHandlers, LiveTasks, older_copy
from ..api.tokens import parse_instant
from ..i18n import N_, _
from .base import RECOVERABLE, Presenter, settles
from .formatting import countdown, day_and_time, local, phone, task_status
from .messages import user_errors_message
from .notifier import Notifier

ACTIVE = ["OPEN", "ACKNOWLEDGED", "IN_PROGRESS"]
FILTERS = {"all": N_("All"), "today": N_("Today"), "open": N_("Open"), "escalated": N_("Escalated")}
PAGE_SIZE = 100
# What raises a notification, by the live event's kind: (title, banner with {customer} and {slot}).
ALERTS = {
    "NEW_HIGH": (N_("New high-priority task"), N_("New livestream customer: {customer}, {slot}")),
    "CREATED": (N_("New task"), N_("New customer: {customer}, {slot}")),
    "REASSIGNED": (N_("A task was handed to you"), N_("Handed to you: {customer}, {slot}")),
    "ESCALATED": (N_("A task was handed to you"), N_("Handed to you: {customer}, {slot}")),
    "REMINDER": (N_("Customer arriving soon"), N_("Arriving soon: {customer}, {slot}")),
}
# Catch-up asks from a little before the newest change it saw: replicas' clocks differ slightly,
# and several changes can share one instant. Tasks are merged by id, so overlap costs nothing.
CATCH_UP_OVERLAP = timedelta(seconds=5)


@dataclass(frozen=True)
class TaskRow:
    """One line of the inbox."""

    id: str
    customer: str
    slot: str
    status: str
    high_priority: bool
    escalated: bool
    can_acknowledge: bool
    livestream: str
    ack_due_at: str | None = None  # the SLA deadline to acknowledge (OPEN tasks only)
    done: bool = False  # DONE or CANCELLED: drawn quietly, never as high priority

    @property
    def flagged(self) -> bool:
        """High priority that still matters: a done task is not urgent any more."""
        return self.high_priority and not self.done


def task_row(task: dict) -> TaskRow:
    timezone = (task.get("store") or {}).get("timezone")
    livestream = ((task.get("booking") or {}).get("livestream") or {}).get("title", "")
    return TaskRow(
        id=task["id"],
        customer=phone((task.get("customer") or {}).get("displayName")) or _("Customer"),  # a name or her phone
        slot=day_and_time(task["dueAt"], timezone),
        status=task_status(task["status"]),
        high_priority=task["priority"] == "HIGH",
        escalated=task["escalated"],
        can_acknowledge=task["status"] == "OPEN",
        livestream=livestream,
        ack_due_at=task.get("ackDueAt") if task["status"] == "OPEN" else None,
        done=task["status"] in ("DONE", "CANCELLED"),
    )


class InboxPresenter(Presenter):
    def __init__(
        self,
        api: GuideApi,
        notifier: Notifier,
        on_session_expired: Callable[[], Awaitable[None]],
        *,
        clock: Callable[[], datetime] = utcnow,
        backoff: Backoff = Backoff(),
    ) -> None:
        super().__init__()
        self.api = api
        self.notifier = notifier
        self.clock = clock
        self.tasks: dict[str, dict] = {}
        self._acknowledging: set[str] = set()  # tasks whose 确认 is on its way
        self._alerted: set[tuple[str, str, str]] = set()  # (task id, kind, updatedAt): events come at least once
        self.filter = "all"
        self.banner = ""
        self.offline = False
        self.task_listeners: list[Callable[[dict], None]] = []  # other screens showing the same tasks
        self.removal_listeners: list[Callable[[str], None]] = []  # told when a task is given away from her
        self.live = LiveTasks(
            api,
            LiveHandlers(
                on_event=self.on_live_event,
                on_connected=self.catch_up,
                on_disconnected=self.went_offline,
                on_session_expired=on_session_expired,
            ),
            backoff=backoff,
        )

    # --- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.refresh()
        self.live.start()

    async def stop(self) -> None:
        await self.live.stop()
        self.tasks.clear()
        self._alerted.clear()
        self.banner = self.message = ""

    # --- loading -----------------------------------------------------------------------------------

    @settles
    async def refresh(self) -> None:
        """Reload every active task (the manual refresh)."""
        self.busy = True
        self.changed()
        try:
            tasks = await self._pages({"status": ACTIVE})
        except RECOVERABLE as error:
            self.busy, self.offline = False, isinstance(error, Offline)
            self.fail(error)
            return
        self.tasks = {task["id"]: task for task in tasks}
        self.busy, self.offline, self.message = False, False, ""
        self.changed()

    async def catch_up(self) -> None:
        """After a (re)connect: what changed while the socket was down. Offline propagates (retry)."""
        newest = self.newest_change()
        if newest is None:
            tasks, removed = await self._pages({"status": ACTIVE}), []
        else:
            since = (newest - CATCH_UP_OVERLAP).isoformat()
            tasks = await self._pages({"updatedAfter": since})
            removed = (await self.api.query("MyRemovedTaskIds", {"updatedAfter": since}))["myRemovedTaskIds"]
        if self.offline:
            self.offline, self.message = False, ""
        for task in tasks:
            new = task["id"] not in self.tasks
            self._merge(task)
            if new and task["status"] in ACTIVE:  # came in while she was offline
                self._alert("CREATED", task)
        for task_id in removed:
            self._remove(task_id)
        self.changed()

    async def _pages(self, variables: dict) -> list[dict]:
        tasks, after = [], None
        while True:
            page = await self.api.query("MyTaskList", {**variables, "first": PAGE_SIZE, "after": after})
            connection = page["myTaskList"]
            tasks.extend(edge["node"] for edge in connection["edges"])
            if not connection["pageInfo"]["hasNextPage"]:
                return tasks
            after = connection["pageInfo"]["endCursor"]

    def newest_change(self) -> datetime | None:
        return max((parse_instant(t["updatedAt"]) for t in self.tasks.values()), default=None)

    # --- live --------------------------------------------------------------------------------------

    async def on_live_event(self, kind: str, task: dict) -> None:
        if kind == "REMOVED":
            self._remove(task["id"])
        else:
            new = task["id"] not in self.tasks
            self._merge(task)
            if kind in ALERTS and (new or kind != "CREATED"):
                self._alert(kind, task)
            for listener in self.task_listeners:
                listener(task)
        self.changed()

    def _remove(self, task_id: str) -> None:
        """Given to someone else: out of her list, and out of any screen showing it."""
        self.tasks.pop(task_id, None)
        for listener in self.removal_listeners:
            listener(task_id)

    async def went_offline(self, reason: str) -> None:
        self.offline = True
        self.changed()

    def _merge(self, task: dict) -> None:
        if not older_copy(task, self.tasks.get(task["id"])):
            self.tasks[task["id"]] = task

    def _alert(self, kind: str, task: dict) -> None:
        """The banner, a system notification and a vibration; once per piece of news."""
        if kind == "CREATED" and task["priority"] == "HIGH":
            kind = "NEW_HIGH"
        news = (task["id"], kind, task["updatedAt"])
        if news in self._alerted:
            return
        self._alerted.add(news)
        title, banner = ALERTS[kind]
        row = task_row(task)
        self.banner = _(banner).format(customer=row.customer, slot=row.slot)
        self.notifier.notify(_(title), self.banner)
        self.notifier.vibrate()

    def dismiss_banner(self) -> None:
        self.banner = ""
        self.changed()

    # --- the list ----------------------------------------------------------------------------------

    def set_filter(self, name: str) -> None:
        if name not in FILTERS:
            raise ValueError(f"unknown filter {name!r}")
        self.filter = name
        self.changed()

    def rows(self) -> list[TaskRow]:
        chosen = [task for task in self.tasks.values() if self._shown(task)]
        return [task_row(task) for task in sorted(chosen, key=lambda t: (t["dueAt"], t["id"]))]

    def _shown(self, task: dict) -> bool:
        if self.filter == "open":
            return task["status"] in ACTIVE
        if self.filter == "escalated":
            return task["escalated"]
        if self.filter == "today":
            timezone = (task.get("store") or {}).get("timezone")
            return local(task["dueAt"], timezone).date() == local(self.clock(), timezone).date()
        return True

    def ack_countdown(self, row: TaskRow) -> tuple[str, bool]:
        """The time left to acknowledge (the SLA), or how late it is, and whether it is (nearly) late;
        the screen asks again every second."""
        return countdown(row.ack_due_at, self.clock())

    # --- actions -----------------------------------------------------------------------------------

    async def acknowledge(self, task_id: str) -> bool:
        """确认 on a task; a second tap while the first is out sends nothing."""
        if task_id in self._acknowledging:
            return False
        self._acknowledging.add(task_id)
        try:
            payload = (await self.api.mutate("TaskAcknowledge", {"id": task_id}))["taskAcknowledge"]
        except RECOVERABLE as error:
            self.fail(error)
            return False
        finally:
            self._acknowledging.discard(task_id)
        if payload["errors"]:
            await self._reload_task(task_id)
            self.message = user_errors_message(payload["errors"])
            self.changed()
            return self.tasks.get(task_id, {}).get("status") == "ACKNOWLEDGED"  # a retry that had landed
        self._merge(payload["task"])
        self.message = ""
        self.changed()
        return True

    async def _reload_task(self, task_id: str) -> None:
        try:
            task = (await self.api.query("TaskDetail", {"id": task_id}))["node"]
        except RECOVERABLE:
            return
        if task is None:
            self.tasks.pop(task_id, None)
        else:
            self._merge(task)

    def apply(self, task: dict) -> None:
        """A change made elsewhere in the app (the reception screen)."""
        self._merge(task)
        self.changed()

"""The presenters' rules on their own: no server, no Kivy window. A fake API answers each operation as
scripted and records what was asked; the tests read the state a screen would draw.

The same presenters against the real server are in test_reception_flow.py, test_resilience.py and
test_scanning.py.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from guide_app.api.errors import Offline, ServerError
from guide_app.i18n import _
from guide_app.presenters.customer import CustomerPresenter
from guide_app.presenters.formatting import task_status
from guide_app.presenters.inbox import InboxPresenter
from guide_app.presenters.messages import USER_ERROR_MESSAGES
from guide_app.presenters.notifier import RecordingNotifier
from guide_app.presenters.performance import PerformancePresenter
from guide_app.presenters.reception import ReceptionPresenter
from guide_app.presenters.signin import SignInPresenter


class FakeApi:
    """Answers operations from a script: per operation a list of answers, taken in turn (an exception is
    raised, a function is called with the variables); every call is recorded."""

    def __init__(self, **script) -> None:
        self.script = {operation: list(answers) for operation, answers in script.items()}
        self.calls: list[tuple[str, dict]] = []

    def answer(self, operation: str, variables: dict):
        self.calls.append((operation, variables))
        answers = self.script.get(operation)
        if not answers:
            raise AssertionError(f"unexpected {operation} {variables}")
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer(variables) if callable(answer) else answer

    async def query(self, operation: str, variables: dict) -> dict:
        return self.answer(operation, variables)

    async def mutate(self, operation: str, variables: dict) -> dict:
        return self.answer(operation, variables)

    async def sign_in(self, username: str, password: str) -> list[dict]:
        return self.answer("StaffLogin", {"username": username, "password": password})

    def asked(self, operation: str) -> list[dict]:
        return [variables for name, variables in self.calls if name == operation]


def watched(presenter) -> list[bool]:
    """The presenter's ``busy`` at each change it announced (what the screen drew)."""
    seen: list[bool] = []
    presenter.subscribe(lambda p: seen.append(p.busy))
    return seen


OFFLINE = Offline("connection refused")
WRONG_PASSWORD = "用户名或密码错误。"


# --- sign-in -----------------------------------------------------------------------------------------


def signin(api: FakeApi) -> tuple[SignInPresenter, list[str]]:
    arrived: list[str] = []

    async def signed_in() -> None:
        arrived.append("inbox")

    return SignInPresenter(api, signed_in), arrived


async def test_sign_in_with_an_empty_field_asks_for_both_without_calling_the_server():
    api = FakeApi()
    presenter, arrived = signin(api)
    presenter.edit(username="  ", password="secret")
    assert await presenter.sign_in() is False
    assert presenter.message == _("Enter your username and password.")
    assert api.calls == [] and arrived == []


async def test_sign_in_sends_the_trimmed_username_then_forgets_the_password():
    api = FakeApi(StaffLogin=[[]])
    presenter, arrived = signin(api)
    busy = watched(presenter)
    presenter.edit(username=" sh.guide ", password="long enough pw")
    assert await presenter.sign_in() is True
    assert api.asked("StaffLogin") == [{"username": "sh.guide", "password": "long enough pw"}]
    assert (presenter.username, presenter.password, presenter.message) == (" sh.guide ", "", "")
    assert arrived == ["inbox"] and busy == [True, False]


async def test_a_refused_sign_in_says_why_and_keeps_what_she_typed():
    presenter, arrived = signin(FakeApi(StaffLogin=[[{"code": "INVALID_CREDENTIALS", "message": "no"}]]))
    presenter.edit(username="sh.guide", password="not her password")
    assert await presenter.sign_in() is False
    assert presenter.message == WRONG_PASSWORD
    assert (presenter.username, presenter.password, presenter.busy) == ("sh.guide", "not her password", False)
    assert arrived == []


async def test_sign_in_without_a_network_says_so_and_keeps_what_she_typed():
    presenter, arrived = signin(FakeApi(StaffLogin=[OFFLINE]))
    presenter.edit(username="sh.guide", password="pw")
    assert await presenter.sign_in() is False
    assert presenter.message == _("Cannot reach the server. Check the network and try again.")
    assert presenter.password == "pw" and not presenter.busy and arrived == []


def test_a_spent_session_leads_back_with_her_username_and_no_password():
    presenter, _arrived = signin(FakeApi())
    presenter.edit(username="sh.guide", password="pw")
    presenter.session_expired()
    assert (presenter.username, presenter.password) == ("sh.guide", "")
    assert presenter.message == _("Your session has expired. Please sign in again.")
    presenter.session_expired("bj.guide")
    assert presenter.username == "bj.guide"


# --- reception ---------------------------------------------------------------------------------------

TASK_ID, BOOKING_ID = "VGFzazox", "Qm9va2luZzox"


def step(position: int, title: str, required: bool = True, done: bool = False) -> dict:
    done_at = "2026-12-07T07:00:00+00:00" if done else None
    return {"position": position, "title": title, "guidance": "", "required": required, "doneAt": done_at}


def task(
    status: str = "ACKNOWLEDGED",
    booking_status: str = "CONFIRMED",
    steps=None,
    updated_at: str = "2026-12-07T06:20:00Z",
    **customer,
) -> dict:
    return {
        "id": TASK_ID,
        "status": status,
        "updatedAt": updated_at,
        "store": {"timezone": "Asia/Shanghai"},
        "customer": {"displayName": "王女士", "phone": "+8613812345678", "masked": False, **customer},
        "booking": {
            "id": BOOKING_ID,
            "status": booking_status,
            "slotStart": "2026-12-07T07:00:00+00:00",
            "livestream": {"title": "双十一美妆专场", "talkingPoints": ["精华买一送一"]},
            "products": [{"name": "精华"}],
        },
        "steps": [step(1, "到店问候"), step(2, "试用", required=False)] if steps is None else steps,
    }


def detail(**customer) -> dict:
    """TaskDetail's answer: the customer with her detail-only fields."""
    interests = [{"product": {"name": "唇膏"}}, {"product": {"name": "精华"}}]
    return {"node": task(productsOfInterest=interests, tags=["VIP"], **customer)}


async def loaded(api: FakeApi) -> ReceptionPresenter:
    presenter = ReceptionPresenter(api, TASK_ID)
    assert await presenter.load()
    return presenter


async def test_reception_shows_her_summary_with_the_products_she_wants_first():
    presenter = await loaded(FakeApi(TaskDetail=[detail()]))
    assert (presenter.customer_name, presenter.phone, presenter.tags) == ("王女士", "+8613812345678", ["VIP"])
    assert presenter.products == ["精华", "唇膏"]  # booked first, interests after, none twice
    assert (presenter.livestream_title, presenter.talking_points) == ("双十一美妆专场", ["精华买一送一"])
    assert [(s.position, s.required, s.done) for s in presenter.steps] == [(1, True, False), (2, False, False)]
    assert presenter.open_required_steps == ["到店问候"]
    assert not presenter.checked_in and not presenter.finished


async def test_a_masked_phone_says_it_is_masked():
    presenter = await loaded(FakeApi(TaskDetail=[detail(phone="138****5678", masked=True)]))
    assert presenter.phone == _("{phone} (masked)").format(phone="138****5678")


async def test_a_task_gone_meanwhile_says_so():
    presenter = ReceptionPresenter(FakeApi(TaskDetail=[{"node": None}]), TASK_ID)
    assert await presenter.load() is False
    assert presenter.message == _("Not found: it may have been cancelled.") and presenter.task is None


async def test_reception_cannot_be_completed_with_required_steps_open():
    api = FakeApi(TaskDetail=[detail()])
    presenter = await loaded(api)
    assert await presenter.complete() is False
    assert "到店问候" in presenter.message
    assert api.asked("TaskComplete") == []


async def test_a_ticked_step_keeps_the_customers_detail_and_tells_the_inbox():
    told: list[dict] = []
    ticked = task(steps=[step(1, "到店问候", done=True), step(2, "试用", required=False)])
    api = FakeApi(TaskDetail=[detail()], TaskStepComplete=[{"taskStepComplete": {"task": ticked, "errors": []}}])
    presenter = ReceptionPresenter(api, TASK_ID, on_task_changed=told.append)
    await presenter.load()
    busy = watched(presenter)
    assert await presenter.tick(1) is True
    assert api.asked("TaskStepComplete") == [{"taskId": TASK_ID, "position": 1}]
    assert presenter.open_required_steps == [] and presenter.products == ["精华", "唇膏"]  # interests kept
    assert told[-1]["steps"][0]["doneAt"] is not None and busy == [True, False]


async def test_a_refused_step_reloads_the_task_and_says_why():
    refused = {"taskStepComplete": {"task": None, "errors": [{"code": "NOT_ASSIGNED_TO_YOU", "message": "no"}]}}
    api = FakeApi(TaskDetail=[detail()], TaskStepComplete=[refused])
    presenter = await loaded(api)
    assert await presenter.tick(1) is False
    assert len(api.asked("TaskDetail")) == 2
    assert presenter.message == _("This task is now assigned to another guide.")


async def test_a_step_ticked_offline_shows_the_failure_not_a_crash():
    presenter = await loaded(FakeApi(TaskDetail=[detail()], TaskStepComplete=[OFFLINE]))
    assert await presenter.tick(1) is False
    assert presenter.message == _("Cannot reach the server. Check the network and try again.")
    assert not presenter.busy


async def test_check_in_needs_a_code():
    api = FakeApi(TaskDetail=[detail()])
    presenter = await loaded(api)
    presenter.edit_code("   ")
    assert await presenter.check_in() is False
    assert presenter.message == _("Scan her QR code or type in her 6-digit code.") and api.asked("BookingCheckIn") == []


async def test_a_refused_code_keeps_it_for_the_guide():
    refused = {"bookingCheckIn": {"booking": None, "errors": [{"code": "INVALID_QR_TOKEN", "message": "no"}]}}
    presenter = await loaded(FakeApi(TaskDetail=[detail()], BookingCheckIn=[refused]))
    presenter.edit_code("NOT-A-BOOKING-QR")
    assert await presenter.check_in() is False
    assert presenter.message == "二维码无效或已过期。" and presenter.qr_code == "NOT-A-BOOKING-QR"


@pytest.mark.parametrize("errors", [[], [{"code": "ALREADY_CHECKED_IN", "message": "again"}]], ids=["new", "repeat"])
async def test_a_check_in_or_its_repeat_checks_her_in_and_reloads(errors):
    answer = {"bookingCheckIn": {"booking": {"id": BOOKING_ID}, "errors": errors}}
    api = FakeApi(TaskDetail=[detail(), {"node": task(booking_status="CHECKED_IN")}], BookingCheckIn=[answer])
    presenter = await loaded(api)
    presenter.edit_code(" qr-token ")
    assert await presenter.check_in() is True
    assert api.asked("BookingCheckIn") == [{"qrToken": "qr-token"}]
    assert (presenter.notice, presenter.message, presenter.qr_code) == ("已签到。", "", "")
    assert presenter.checked_in


async def test_a_code_of_another_booking_checks_that_one_in_and_says_so():
    answer = {"bookingCheckIn": {"booking": {"id": "Qm9va2luZzo5"}, "errors": []}}
    presenter = await loaded(FakeApi(TaskDetail=[detail()], BookingCheckIn=[answer]))
    presenter.edit_code("her-friends-code")
    assert await presenter.check_in() is True
    assert presenter.notice == _("Checked in, but this code belongs to another customer's booking.")


@pytest.mark.parametrize("typed", ["123456", " 123 456 ", "123-456"])
async def test_six_digits_are_her_check_in_code(typed):
    answer = {"bookingCheckIn": {"booking": {"id": BOOKING_ID}, "errors": []}}
    api = FakeApi(TaskDetail=[detail(), {"node": task(booking_status="CHECKED_IN")}], BookingCheckIn=[answer])
    presenter = await loaded(api)
    presenter.edit_code(typed)
    assert await presenter.check_in() is True
    assert api.asked("BookingCheckIn") == [{"checkInCode": "123456"}]
    assert presenter.notice == "已签到。" and presenter.checked_in


@pytest.mark.parametrize("typed", ["12345", "1234567", "12 34"])
async def test_digits_that_are_not_six_are_refused_without_asking_the_server(typed):
    api = FakeApi(TaskDetail=[detail()])
    presenter = await loaded(api)
    presenter.edit_code(typed)
    assert await presenter.check_in() is False
    assert presenter.message == "核销码为 6 位数字，请核对后重新输入。" and presenter.qr_code == typed
    assert api.asked("BookingCheckIn") == []


@pytest.mark.parametrize(
    "error, message",
    [
        (
            {"code": "INVALID_CHECK_IN_CODE", "message": "no"},
            "本店没有使用此核销码且当前可签到的预约：请核对数字和顾客的预约时间。",
        ),
        (
            {"code": "RATE_LIMITED", "message": "too many", "retryAfter": 412},
            "尝试次数过多，请 412 秒后再试，或扫描顾客的二维码。",
        ),
        ({"code": "RATE_LIMITED", "message": "too many"}, "尝试次数过多，请稍后再试，或扫描顾客的二维码。"),
    ],
    ids=["no such booking", "limited", "limited, no wait given"],
)
async def test_a_refused_check_in_code_says_why_in_chinese_and_keeps_it(error, message):
    refused = {"bookingCheckIn": {"booking": None, "errors": [error]}}
    presenter = await loaded(FakeApi(TaskDetail=[detail()], BookingCheckIn=[refused]))
    presenter.edit_code("654321")
    assert await presenter.check_in() is False
    assert presenter.message == message and presenter.qr_code == "654321"
    assert not presenter.checked_in and not presenter.checking_in and not presenter.busy


async def test_check_in_from_the_task_sends_its_booking():
    answer = {"bookingCheckIn": {"booking": {"id": BOOKING_ID}, "errors": []}}
    api = FakeApi(TaskDetail=[detail(), {"node": task(booking_status="CHECKED_IN")}], BookingCheckIn=[answer])
    presenter = await loaded(api)
    assert await presenter.check_in_from_task() is True
    assert api.asked("BookingCheckIn") == [{"bookingId": BOOKING_ID}]
    assert presenter.notice == "已签到。" and presenter.checked_in


@pytest.mark.parametrize("code", ["CHECK_IN_TOO_EARLY", "CHECK_IN_TOO_LATE", "INVALID_STATE"])
async def test_check_in_from_the_task_out_of_its_window_says_why(code):
    refused = {"bookingCheckIn": {"booking": None, "errors": [{"code": code, "message": "no"}]}}
    presenter = await loaded(FakeApi(TaskDetail=[detail()], BookingCheckIn=[refused]))
    assert await presenter.check_in_from_task() is False
    assert presenter.message == _(USER_ERROR_MESSAGES[code]) and presenter.message.isascii() is False


async def test_a_second_tap_while_a_check_in_is_on_its_way_does_nothing():
    answered = asyncio.Event()
    answer = {"bookingCheckIn": {"booking": {"id": BOOKING_ID}, "errors": []}}

    class SlowApi(FakeApi):
        async def mutate(self, operation: str, variables: dict) -> dict:
            self.calls.append((operation, variables))
            await answered.wait()
            return answer

    api = SlowApi(TaskDetail=[detail(), {"node": task(booking_status="CHECKED_IN")}])
    presenter = await loaded(api)
    drawn = watched(presenter)
    first = asyncio.ensure_future(presenter.check_in_from_task())
    await asyncio.sleep(0)
    assert presenter.checking_in and presenter.busy and drawn[-1] is True
    presenter.edit_code("123456")
    assert await presenter.check_in_from_task() is False  # the second tap
    assert await presenter.check_in() is False  # or the code typed meanwhile
    answered.set()
    assert await first is True
    assert len(api.asked("BookingCheckIn")) == 1 and not presenter.checking_in and presenter.checked_in


async def test_a_check_in_offline_says_so_and_the_next_tap_tries_again():
    answer = {"bookingCheckIn": {"booking": {"id": BOOKING_ID}, "errors": []}}
    api = FakeApi(TaskDetail=[detail(), {"node": task(booking_status="CHECKED_IN")}], BookingCheckIn=[OFFLINE, answer])
    presenter = await loaded(api)
    assert await presenter.check_in_from_task() is False
    assert presenter.message == _("Cannot reach the server. Check the network and try again.")
    assert not presenter.checking_in and not presenter.busy
    assert await presenter.check_in_from_task() is True


async def test_a_live_change_of_this_task_is_shown_and_others_are_not():
    presenter = await loaded(FakeApi(TaskDetail=[detail()]))
    presenter.apply({**task(status="CANCELLED"), "id": "VGFzazo5"})
    assert not presenter.finished
    presenter.apply(task(status="CANCELLED"))
    assert presenter.finished and presenter.tags == ["VIP"]


async def test_an_older_copy_arriving_late_does_not_undo_what_is_shown():
    """The task reaches the screen from the socket, its own reads and mutations' answers, in no promised
    order: a copy older than the one shown (the check-in's event after the completion) changes nothing."""
    done = task(status="DONE", booking_status="COMPLETED", updated_at="2026-12-07T07:40:00Z")
    api = FakeApi(TaskDetail=[detail(), {"node": task(booking_status="CHECKED_IN", updated_at="2026-12-07T07:01:00Z")}])
    presenter = await loaded(api)
    drawn = watched(presenter)
    presenter.apply(done)
    assert presenter.finished and drawn
    presenter.apply(task(status="IN_PROGRESS", booking_status="CHECKED_IN", updated_at="2026-12-07T07:01:00Z"))
    assert await presenter.load()  # a read answered from before the completion
    assert presenter.finished and presenter.booking["status"] == "COMPLETED"
    presenter.apply({**done, "status": "CANCELLED"})  # the same instant: the later arrival is shown
    assert presenter.status == task_status("CANCELLED")


def test_without_a_camera_there_is_no_scanning_and_a_note_says_why():
    presenter = ReceptionPresenter(FakeApi(), TASK_ID)
    presenter.set_camera(False)
    assert not presenter.can_scan and presenter.scan_note == _("No camera here: type in her 6-digit code.")
    assert presenter.start_scan() is False and presenter.message == presenter.scan_note
    presenter.set_camera(True)
    assert presenter.start_scan() is True and presenter.scanning and presenter.message == ""
    presenter.set_camera(False)  # the camera went away mid-scan
    assert not presenter.scanning


# --- customer 360° -----------------------------------------------------------------------------------


def timeline(types: list[str], has_next: bool, cursor: str = "c1", total: int = 3) -> dict:
    edges = [
        {"node": {"type": t, "occurredAt": "2026-12-07T07:00:00+00:00", "store": {"name": "上海店"}}} for t in types
    ]
    return {"edges": edges, "totalCount": total, "pageInfo": {"hasNextPage": has_next, "endCursor": cursor}}


def profile(page: dict) -> dict:
    return {
        "customer": {
            "phone": "138****5678",
            "masked": True,
            "traits": {"city": "上海"},
            "tags": [],
            "purchaseCount": 2,
            "lifetimeValue": {"amount": 12345, "currency": "CNY"},
            "timeline": page,
        }
    }


async def test_the_360_view_lists_only_what_is_known_of_her():
    customer = CustomerPresenter(FakeApi(Customer360=[profile(timeline(["STORE_VISIT"], False))]), "Q3VzdG9tZXI6MQ==")
    assert await customer.load()
    labels = [label for label, _value in customer.facts()]
    assert labels[:2] == [_("Phone"), _("City")] and _("Tags") not in labels and _("Skin type") not in labels
    assert dict(customer.facts())[_("Phone")] == "138 **** 5678" + _(" (masked)")  # read in groups of 3-4-4
    [row] = customer.timeline()
    assert (row.what, row.detail) == (_("Visited a store"), "上海店")


async def test_the_timeline_is_read_a_page_at_a_time_until_the_last():
    api = FakeApi(
        Customer360=[profile(timeline(["STORE_VISIT", "CART_ADD"], True, cursor="after-2"))],
        CustomerTimeline=[{"customer": {"timeline": timeline(["POS_PURCHASE"], False)}}],
    )
    customer = CustomerPresenter(api, "Q3VzdG9tZXI6MQ==")
    await customer.load()
    assert customer.has_more and customer.total_events == 3
    assert await customer.load_more() is True
    assert api.asked("CustomerTimeline")[0]["after"] == "after-2"
    assert [e["type"] for e in customer.events] == ["STORE_VISIT", "CART_ADD", "POS_PURCHASE"]
    assert await customer.load_more() is False  # nothing more to ask for
    assert len(api.asked("CustomerTimeline")) == 1


async def test_a_customer_out_of_reach_says_so():
    customer = CustomerPresenter(FakeApi(Customer360=[{"customer": None}]), "Q3VzdG9tZXI6MQ==")
    assert await customer.load() is False
    assert customer.message == _("Not found: it may have been cancelled.")


async def test_a_forbidden_customer_says_so_rather_than_crashing():
    customer = CustomerPresenter(FakeApi(Customer360=[ServerError("FORBIDDEN", "no")]), "Q3VzdG9tZXI6MQ==")
    assert await customer.load() is False
    assert customer.message == _("You are not allowed to see this.")


# --- the inbox ---------------------------------------------------------------------------------------

NOW = datetime(2026, 12, 7, 6, 20, tzinfo=UTC)  # 14:20 in Shanghai


def inbox_task(
    number: int, due: str, status="OPEN", priority="NORMAL", escalated=False, updated="2026-12-07T06:00:00+00:00"
) -> dict:
    return {
        "id": f"T{number}",
        "dueAt": due,
        "status": status,
        "priority": priority,
        "escalated": escalated,
        "updatedAt": updated,
        "store": {"timezone": "Asia/Shanghai"},
        "customer": {"displayName": f"顾客{number}"},
        "booking": {"livestream": None},
    }


def page(*tasks: dict, after: str | None = None) -> dict:
    info = {"hasNextPage": after is not None, "endCursor": after}
    return {"myTaskList": {"edges": [{"node": t} for t in tasks], "pageInfo": info}}


def inbox(api: FakeApi) -> tuple[InboxPresenter, RecordingNotifier]:
    notifier = RecordingNotifier()

    async def expired() -> None:
        raise AssertionError("the session did not expire")

    return InboxPresenter(api, notifier, expired, clock=lambda: NOW), notifier


TODAY_16, TODAY_15 = "2026-12-07T08:00:00+00:00", "2026-12-07T07:00:00+00:00"
TOMORROW = "2026-12-08T07:00:00+00:00"


async def test_the_inbox_reads_every_page_and_lists_tasks_by_slot():
    api = FakeApi(
        MyTaskList=[
            page(inbox_task(1, TODAY_16), after="p2"),
            page(inbox_task(2, TOMORROW, status="ACKNOWLEDGED", escalated=True), inbox_task(3, TODAY_15)),
        ]
    )
    presenter, _notifier = inbox(api)
    await presenter.refresh()
    assert [v.get("after") for v in api.asked("MyTaskList")] == [None, "p2"]
    assert [row.id for row in presenter.rows()] == ["T3", "T1", "T2"]
    assert [row.can_acknowledge for row in presenter.rows()] == [True, True, False]


async def test_the_inbox_filters_today_open_and_escalated():
    done = inbox_task(4, TODAY_15, status="DONE")
    presenter, _notifier = inbox(FakeApi())
    for t in (inbox_task(1, TODAY_16), inbox_task(2, TOMORROW, escalated=True), done):
        presenter.apply(t)
    expected = {"all": ["T4", "T1", "T2"], "today": ["T4", "T1"], "open": ["T1", "T2"], "escalated": ["T2"]}
    for name, ids in expected.items():
        presenter.set_filter(name)
        assert [row.id for row in presenter.rows()] == ids, name
    with pytest.raises(ValueError):
        presenter.set_filter("mine")


async def test_a_new_high_priority_task_alerts_her_once_and_an_older_copy_changes_nothing():
    presenter, notifier = inbox(FakeApi())
    urgent = inbox_task(1, TODAY_15, priority="HIGH", updated="2026-12-07T06:10:00+00:00")
    await presenter.on_live_event("CREATED", urgent)
    assert presenter.banner.startswith("新的直播顾客：顾客1") and notifier.vibrations == 1
    await presenter.on_live_event("UPDATED", {**urgent, "status": "ACKNOWLEDGED"})  # the same task: no alert
    stale = {**urgent, "status": "OPEN", "updatedAt": "2026-12-07T06:00:00+00:00"}
    await presenter.on_live_event("UPDATED", stale)  # delivered late
    assert presenter.tasks["T1"]["status"] == "ACKNOWLEDGED" and len(notifier.shown) == 1
    presenter.dismiss_banner()
    assert presenter.banner == ""


async def test_a_removed_task_leaves_the_inbox_and_the_screens_showing_it_hear_of_it():
    heard: list[dict] = []
    removed: list[str] = []
    presenter, _notifier = inbox(FakeApi())
    presenter.task_listeners.append(heard.append)
    presenter.removal_listeners.append(removed.append)
    await presenter.on_live_event("CREATED", inbox_task(1, TODAY_15))
    await presenter.on_live_event("REMOVED", inbox_task(1, TODAY_15))
    assert presenter.tasks == {} and [t["id"] for t in heard] == ["T1"] and removed == ["T1"]


async def test_catching_up_asks_from_a_little_before_the_newest_change_and_clears_offline():
    api = FakeApi(
        MyTaskList=[page(inbox_task(2, TODAY_16, priority="HIGH"))], MyRemovedTaskIds=[{"myRemovedTaskIds": []}]
    )
    presenter, notifier = inbox(api)
    presenter.apply(inbox_task(1, TODAY_15, updated="2026-12-07T06:00:05+00:00"))
    await presenter.went_offline("socket closed")
    assert presenter.offline
    await presenter.catch_up()
    [asked] = api.asked("MyTaskList")
    assert asked["updatedAfter"] == "2026-12-07T06:00:00+00:00"  # five seconds of overlap
    assert api.asked("MyRemovedTaskIds") == [{"updatedAfter": "2026-12-07T06:00:00+00:00"}]
    assert set(presenter.tasks) == {"T1", "T2"} and not presenter.offline
    assert len(notifier.shown) == 1  # the task that came in while she was offline


async def test_catching_up_drops_the_tasks_given_away_meanwhile():
    api = FakeApi(MyTaskList=[page()], MyRemovedTaskIds=[{"myRemovedTaskIds": ["T1"]}])
    presenter, _notifier = inbox(api)
    removed: list[str] = []
    presenter.removal_listeners.append(removed.append)
    presenter.apply(inbox_task(1, TODAY_15))
    presenter.apply(inbox_task(2, TODAY_16))
    await presenter.catch_up()
    assert set(presenter.tasks) == {"T2"} and removed == ["T1"]


async def test_a_refresh_without_a_network_marks_the_inbox_offline_and_keeps_its_tasks():
    presenter, _notifier = inbox(FakeApi(MyTaskList=[OFFLINE]))
    presenter.apply(inbox_task(1, TODAY_15))
    await presenter.refresh()
    assert presenter.offline and not presenter.busy and set(presenter.tasks) == {"T1"}
    assert presenter.message == _("Cannot reach the server. Check the network and try again.")


async def test_an_answer_the_app_cannot_read_still_stops_the_spinner():
    """A malformed answer (or a bug) is the session's to show; the inbox is not left busy for ever."""
    presenter, _notifier = inbox(FakeApi(MyTaskList=[{"myTaskList": None}]))
    seen = watched(presenter)
    with pytest.raises(TypeError):
        await presenter.refresh()
    assert not presenter.busy and seen == [True, False]


async def test_a_reception_action_that_fails_unexpectedly_leaves_her_buttons_usable():
    done = [step(1, "到店问候", done=True), step(2, "试用", required=False)]
    presenter = await loaded(FakeApi(TaskDetail=[detail(steps=done)], TaskComplete=[{}]))
    seen = watched(presenter)
    with pytest.raises(KeyError):
        await presenter.complete()
    assert not presenter.busy and seen == [True, False]
    presenter.api.script["TaskDetail"] = [KeyError("node")]
    with pytest.raises(KeyError):
        await presenter.load()
    assert not presenter.busy


async def test_her_figures_unreadable_leave_the_performance_tab_not_busy():
    viewer = {"store": {"id": "U3RvcmU6MQ==", "city": "上海"}}
    presenter = PerformancePresenter(FakeApi(MyPerformance=[{}]), lambda: viewer, clock=lambda: NOW)
    with pytest.raises(KeyError):
        await presenter.load()
    assert not presenter.busy and not presenter.loaded


async def test_an_acknowledgement_refused_because_it_had_landed_counts_as_done():
    refused = {"taskAcknowledge": {"task": None, "errors": [{"code": "INVALID_STATE", "message": "acked"}]}}
    reloaded = {"node": inbox_task(1, TODAY_15, status="ACKNOWLEDGED", updated="2026-12-07T06:01:00+00:00")}
    presenter, _notifier = inbox(FakeApi(TaskAcknowledge=[refused], TaskDetail=[reloaded]))
    presenter.apply(inbox_task(1, TODAY_15))
    assert await presenter.acknowledge("T1") is True
    assert presenter.tasks["T1"]["status"] == "ACKNOWLEDGED"
    assert presenter.message == _("This task has changed meanwhile; it has been reloaded.")


async def test_an_acknowledgement_of_a_task_gone_elsewhere_drops_it():
    refused = {"taskAcknowledge": {"task": None, "errors": [{"code": "NOT_FOUND", "message": "gone"}]}}
    presenter, _notifier = inbox(FakeApi(TaskAcknowledge=[refused], TaskDetail=[{"node": None}]))
    presenter.apply(inbox_task(1, TODAY_15))
    assert await presenter.acknowledge("T1") is False
    assert presenter.tasks == {}


async def test_every_new_task_hand_over_and_reminder_raises_a_notification_once():
    presenter, notifier = inbox(FakeApi())
    plain = inbox_task(1, TODAY_15)
    await presenter.on_live_event("CREATED", plain)
    await presenter.on_live_event("CREATED", plain)  # delivered twice
    await presenter.on_live_event("UPDATED", {**plain, "status": "ACKNOWLEDGED"})  # not news
    handed = inbox_task(2, TODAY_16, updated="2026-12-07T06:20:00+00:00")
    await presenter.on_live_event("REASSIGNED", handed)
    await presenter.on_live_event("REMINDER", {**plain, "status": "ACKNOWLEDGED"})
    assert [title for title, _ in notifier.shown] == ["新任务", "有任务转给了你", "顾客即将到店"]
    assert notifier.vibrations == 3
    assert presenter.banner.startswith("即将到店：顾客1")


async def test_a_task_escalated_to_her_is_announced_as_handed_over():
    presenter, notifier = inbox(FakeApi())
    await presenter.on_live_event("ESCALATED", inbox_task(3, TODAY_15))
    assert notifier.shown == [("有任务转给了你", presenter.banner)] and presenter.banner.startswith("转给你的任务")


@pytest.mark.filterwarnings("ignore:.*(dbus|notify-send).*:UserWarning")  # plyer looking for a Linux backend
def test_without_system_notifications_the_app_says_so_once_and_carries_on(monkeypatch, caplog):
    from plyer import notification, vibrator

    from guide_app.platform_services import PlyerNotifier

    def missing(*args, **kwargs):
        raise NotImplementedError("no usable implementation found")

    monkeypatch.setattr(notification, "notify", missing)
    monkeypatch.setattr(vibrator, "vibrate", missing)
    notifier = PlyerNotifier()
    with caplog.at_level("INFO", logger="guide_app"):
        for _ in range(3):
            notifier.notify("新任务", "新的顾客")
            notifier.vibrate()
    said = [r.getMessage() for r in caplog.records if r.name == "guide_app"]
    assert len(said) == 2 and all(r.exc_info is None for r in caplog.records)
    assert notifier.unavailable == {"system notification", "vibration"}


def test_phones_read_as_guides_say_them_and_old_dates_carry_their_year():
    from datetime import UTC, datetime

    from guide_app.presenters.formatting import day_and_time_in
    from guide_app.presenters.formatting import phone as phone_number

    assert phone_number("+8613900001111") == "139 0000 1111"
    assert phone_number("138****5678") == "138 **** 5678"
    assert phone_number("+12025550100") == "+12025550100"
    now = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    assert day_and_time_in("2026-03-08T06:00:00Z", "Asia/Shanghai", now) == "3月8日 14:00"
    assert day_and_time_in("2025-03-08T06:00:00Z", "Asia/Shanghai", now) == "2025年3月8日 14:00"


def test_a_purchase_on_the_timeline_shows_what_she_paid():
    from datetime import UTC, datetime

    from guide_app.presenters.customer import timeline_row

    bought = {"type": "POS_PURCHASE", "occurredAt": "2026-12-01T06:00:00Z", "properties": {"amount": 89000}}
    row = timeline_row({**bought, "store": {"name": "上海店"}}, "Asia/Shanghai", datetime(2026, 12, 7, tzinfo=UTC))
    assert row.detail == "上海店 · ¥890.00"


# --- what the Material screens show (display helpers, formatting) ------------------------------------


def test_phones_read_in_groups_of_three_four_four():
    from guide_app.presenters.formatting import phone

    assert phone("+8613900001111") == phone("13900001111") == phone("139-0000-1111") == "139 0000 1111"
    assert phone("138****5678") == "138 **** 5678"  # masked digits keep their place
    assert phone("+44 20 7946 0958") == "+44 20 7946 0958"  # not a mainland mobile: as it came
    assert phone("王女士") == "王女士" and phone(None) == phone("") == ""


def test_chinese_lists_take_the_enumeration_comma_and_english_a_comma():
    from guide_app.i18n import use_language
    from guide_app.presenters.formatting import listing

    assert listing(["精华", "唇膏", ""]) == "精华、唇膏"
    try:
        use_language("en")
        assert listing(["serum", "lipstick"]) == "serum, lipstick"
    finally:
        use_language("zh_CN")


def test_the_acknowledge_countdown_runs_to_the_sla_deadline_then_says_how_late():
    from guide_app.presenters.formatting import countdown

    due = "2026-12-07T06:10:00+00:00"
    assert countdown(due, datetime(2026, 12, 7, 6, 0, tzinfo=UTC)) == ("请在 10:00 内确认", False)
    assert countdown(due, datetime(2026, 12, 7, 6, 8, 30, tzinfo=UTC)) == ("请在 01:30 内确认", True)  # nearly late
    assert countdown(due, datetime(2026, 12, 7, 4, 9, 0, tzinfo=UTC)) == ("请在 2:01:00 内确认", False)
    assert countdown(due, datetime(2026, 12, 7, 6, 13, 5, tzinfo=UTC)) == ("确认已超时 3 分钟", True)
    assert countdown(None, datetime(2026, 12, 7, tzinfo=UTC)) == ("", False)


async def test_inbox_rows_count_down_open_tasks_and_quiet_done_ones():
    open_high = {**inbox_task(1, TODAY_15, priority="HIGH"), "ackDueAt": "2026-12-07T06:10:00+00:00"}
    done_high = {**inbox_task(2, TODAY_16, status="DONE", priority="HIGH"), "ackDueAt": None}
    acknowledged = {**inbox_task(3, TOMORROW, status="ACKNOWLEDGED"), "ackDueAt": None}
    presenter, _notifier = inbox(FakeApi(MyTaskList=[page(open_high, done_high, acknowledged)]))
    await presenter.refresh()
    first, second, third = presenter.rows()
    assert (first.flagged, first.done, first.can_acknowledge) == (True, False, True)
    assert (second.flagged, second.done, second.high_priority) == (False, True, True)  # done: not urgent any more
    assert presenter.ack_countdown(first)[0] == countdown_text(NOW, "2026-12-07T06:10:00+00:00")
    assert presenter.ack_countdown(second) == presenter.ack_countdown(third) == ("", False)


def countdown_text(now, due) -> str:
    from guide_app.presenters.formatting import countdown

    return countdown(due, now)[0]


def test_a_customer_named_by_her_phone_is_shown_with_it_grouped():
    from guide_app.presenters.inbox import task_row

    row = task_row({**inbox_task(1, TODAY_15), "customer": {"displayName": "+8613812345678"}})
    assert row.customer == "138 1234 5678"


async def test_the_reception_summary_keeps_what_she_booked_apart_from_her_interests_and_shows_her_note():
    from guide_app.presenters.display import reception_summary

    answer = detail(phone="+8613900001111")
    answer["node"]["booking"]["note"] = "  想试新色号 "
    answer["node"]["booking"]["service"] = {"name": "肌肤检测"}
    summary = reception_summary(await loaded(FakeApi(TaskDetail=[answer])))
    assert summary.phone == "139 0000 1111" and summary.note == "想试新色号" and summary.service == "肌肤检测"
    assert (summary.booked, summary.interests) == (["精华"], ["唇膏"])  # 精华 was booked: not an interest too
    masked = reception_summary(await loaded(FakeApi(TaskDetail=[detail(phone="138****5678", masked=True)])))
    assert masked.phone == "138 **** 5678（已脱敏）" and masked.note == ""


async def test_a_finished_reception_has_a_success_state_and_a_cancelled_one_says_so():
    from guide_app.presenters.display import reception_outcome

    assert reception_outcome(await loaded(FakeApi(TaskDetail=[{"node": task()}]))) is None
    done = reception_outcome(await loaded(FakeApi(TaskDetail=[{"node": task(status="DONE")}])))
    assert done is not None and done.success and done.title == "接待已完成" and "王女士" in done.detail
    cancelled = reception_outcome(await loaded(FakeApi(TaskDetail=[{"node": task(status="CANCELLED")}])))
    assert cancelled is not None and not cancelled.success and cancelled.title == "此预约已取消"


async def test_the_open_required_steps_are_listed_with_the_enumeration_comma():
    steps = [step(1, "到店问候"), step(2, "肤质检测")]
    presenter = await loaded(FakeApi(TaskDetail=[{"node": task(steps=steps)}]))
    assert await presenter.complete() is False
    assert presenter.message == "请先完成必做步骤：到店问候、肤质检测"


def test_the_profile_shows_her_name_role_and_store():
    from guide_app.presenters.display import profile

    me = profile({"displayName": "小王", "username": "s001.guide1", "role": "GUIDE", "store": {"name": "上海店"}})
    assert (me.name, me.username, me.role, me.store) == ("小王", "s001.guide1", "导购", "上海店")
    assert profile(None) == profile({}) and profile(None).role == ""


async def test_each_message_and_notice_is_counted_once_so_a_snackbar_announces_it_once():
    presenter = await loaded(FakeApi(TaskDetail=[detail()]))
    before = presenter.message_serial
    presenter.message = "出错了"
    presenter.message = ""  # clearing is not news
    presenter.notice = "已签到。"
    presenter.message = "出错了"  # the same failure again is news again
    assert presenter.message_serial == before + 3

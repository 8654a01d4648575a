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
from guide_app.presenters.inbox import InboxPresenter
from guide_app.presenters.messages import USER_ERROR_MESSAGES
from guide_app.presenters.notifier import RecordingNotifier
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


def task(status: str = "ACKNOWLEDGED", booking_status: str = "CONFIRMED", steps=None, **customer) -> dict:
    return {
        "id": TASK_ID,
        "status": status,
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
    assert dict(customer.facts())[_("Phone")] == "138****5678" + _(" (masked)")
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


async def test_a_removed_task_leaves_the_inbox_and_other_screens_hear_of_every_event():
    heard: list[dict] = []
    presenter, _notifier = inbox(FakeApi())
    presenter.task_listeners.append(heard.append)
    await presenter.on_live_event("CREATED", inbox_task(1, TODAY_15))
    await presenter.on_live_event("REMOVED", inbox_task(1, TODAY_15))
    assert presenter.tasks == {} and [t["id"] for t in heard] == ["T1", "T1"]


async def test_catching_up_asks_from_a_little_before_the_newest_change_and_clears_offline():
    api = FakeApi(MyTaskList=[page(inbox_task(2, TODAY_16, priority="HIGH"))])
    presenter, notifier = inbox(api)
    presenter.apply(inbox_task(1, TODAY_15, updated="2026-12-07T06:00:05+00:00"))
    await presenter.went_offline("socket closed")
    assert presenter.offline
    await presenter.catch_up()
    [asked] = api.asked("MyTaskList")
    assert asked["updatedAfter"] == "2026-12-07T06:00:00+00:00"  # five seconds of overlap
    assert set(presenter.tasks) == {"T1", "T2"} and not presenter.offline
    assert len(notifier.shown) == 1  # the task that came in while she was offline


async def test_a_refresh_without_a_network_marks_the_inbox_offline_and_keeps_its_tasks():
    presenter, _notifier = inbox(FakeApi(MyTaskList=[OFFLINE]))
    presenter.apply(inbox_task(1, TODAY_15))
    await presenter.refresh()
    assert presenter.offline and not presenter.busy and set(presenter.tasks) == {"T1"}
    assert presenter.message == _("Cannot reach the server. Check the network and try again.")


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

"""A whole shift on one socket: the token is renewed before it expires, a dropped connection is retried
from the first delay again, and the catch-up removes what was given away while she was offline.
Against the real server, with the test clock driving token ages and SLAs."""

from __future__ import annotations

from dataclasses import dataclass, field

from guide_app.api.live import Backoff
from server.domains.tasks.topics import staff_topic

from .conftest import customer_books, eventually, signed_in_guide

ACK_SLA_MINUTES = 10


@dataclass(frozen=True)
class RecordingBackoff(Backoff):
    """The quick back-off of these tests, recording how many failures each delay was asked for."""

    first: float = 0.05
    maximum: float = 0.3
    asked: list[int] = field(default_factory=list)

    def delay(self, failures: int) -> float:
        self.asked.append(failures)
        return super().delay(failures)


def recording_disconnects(session) -> list[str]:
    reasons: list[str] = []
    handlers = session.inbox.live.handlers
    original = handlers.on_disconnected

    async def on_disconnected(reason: str) -> None:
        reasons.append(reason)
        await original(reason)

    handlers.on_disconnected = on_disconnected
    return reasons


async def test_the_socket_is_reopened_with_a_fresh_token_before_the_old_one_expires(server, world, clock, make_session):
    session = await make_session(server.base_url)
    session.inbox.live.renewal_check = 0.05
    disconnects = recording_disconnects(session)
    await signed_in_guide(session, server, world)
    first = session.api.tokens

    clock.advance(minutes=14)  # within the 2-minute refresh margin of its 15 minutes
    await eventually(lambda: session.inbox.live.renewals == 1, what="the socket renewed")
    assert session.api.tokens.access_token != first.access_token
    await eventually(lambda: server.listening(staff_topic(world.ids["sh.guide"])), what="the renewed subscription")

    clock.advance(minutes=2)  # the first token has expired: the socket no longer depends on it
    await customer_books(server, world, clock, hour=16)
    await eventually(lambda: len(session.inbox.tasks) == 1, what="a task live on the renewed socket")
    assert disconnects == [] and not session.inbox.offline and session.screen == "inbox"


async def test_the_back_off_starts_over_after_a_good_connection(start_server, world, clock, make_session):
    server = await start_server()
    session = await make_session(server.base_url)
    backoff = session.inbox.live.backoff = RecordingBackoff()
    await signed_in_guide(session, server, world)

    await server.stop()
    await eventually(lambda: len(backoff.asked) >= 4, what="several failed reconnects")
    assert backoff.asked[:4] == [1, 2, 3, 4]
    await server.start()
    await eventually(lambda: not session.inbox.offline, what="the reconnect")
    await eventually(lambda: server.listening(staff_topic(world.ids["sh.guide"])), what="the subscription")

    backoff.asked.clear()
    await server.stop()  # a second loss, after a good connection: the first short delay again, not the fifth
    await eventually(lambda: len(backoff.asked) >= 1, what="the first retry")
    assert backoff.asked[0] == 1


async def test_a_task_escalated_away_while_she_was_offline_leaves_her_inbox_and_her_screen(
    start_server, world, clock, make_session
):
    server = await start_server()
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    await customer_books(server, world, clock, hour=15)
    await eventually(lambda: len(session.inbox.tasks) == 1, what="her task, live")
    [task_id] = session.inbox.tasks
    await session.open_reception(task_id)
    assert session.screen == "reception"

    await server.stop()  # offline; meanwhile another replica escalates her task to the store queue
    await eventually(lambda: session.inbox.offline, what="the offline banner")
    elsewhere = await start_server()
    clock.advance(minutes=ACK_SLA_MINUTES + 1)
    assert (await elsewhere.app.state.scheduler.run_once())["escalate_overdue_tasks"] == 1
    await elsewhere.stop()

    await server.start()
    await eventually(lambda: not session.inbox.offline, what="the reconnect and catch-up")
    assert session.inbox.tasks == {} and session.inbox.rows() == []
    assert session.screen == "inbox" and session.reception is None
    assert session.inbox.message == "此任务已转给其他导购。"


async def test_a_task_reassigned_live_closes_her_open_reception(server, world, clock, make_session):
    session = await make_session(server.base_url)
    await signed_in_guide(session, server, world)
    await customer_books(server, world, clock, hour=15)
    await eventually(lambda: len(session.inbox.tasks) == 1, what="her task, live")
    [task_id] = session.inbox.tasks
    await session.open_reception(task_id)
    clock.advance(minutes=ACK_SLA_MINUTES + 1)
    assert (await server.app.state.scheduler.run_once())["escalate_overdue_tasks"] == 1
    await eventually(lambda: session.screen == "inbox", what="the reception closed")
    assert session.inbox.tasks == {} and session.inbox.message == "此任务已转给其他导购。"

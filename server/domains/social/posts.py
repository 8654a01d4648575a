"""UGC posts: a customer shares her visit; ops moderate and feature the best in a livestream."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AnyHttpUrl, TypeAdapter, ValidationError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...outbox import emit
from ...unit_of_work import use_case
from ..bookings.models import Booking, BookingStatus
from ..bookings.services import bookings_by_ids
from ..common.actor import Actor, ActorKind, Role
from ..common.errors import DomainError, Forbidden
from ..common.idempotency import create_once
from ..common.validation import Path, Validator, is_row_id, not_found, text_problem
from ..identity.events import EventType, RawEvent
from ..identity.services import record_person_event
from ..livestreams.services import livestreams_by_ids
from .errors import SocialErrorCode as Code
from .models import Platform, PostStatus, UgcPost
from .referrals import code_of
from .topics import UGC_TOPIC

POST_KEY_SCOPE = "ugcSubmit"
MODERATORS = (Role.HQ_ADMIN, Role.LIVESTREAM_OPS)
MAX_URL = 2000
MAX_TEXT = 1000
MAX_IMAGES = 9
UGC_EVENT_SOURCE = "social"
_URL = TypeAdapter(AnyHttpUrl)


class Decision(StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"


@dataclass(frozen=True)
class PostDraft:
    platform: Platform
    url: str
    text: str = ""
    image_urls: Sequence[str] = field(default_factory=tuple)
    booking_id: int | None = None


def _check_url(check: Validator, path: Path, value: str) -> None:
    if len(value) > MAX_URL:
        check.add(Code.INVALID_URL, f"at most {MAX_URL} characters", path)
        return
    try:
        _URL.validate_python(value)
    except ValidationError:
        check.add(Code.INVALID_URL, "an http(s) address with a host", path)
        return
    if any(c.isspace() for c in value) or text_problem(value) is not None:
        check.add(Code.INVALID_URL, "an http(s) address without spaces or control characters", path)


async def _booking_of(session: AsyncSession, check: Validator, draft: PostDraft, person_id: int) -> Booking | None:
    """Her booking of the visit, if she names one: hers, and COMPLETED (the visit took place)."""
    if draft.booking_id is None:
        return None
    found = await bookings_by_ids(session, [draft.booking_id]) if is_row_id(draft.booking_id) else {}
    booking = found.get(draft.booking_id)
    if booking is None or booking.person_id != person_id:
        check.add(Code.WRONG_BOOKING, "not one of your bookings", ("bookingId",))
        return None
    if booking.status != BookingStatus.COMPLETED.value:
        check.add(Code.WRONG_BOOKING, "share a visit once it is completed", ("bookingId",))
    return booking


async def _checked(session: AsyncSession, draft: PostDraft, person_id: int) -> tuple[str, Booking | None]:
    check = Validator()
    _check_url(check, ("url",), draft.url)
    text = check.text(("text",), draft.text, max_length=MAX_TEXT, min_length=0, multiline=True)
    check.count(("imageUrls",), draft.image_urls, MAX_IMAGES)
    for index, image in enumerate(draft.image_urls[:MAX_IMAGES]):
        _check_url(check, ("imageUrls", str(index)), image)
    booking = await _booking_of(session, check, draft, person_id)
    check.raise_if_any()
    return text, booking


@use_case
async def submit_post(
    session: AsyncSession, actor: Actor, draft: PostDraft, now: datetime, idempotency_key: str | None = None
) -> UgcPost:
    """Her post (signed-in customers), PENDING moderation; on her timeline as UGC_POST."""
    if actor.kind is not ActorKind.CUSTOMER:
        raise Forbidden("customers share their own visits")

    async def create() -> UgcPost:
        text, booking = await _checked(session, draft, actor.id)
        post = UgcPost(
            person_id=actor.id,
            booking_id=draft.booking_id,
            store_id=booking.store_id if booking else None,
            livestream_id=booking.livestream_id if booking else None,
            platform=draft.platform.value,
            url=draft.url,
            text=text,
            image_urls=list(draft.image_urls),
            created_at=now,
            updated_at=now,
        )
        session.add(post)
        await session.flush()
        await code_of(session, actor.id, now)  # her post's share link carries her referral code
        await _record_post(session, post, now)
        _announce(session, post, "SUBMITTED", now)
        return post

    payload = {**asdict(draft), "image_urls": list(draft.image_urls), "platform": draft.platform.value}
    return await create_once(
        session,
        actor=actor.key,
        scope=POST_KEY_SCOPE,
        key=idempotency_key,
        payload=payload,
        create=create,
        model=UgcPost,
    )


async def _record_post(session: AsyncSession, post: UgcPost, now: datetime) -> None:
    event = RawEvent(
        event_id=f"ugc:{post.id}",
        type=EventType.UGC_POST,
        occurred_at=now,
        identifiers=[],
        store_id=post.store_id,
        livestream_id=post.livestream_id,
        properties={"platform": post.platform, "postId": post.id},
    )
    await record_person_event(session, post.person_id, UGC_EVENT_SOURCE, event, now)


def _announce(session: AsyncSession, post: UgcPost, event: str, now: datetime) -> None:
    message = {"postId": post.id, "status": post.status, "livestreamId": post.featured_livestream_id}
    emit(session, UGC_TOPIC, event, message, now)


async def _post_for_update(session: AsyncSession, post_id: int) -> UgcPost:
    post = await session.get(UgcPost, post_id, with_for_update=True) if is_row_id(post_id) else None
    if post is None:
        raise not_found("post", ("postId",))
    return post


@use_case
async def moderate(
    session: AsyncSession, actor: Actor, post_id: int, decision: Decision, reason: str | None, now: datetime
) -> UgcPost:
    """PENDING → APPROVED or REJECTED (LIVESTREAM_OPS, HQ_ADMIN)."""
    actor.require_role(*MODERATORS)
    check = Validator()
    reason = check.text(("reason",), reason, max_length=200, required=decision is Decision.REJECT)
    check.raise_if_any()
    post = await _post_for_update(session, post_id)
    if post.status != PostStatus.PENDING.value:
        raise DomainError.single(Code.ALREADY_MODERATED, f"the post is {post.status}", ("postId",))
    post.status = (PostStatus.APPROVED if decision is Decision.APPROVE else PostStatus.REJECTED).value
    post.moderated_by, post.moderated_at, post.reject_reason, post.updated_at = actor.key, now, reason, now
    _announce(session, post, post.status, now)
    return post


@use_case
async def feature(session: AsyncSession, actor: Actor, post_id: int, livestream_id: int, now: datetime) -> UgcPost:
    """An APPROVED post chosen for a livestream (LIVESTREAM_OPS, HQ_ADMIN): FEATURED."""
    actor.require_role(*MODERATORS)
    if not is_row_id(livestream_id) or not await livestreams_by_ids(session, [livestream_id]):
        raise not_found("livestream", ("livestreamId",))
    post = await _post_for_update(session, post_id)
    if post.status != PostStatus.APPROVED.value:
        raise DomainError.single(
            Code.NOT_MODERATED, f"only an APPROVED post is featured; it is {post.status}", ("postId",)
        )
    post.status, post.featured_livestream_id, post.featured_at, post.updated_at = (
        PostStatus.FEATURED.value,
        livestream_id,
        now,
        now,
    )
    _announce(session, post, "FEATURED", now)
    return post


def post_listing(status: PostStatus | None, livestream_id: int | None, store_id: int | None) -> Any:
    statement = select(UgcPost)
    if status is not None:
        statement = statement.where(col(UgcPost.status) == status.value)
    if livestream_id is not None:
        statement = statement.where(col(UgcPost.livestream_id) == livestream_id)
    if store_id is not None:
        statement = statement.where(col(UgcPost.store_id) == store_id)
    return statement


def posts_of(person_id: int) -> Any:
    return select(UgcPost).where(col(UgcPost.person_id) == person_id)


async def featured_by_livestream(session: AsyncSession, livestream_ids: Sequence[int]) -> dict[int, list[UgcPost]]:
    found: dict[int, list[UgcPost]] = {i: [] for i in livestream_ids}
    statement = (
        select(UgcPost)
        .where(
            col(UgcPost.featured_livestream_id).in_(list(livestream_ids)),
            col(UgcPost.status) == PostStatus.FEATURED.value,
        )
        .order_by(col(UgcPost.featured_at).desc(), col(UgcPost.id).desc())
    )
    for post in await session.exec(statement):
        found[post.featured_livestream_id or 0].append(post)
    return found

"""Share-loop mutations: customers post and accept referrals; ops moderate and feature."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession

from ....api.enums import described_enum
from ....api.errors import mutate
from ....api.nodes import local_id
from ....api.permissions import authenticated, roles
from .. import posts, referrals
from ..models import Platform as PlatformValue
from .types import Platform, SocialUserError, UgcPost

MODERATORS = roles(*posts.MODERATORS)
IDEMPOTENCY_KEY = "1-128 characters: a retry with the same key by you returns the first result and writes nothing."


UgcDecision = posts.Decision
described_enum(
    UgcDecision,
    name="UgcDecision",
    description="A moderator's decision.",
    values={UgcDecision.APPROVE: "Approve: it may be featured.", UgcDecision.REJECT: "Reject, saying why."},
)


@strawberry.input(description="Her post about a visit.")
class UgcSubmitInput:
    platform: Platform = strawberry.field(description="Where she posted.")
    url: str = strawberry.field(description="The post: http(s), at most 2,000 characters.")
    text: str = strawberry.field(default="", description="What she wrote, up to 1,000 characters.")
    image_urls: list[str] = strawberry.field(default_factory=list, description="Up to 9 http(s) image addresses.")
    booking_id: strawberry.ID | None = strawberry.field(default=None, description="Her Booking of the visit.")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(description="A moderator's decision on a post.")
class UgcModerateInput:
    post_id: strawberry.ID = strawberry.field(description="The post (PENDING).")
    decision: UgcDecision = strawberry.field(description="APPROVE or REJECT.")
    reason: str | None = strawberry.field(default=None, description="Why, 1-200 characters (required to reject).")


@strawberry.input(description="A post to feature in a livestream.")
class UgcFeatureInput:
    post_id: strawberry.ID = strawberry.field(description="The post (APPROVED).")
    livestream_id: strawberry.ID = strawberry.field(description="The Livestream.")


@strawberry.input(description="The referral code of the link she arrived through.")
class ReferralAcceptInput:
    code: str = strawberry.field(description="8 letters and digits.")


@strawberry.type(description="The answer to ugcSubmit, ugcModerate and ugcFeature.")
class UgcPostPayload:
    post: UgcPost | None = strawberry.field(default=None, description="The post; null on errors.")
    errors: list[SocialUserError] = strawberry.field(description="Why nothing was written; empty on success.")


@strawberry.type(description="The answer to referralAccept.")
class ReferralAcceptPayload:
    accepted: bool = strawberry.field(default=False, description="Whether she is now the referrer's.")
    errors: list[SocialUserError] = strawberry.field(description="Why nothing was written; empty on success.")


def _post_id(value: strawberry.ID) -> int:
    return local_id(value, "UgcPost")


@strawberry.type
class SocialMutation:
    @strawberry.mutation(
        extensions=authenticated(),
        description="Share her visit (signed-in customers; staff: FORBIDDEN): PENDING until ops moderate it; on "
        "her timeline as UGC_POST. Errors: INVALID_URL (url, imageUrls by index), TOO_MANY (over 9 images), "
        "WRONG_BOOKING (not her visit, or not made), or a check of text.",
    )
    async def ugc_submit(
        self, info: strawberry.Info, input: Annotated[UgcSubmitInput, strawberry.argument(description="The post.")]
    ) -> UgcPostPayload:
        actor = await info.context.viewer()
        now = info.context.runtime.clock.now()

        async def action(session: AsyncSession) -> dict[str, Any]:
            draft = posts.PostDraft(
                platform=PlatformValue(input.platform),
                url=input.url,
                text=input.text,
                image_urls=tuple(input.image_urls),
                booking_id=local_id(input.booking_id, "Booking"),
            )
            row = await posts.submit_post(session, actor, draft, now, input.idempotency_key)
            return {"post": UgcPost.from_row(row)}

        return await mutate(info, UgcPostPayload, SocialUserError, action)

    @strawberry.mutation(
        extensions=MODERATORS,
        description="Approve or reject a PENDING post (a rejection says why). LIVESTREAM_OPS or HQ_ADMIN. "
        "Errors: NOT_FOUND, ALREADY_MODERATED, REQUIRED (reason), or a check of reason.",
    )
    async def ugc_moderate(
        self,
        info: strawberry.Info,
        input: Annotated[UgcModerateInput, strawberry.argument(description="The post and the decision.")],
    ) -> UgcPostPayload:
        actor = await info.context.viewer()
        now = info.context.runtime.clock.now()

        async def action(session: AsyncSession) -> dict[str, Any]:
            decision = posts.Decision(input.decision)
            row = await posts.moderate(session, actor, _post_id(input.post_id), decision, input.reason, now)
            return {"post": UgcPost.from_row(row)}

        return await mutate(info, UgcPostPayload, SocialUserError, action)

    @strawberry.mutation(
        extensions=MODERATORS,
        description="Feature an APPROVED post in a livestream (Livestream.featuredUgc). LIVESTREAM_OPS or HQ_ADMIN. "
        "Errors: NOT_FOUND (postId, livestreamId), NOT_MODERATED.",
    )
    async def ugc_feature(
        self,
        info: strawberry.Info,
        input: Annotated[UgcFeatureInput, strawberry.argument(description="The post and the livestream.")],
    ) -> UgcPostPayload:
        actor = await info.context.viewer()
        now = info.context.runtime.clock.now()

        async def action(session: AsyncSession) -> dict[str, Any]:
            livestream = local_id(input.livestream_id, "Livestream")
            row = await posts.feature(session, actor, _post_id(input.post_id), livestream, now)
            return {"post": UgcPost.from_row(row)}

        return await mutate(info, UgcPostPayload, SocialUserError, action)

    @strawberry.mutation(
        extensions=authenticated(),
        description="She arrived through a share link carrying this referral code (signed-in customers; staff: "
        "FORBIDDEN). Recorded only for a new customer (no purchase yet, no referrer yet): her purchases then "
        "credit the referrer. Errors: REFERRAL_CODE_UNKNOWN, REFERRAL_OWN_CODE, ALREADY_REFERRED, "
        "NOT_A_NEW_CUSTOMER, INVALID_FORMAT.",
    )
    async def referral_accept(
        self, info: strawberry.Info, input: Annotated[ReferralAcceptInput, strawberry.argument(description="The code.")]
    ) -> ReferralAcceptPayload:
        actor = await info.context.viewer()
        now = info.context.runtime.clock.now()

        async def action(session: AsyncSession) -> dict[str, Any]:
            await referrals.accept(session, actor, input.code, now)
            return {"accepted": True}

        return await mutate(info, ReferralAcceptPayload, SocialUserError, action)

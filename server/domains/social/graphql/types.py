"""GraphQL types of the share loop, and Livestream.featuredUgc."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import strawberry

from ....api.enums import described_enum
from ....api.errors import UserError, user_error_type
from ....api.nodes import global_id
from ....api.type_extensions import extends
from ...common.actor import ActorKind, Role
from ...common.rows import saved_id
from ...livestreams.graphql.types import Livestream
from .. import posts, referrals
from ..errors import SocialErrorCode
from ..models import Platform as PlatformValue
from ..models import PostStatus as PostStatusValue
from ..models import UgcPost as PostRow

SOCIAL_CODE_TEXTS = {
    SocialErrorCode.INVALID_URL: "Not an http(s) address, or longer than 2,000 characters.",
    SocialErrorCode.WRONG_BOOKING: "Not a visit of yours that took place.",
    SocialErrorCode.NOT_MODERATED: "Only an APPROVED post is featured.",
    SocialErrorCode.ALREADY_MODERATED: "The post was moderated already.",
    SocialErrorCode.REFERRAL_OWN_CODE: "Your own referral code.",
    SocialErrorCode.REFERRAL_CODE_UNKNOWN: "No customer has this referral code.",
    SocialErrorCode.ALREADY_REFERRED: "You were referred already.",
    SocialErrorCode.NOT_A_NEW_CUSTOMER: "Referrals are for customers who have not bought yet.",
}

if TYPE_CHECKING:  # user_error_type builds the class at run time: mypy knows it by its interface
    SocialUserError = UserError
else:
    SocialUserError = user_error_type("Social", SocialErrorCode, SOCIAL_CODE_TEXTS)

Platform = PlatformValue
described_enum(
    Platform,
    name="UgcPlatform",
    description="Where she posted.",
    values={
        Platform.XIAOHONGSHU: "Xiaohongshu (RED).",
        Platform.WECHAT_MOMENTS: "WeChat Moments.",
        Platform.DOUYIN: "Douyin.",
        Platform.WEIBO: "Weibo.",
        Platform.OTHER: "Anywhere else.",
    },
)
PostStatus = PostStatusValue
described_enum(
    PostStatus,
    name="UgcStatus",
    description="Where a post is in moderation.",
    values={
        PostStatus.PENDING: "Waiting for moderation.",
        PostStatus.APPROVED: "Approved: it may be featured.",
        PostStatus.REJECTED: "Rejected (see rejectReason).",
        PostStatus.FEATURED: "Featured in a livestream.",
    },
)


@strawberry.type(description="A customer's post about her visit.")
class UgcPost:
    id: strawberry.ID = strawberry.field(description="The post's global id.")
    platform: Platform = strawberry.field(description="Where she posted.")
    url: str = strawberry.field(description="The post.")
    text: str = strawberry.field(description="What she wrote (up to 1,000 characters).")
    image_urls: list[str] = strawberry.field(description="Up to 9 images.")
    status: PostStatus = strawberry.field(description="Moderation.")
    reject_reason: str | None = strawberry.field(description="Why it was rejected.")
    booking_id: strawberry.ID | None = strawberry.field(description="The Booking of the visit.")
    store_id: strawberry.ID | None = strawberry.field(description="The Store she visited.")
    livestream_id: strawberry.ID | None = strawberry.field(description="The Livestream she booked from.")
    featured_livestream_id: strawberry.ID | None = strawberry.field(description="The Livestream featuring it.")
    customer_id: strawberry.ID | None = strawberry.field(description="Her Customer id; null for analysts.")
    created_at: dt.datetime = strawberry.field(description="When she submitted it.")
    person_id: strawberry.Private[int]
    show_customer: strawberry.Private[bool]
    row_id: strawberry.Private[int]

    @strawberry.field(
        description="The post's share link, carrying its author's referral code (?ref=CODE): a new customer "
        "arriving through it is hers. Null where customerId is."
    )
    async def share_url(self, info: strawberry.Info) -> str | None:
        if not self.show_customer:
            return None
        code = await info.context.loader(referrals.codes_by_person).load(self.person_id)
        return referrals.post_share_url(info.context.settings.public_url, self.row_id, code) if code else None

    @classmethod
    def from_row(cls, row: PostRow, show_customer: bool = True) -> UgcPost:
        return cls(
            id=strawberry.ID(global_id("UgcPost", saved_id(row))),
            platform=Platform(row.platform),
            url=row.url,
            text=row.text,
            image_urls=list(row.image_urls),
            status=PostStatus(row.status),
            reject_reason=row.reject_reason,
            booking_id=_gid("Booking", row.booking_id),
            store_id=_gid("Store", row.store_id),
            livestream_id=_gid("Livestream", row.livestream_id),
            featured_livestream_id=_gid("Livestream", row.featured_livestream_id),
            customer_id=_gid("Customer", row.person_id) if show_customer else None,
            created_at=row.created_at,
            person_id=row.person_id,
            show_customer=show_customer,
            row_id=saved_id(row),
        )


def _gid(type_name: str, row_id: int | None) -> strawberry.ID | None:
    return strawberry.ID(global_id(type_name, row_id)) if row_id is not None else None


@strawberry.type(description="Her referral code and the link that carries it.")
class MyReferral:
    code: str = strawberry.field(description="8 letters and digits; a friend enters it or opens the link.")
    share_url: str = strawberry.field(description="Her share link: a new friend who opens it and buys credits her.")
    referred_count: int = strawberry.field(description="How many customers arrived through her link.")


@extends(Livestream, "featuredUgc", description="Customers' posts featured in it, newest first.")
async def livestream_featured_ugc(root: Livestream, info: strawberry.Info) -> list[UgcPost]:
    actor = await info.context.viewer()
    show_customer = actor.kind is ActorKind.STAFF and not actor.has_role(Role.ANALYST)
    rows = await info.context.loader(posts.featured_by_livestream, default=[]).load(int(root.id))
    return [UgcPost.from_row(row, show_customer) for row in rows]


SOCIAL_EXTENSIONS = (livestream_featured_ugc,)

"""Share-loop queries: posts for ops, her own posts and her referral link."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
import strawberry
from sqlmodel import col, select

from ....api.nodes import local_id
from ....api.pagination import After, Connection, First, paginate
from ....api.permissions import authenticated, roles
from ...common.actor import ActorKind, Role
from ...common.errors import Forbidden
from .. import posts, referrals
from ..models import PostStatus as PostStatusValue
from ..models import Referral
from ..models import UgcPost as PostRow
from .types import MyReferral, PostStatus, UgcPost


@strawberry.type
class SocialQuery:
    @strawberry.field(
        extensions=roles(Role.HQ_ADMIN, Role.LIVESTREAM_OPS, Role.ANALYST),
        description="Customers' posts, newest first, by status, livestream or store. HQ_ADMIN, LIVESTREAM_OPS, "
        "ANALYST (analysts see no customer ids).",
    )
    async def ugc_posts(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        status: Annotated[PostStatus | None, strawberry.argument(description="Only posts in this status.")] = None,
        livestream_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only visits booked from this Livestream.")
        ] = None,
        store_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only visits to this Store.")] = None,
    ) -> Connection[UgcPost]:
        actor = await info.context.viewer()
        show_customer = not actor.has_role(Role.ANALYST)
        statement = posts.post_listing(
            PostStatusValue(status) if status else None,
            local_id(livestream_id, "Livestream"),
            local_id(store_id, "Store"),
        )
        return await paginate(
            info,
            statement,
            lambda row: UgcPost.from_row(row, show_customer),
            first=first,
            after=after,
            newest_by=PostRow.created_at,
        )

    @strawberry.field(extensions=authenticated(), description="Her own posts, newest first (customers).")
    async def my_ugc_posts(
        self, info: strawberry.Info, first: First = None, after: After = None
    ) -> Connection[UgcPost]:
        actor = await info.context.viewer()
        if actor.kind is not ActorKind.CUSTOMER:
            raise Forbidden("customers only")
        return await paginate(
            info, posts.posts_of(actor.id), UgcPost.from_row, first=first, after=after, newest_by=PostRow.created_at
        )

    @strawberry.field(
        extensions=authenticated(),
        description="Her referral code and share link (made on first use), and how many she brought (customers).",
    )
    async def my_referral(self, info: strawberry.Info) -> MyReferral:
        actor = await info.context.viewer()
        if actor.kind is not ActorKind.CUSTOMER:
            raise Forbidden("customers only")
        now = info.context.runtime.clock.now()
        # Her code is made on first use: a small write of its own, committed before the answer.
        async with info.context.runtime.db.writer() as session:
            code = await referrals.my_code(session, actor.id, now)
        async with info.context.db() as session:
            counted = select(sa.func.count()).select_from(Referral).where(col(Referral.referrer_id) == actor.id)
            referred = int((await session.exec(counted)).one())
        url = referrals.share_url(info.context.settings.public_url, code)
        return MyReferral(code=code, share_url=url, referred_count=referred)

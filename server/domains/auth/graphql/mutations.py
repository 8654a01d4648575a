"""Sign-in, token refresh and sign-out."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ....api.errors import mutate
from ....api.mutation_input import Input, deprecated_argument, one_input
from ....api.viewer import Viewer
from ...common.actor import ActorKind
from ...identity.graphql.inputs import CustomerLoginInput
from ...identity.graphql.types import Customer, IdentityUserError
from ...staff.graphql.types import StaffUser
from ...staff.services import staff_by_ids
from .. import services
from .inputs import LogoutInput, StaffLoginInput, TokenRefreshInput
from .types import AuthSession, AuthUserError


@strawberry.type(description="The answer to staffLogin.")
class StaffLoginPayload:
    session: AuthSession | None = strawberry.field(default=None, description="The new session; null on errors.")
    errors: list[AuthUserError] = strawberry.field(
        description="INVALID_CREDENTIALS or LOGIN_LOCKED (with retryAfter); empty on success."
    )


@strawberry.type(description="The answer to customerLogin.")
class CustomerLoginPayload:
    session: AuthSession | None = strawberry.field(
        default=None, description="Her new session (its viewer is the Customer); null on errors."
    )
    errors: list[IdentityUserError] = strawberry.field(
        description="INVALID_VALUE (not exactly one way of signing in), INVALID_PHONE, CODE_EXPIRED, INVALID_CODE, "
        "TOO_MANY_ATTEMPTS, RATE_LIMITED, VERIFIER_UNAVAILABLE, or OneID refusing the identifier (e.g. "
        "NO_LINKABLE_IDENTIFIER); "
        "empty on success."
    )


@strawberry.type(description="The answer to tokenRefresh.")
class TokenRefreshPayload:
    session: AuthSession | None = strawberry.field(
        default=None, description="The new token pair, in the same session; null on errors."
    )
    errors: list[AuthUserError] = strawberry.field(description="INVALID_REFRESH_TOKEN; empty on success.")


@strawberry.type(description="The answer to logout.")
class LogoutPayload:
    revoked: bool = strawberry.field(default=False, description="False when the token was unknown.")
    errors: list[AuthUserError] = strawberry.field(
        description="Empty unless the call gave both or neither of input and the deprecated arguments "
        "(INVALID_VALUE, REQUIRED): an unknown token answers revoked false."
    )


async def _session(db, issued: services.IssuedTokens) -> AuthSession:
    viewer: Viewer
    if issued.actor.kind is ActorKind.CUSTOMER:
        viewer = Customer(id=issued.actor.id, masked=False, erased=False)
    else:
        viewer = StaffUser.from_row((await staff_by_ids(db, [issued.actor.id]))[issued.actor.id])
    return AuthSession(
        access_token=issued.access_token,
        access_token_expires_at=issued.access_expires_at,
        refresh_token=issued.refresh_token,
        refresh_token_expires_at=issued.refresh_expires_at,
        viewer=viewer,
    )


@strawberry.type
class AuthMutation:
    @strawberry.mutation(
        description="Sign a staff member in. Five failed attempts in 15 minutes from one address "
        "lock the username there (LOGIN_LOCKED, with retryAfter); 50 from all addresses lock it "
        "everywhere (limits configurable)."
    )
    async def staff_login(
        self,
        info: strawberry.Info,
        input: Input[StaffLoginInput] = None,
        username: Annotated[str | None, deprecated_argument("Her username.")] = None,
        password: Annotated[str | None, deprecated_argument("Her password.")] = None,
    ) -> StaffLoginPayload:
        runtime = info.context.runtime

        async def action(db):
            given = one_input(input, StaffLoginInput, username=username, password=password)
            issued = await services.staff_login(
                db,
                runtime.tokens,
                runtime.clock,
                runtime.limits,
                info.context.client_address,
                given.username,
                given.password,
            )
            return {"session": await _session(db, issued)}

        return await mutate(info, StaffLoginPayload, AuthUserError, action)

    @strawberry.mutation(
        description="Trade a refresh token for a new pair; the old one is spent. Presenting a spent token again "
        "ends the whole session. No sign-in needed."
    )
    async def token_refresh(
        self,
        info: strawberry.Info,
        input: Input[TokenRefreshInput] = None,
        refresh_token: Annotated[str | None, deprecated_argument("The session's current refresh token.")] = None,
    ) -> TokenRefreshPayload:
        runtime = info.context.runtime

        async def action(db):
            given = one_input(input, TokenRefreshInput, refresh_token=refresh_token)
            issued = await services.refresh_tokens(db, runtime.tokens, runtime.clock, given.refresh_token)
            return {"session": await _session(db, issued)}

        return await mutate(info, TokenRefreshPayload, AuthUserError, action)

    @strawberry.mutation(
        description="End the session of this refresh token (or every session of its owner): its tokens stop "
        "working and its sockets close. No sign-in needed."
    )
    async def logout(
        self,
        info: strawberry.Info,
        input: Input[LogoutInput] = None,
        refresh_token: Annotated[str | None, deprecated_argument("The refresh token of the session to end.")] = None,
        everywhere: Annotated[
            bool | None, deprecated_argument("End every session of its owner (default false).")
        ] = None,
    ) -> LogoutPayload:
        runtime = info.context.runtime

        async def action(db):
            given = one_input(input, LogoutInput, refresh_token=refresh_token, everywhere=everywhere)
            return {
                "revoked": await services.logout(db, runtime.clock, given.refresh_token, everywhere=given.everywhere)
            }

        return await mutate(info, LogoutPayload, AuthUserError, action)

    @strawberry.mutation(
        description="A customer signs in from a mini-program; she is resolved through OneID. No sign-in needed."
    )
    async def customer_login(
        self,
        info: strawberry.Info,
        input: Annotated[CustomerLoginInput, strawberry.argument(description="Her proof of identity.")],
    ) -> CustomerLoginPayload:
        runtime = info.context.runtime

        async def action(session):
            issued = await services.customer_login(
                session,
                runtime.tokens,
                runtime.identity,
                runtime.verifiers,
                runtime.limits,
                runtime.clock.now(),
                phone=input.phone,
                sms_code=input.sms_code,
                wechat_app_id=input.wechat_app_id,
                wechat_code=input.wechat_code,
            )
            return {"session": await _session(session, issued)}

        # Identity names the sign-in fields as customerSmsCodeRequest's arguments (["phone"], ["smsCode"]),
        # and clients know them so: not under "input".
        return await mutate(info, CustomerLoginPayload, IdentityUserError, action, fields_under=None)

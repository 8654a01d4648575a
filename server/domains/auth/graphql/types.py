"""Token answers."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import strawberry

from ....api.errors import UserError, user_error_type
from ....api.viewer import Viewer
from ..errors import AuthErrorCode

if TYPE_CHECKING:  # user_error_type builds the class at run time: mypy knows it by its interface
    AuthUserError = UserError
else:
    AuthUserError = user_error_type(
        "Auth",
        AuthErrorCode,
        {
            AuthErrorCode.INVALID_CREDENTIALS: "Wrong username or password, or the account is deactivated.",
            AuthErrorCode.LOGIN_LOCKED: "Too many failed sign-ins for this username; wait retryAfter seconds.",
            AuthErrorCode.INVALID_REFRESH_TOKEN: "The refresh token is unknown, expired, already spent or revoked: "
            "sign in again.",
        },
    )


@strawberry.type(description="A signed-in session: a short-lived access token and a refresh token.")
class AuthSession:
    access_token: str = strawberry.field(description="Send as `Authorization: Bearer <token>`.")
    access_token_expires_at: datetime = strawberry.field(
        description="When the access token stops working (15 minutes after issue unless IRS_ACCESS_TOKEN_MINUTES says "
        "otherwise); refresh before then."
    )
    refresh_token: str = strawberry.field(description="Single use: trade it for a new pair with tokenRefresh.")
    refresh_token_expires_at: datetime = strawberry.field(
        description="When the refresh token stops working (30 days after issue unless IRS_REFRESH_TOKEN_DAYS says "
        "otherwise)."
    )
    viewer: Viewer = strawberry.field(description="Who signed in: a StaffUser or a Customer.")

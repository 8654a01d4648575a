"""Token answers."""

from __future__ import annotations

from datetime import datetime

import strawberry

from ....api.errors import user_error_type
from ....api.viewer import Viewer
from ..errors import AuthErrorCode

AuthUserError = user_error_type("Auth", AuthErrorCode)


@strawberry.type(description="A signed-in session: a short-lived access token and a refresh token.")
class AuthSession:
    access_token: str = strawberry.field(description="Send as `Authorization: Bearer <token>`.")
    access_token_expires_at: datetime
    refresh_token: str = strawberry.field(description="Single use: trade it for a new pair with tokenRefresh.")
    refresh_token_expires_at: datetime
    viewer: Viewer

"""GraphQL inputs of sign-in, token refresh and sign-out."""

from __future__ import annotations

import strawberry


@strawberry.input(description="A staff member's credentials.")
class StaffLoginInput:
    username: str = strawberry.field(description="Her username; case and surrounding spaces ignored.")
    password: str = strawberry.field(description="Her password.")


@strawberry.input(description="The refresh token to trade.")
class TokenRefreshInput:
    refresh_token: str = strawberry.field(description="The session's current refresh token.")


@strawberry.input(description="The session to end.")
class LogoutInput:
    refresh_token: str = strawberry.field(description="The refresh token of the session to end.")
    everywhere: bool = strawberry.field(
        default=False, description="End every session of the token's owner, on every device."
    )

"""Sign-in: staff username and password; what she typed stays when it fails."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ..api.client import GuideApi
from ..api.errors import Offline, ServerError
from ..i18n import _
from .base import Presenter
from .messages import SESSION_REVOKED, failure_message, user_errors_message


class SignInPresenter(Presenter):
    def __init__(self, api: GuideApi, on_signed_in: Callable[[], Awaitable[None]]) -> None:
        super().__init__()
        self.api = api
        self.on_signed_in = on_signed_in
        self.username = ""
        self.password = ""

    def edit(self, *, username: str | None = None, password: str | None = None) -> None:
        if username is not None:
            self.username = username
        if password is not None:
            self.password = password

    async def sign_in(self) -> bool:
        username = self.username.strip()
        if not username or not self.password:
            self.message = _("Enter your username and password.")
            self.changed()
            return False
        self.busy, self.message = True, ""
        self.changed()
        try:
            errors = await self.api.sign_in(username, self.password)
            if not errors:
                self.password = ""  # the field too: the next one at a shared phone must not find it filled
        except (Offline, ServerError) as error:
            self.message = failure_message(error)
            return False
        finally:
            self.busy = False
            self.changed()
        if errors:
            self.message = user_errors_message(errors)
            self.changed()
            return False
        await self.on_signed_in()
        return True

    def session_expired(self, username: str = "", *, revoked: bool = False) -> None:
        """Back here from a spent session: say why, and offer her username again."""
        self.username = username or self.username
        self.password = ""
        self.message = _(SESSION_REVOKED) if revoked else _("Your session has expired. Please sign in again.")
        self.changed()

    def signed_out(self) -> None:
        """After her own sign-out: her username stays, no password, no message."""
        self.password, self.message, self.busy = "", "", False
        self.changed()

"""What can go wrong talking to the server, as the presenters need to tell it apart."""

from __future__ import annotations


class ApiError(Exception):
    """The server answered with an error the guide cannot fix by editing her input."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Offline(ApiError):
    """The server could not be reached (after the retries)."""

    def __init__(self, message: str) -> None:
        super().__init__("OFFLINE", message)


class SessionExpired(ApiError):
    """The refresh token is spent, revoked or expired: the guide must sign in again."""

    def __init__(self, message: str = "session expired") -> None:
        super().__init__("SESSION_EXPIRED", message)


class ServerError(ApiError):
    """A top-level GraphQL error (FORBIDDEN, Internal error with a request id, …) or an HTTP failure."""


class SessionRevoked(SessionExpired):
    """The server refused the session before its time: signed out elsewhere, deactivated, changed by a manager."""

    def __init__(self, message: str = "session ended") -> None:
        super().__init__(message)

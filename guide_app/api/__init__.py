"""The guide app's GraphQL client: HTTP for queries and mutations, WebSocket for live tasks."""

from .client import GuideApi
from .errors import ApiError, Offline, ServerError, SessionExpired
from .live import LiveTasks
from .tokens import JsonTokenStore, MemoryTokenStore, Tokens

__all__ = [
    "ApiError",
    "GuideApi",
    "JsonTokenStore",
    "LiveTasks",
    "MemoryTokenStore",
    "Offline",
    "ServerError",
    "SessionExpired",
    "Tokens",
]

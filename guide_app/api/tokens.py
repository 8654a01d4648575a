"""The signed-in session, kept on the device between runs."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol


def parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Tokens:
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime
    viewer: dict = field(default_factory=dict)

    @classmethod
    def from_session(cls, session: dict) -> Tokens:
        """From an AuthSession as the API answers it (SessionFields)."""
        return cls(
            access_token=session["accessToken"],
            access_expires_at=parse_instant(session["accessTokenExpiresAt"]),
            refresh_token=session["refreshToken"],
            refresh_expires_at=parse_instant(session["refreshTokenExpiresAt"]),
            viewer=session.get("viewer") or {},
        )

    def to_json(self) -> dict:
        values = asdict(self)
        values["access_expires_at"] = self.access_expires_at.isoformat()
        values["refresh_expires_at"] = self.refresh_expires_at.isoformat()
        return values

    @classmethod
    def from_json(cls, values: dict) -> Tokens:
        return cls(
            access_token=values["access_token"],
            access_expires_at=datetime.fromisoformat(values["access_expires_at"]),
            refresh_token=values["refresh_token"],
            refresh_expires_at=datetime.fromisoformat(values["refresh_expires_at"]),
            viewer=values.get("viewer") or {},
        )


class TokenStore(Protocol):
    def load(self) -> Tokens | None: ...

    def save(self, tokens: Tokens) -> None: ...

    def clear(self) -> None: ...


class MemoryTokenStore:
    """Tokens for this run only."""

    def __init__(self, tokens: Tokens | None = None) -> None:
        self._tokens = tokens

    def load(self) -> Tokens | None:
        return self._tokens

    def save(self, tokens: Tokens) -> None:
        self._tokens = tokens

    def clear(self) -> None:
        self._tokens = None


class JsonTokenStore:
    """Tokens in a JSON file in the app's private data directory (readable by the owner only)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self) -> Tokens | None:
        try:
            return Tokens.from_json(json.loads(self.path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, tokens: Tokens) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".tmp")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(tokens.to_json(), handle)
        os.replace(partial, self.path)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)

"""Refresh tokens."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ...clock import utcnow
from ...columns import utc_field

_REVOKED = "revoked_at IS NOT NULL"


class RefreshToken(SQLModel, table=True):
    """One refresh token, stored as a SHA-256 hash.

    Tokens rotate: each use marks the row used and issues a new one in the same
    family. Presenting a used token again revokes the whole family (it was stolen
    or replayed).
    """

    __tablename__ = "refresh_token"
    # Every request checks that its access token's session (family) was not ended: a probe of this index.
    __table_args__ = (
        sa.Index(
            "ix_refresh_token_revoked_family",
            "family_id",
            postgresql_where=sa.text(_REVOKED),
            sqlite_where=sa.text(_REVOKED),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    family_id: str = Field(max_length=32, index=True)
    actor_key: str = Field(max_length=64, index=True, description="e.g. staff:12")
    issued_at: datetime = utc_field(default_factory=utcnow)
    expires_at: datetime = utc_field()
    used_at: datetime | None = utc_field(nullable=True, default=None)
    revoked_at: datetime | None = utc_field(nullable=True, default=None)

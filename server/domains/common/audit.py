"""The audit log: who did what to whom (unmasked reads of personal data, erasures, splits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from ...clock import utcnow
from ...columns import json_field, utc_field


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    actor: str = Field(max_length=64, index=True)
    action: str = Field(max_length=64, index=True)
    subject: str = Field(max_length=64, index=True)
    detail: dict[str, Any] = json_field(default_factory=dict)
    at: datetime = utc_field(default_factory=utcnow, index=True)


def audit(session: AsyncSession, actor: str, action: str, subject: str, at: datetime, **detail: Any) -> None:
    """Add an entry to the caller's unit of work (written with its commit)."""
    session.add(AuditEntry(actor=actor, action=action, subject=subject, detail=detail, at=at))

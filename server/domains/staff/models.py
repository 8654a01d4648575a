"""Staff accounts, their skills, and livestream ops teams."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from ...clock import utcnow
from ...columns import enum_field, utc_field


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=32, unique=True)
    password_hash: str = Field(max_length=255)
    display_name: str = Field(max_length=64)
    role: str = enum_field(index=True)
    store_id: int | None = Field(default=None, foreign_key="store.id", index=True)
    active: bool = True
    created_at: datetime = utc_field(default_factory=utcnow)
    updated_at: datetime = utc_field(default_factory=utcnow)


class StaffSkillCategory(SQLModel, table=True):
    """A product category the staff member is skilled in."""

    __tablename__ = "staff_skill_category"

    staff_id: int = Field(foreign_key="staff_user.id", primary_key=True, ondelete="CASCADE")
    category_id: int = Field(foreign_key="product_category.id", primary_key=True, index=True)


class StaffSkillService(SQLModel, table=True):
    """A service the staff member can deliver."""

    __tablename__ = "staff_skill_service"

    staff_id: int = Field(foreign_key="staff_user.id", primary_key=True, ondelete="CASCADE")
    service_id: int = Field(foreign_key="service.id", primary_key=True, index=True)


class Team(SQLModel, table=True):
    """A livestream operations team; sales it drives are credited to it."""

    __tablename__ = "team"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    created_at: datetime = utc_field(default_factory=utcnow)


class TeamMember(SQLModel, table=True):
    __tablename__ = "team_member"

    team_id: int = Field(foreign_key="team.id", primary_key=True, ondelete="CASCADE")
    staff_id: int = Field(foreign_key="staff_user.id", primary_key=True, index=True)

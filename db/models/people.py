"""People: staff accounts."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.models.base import enum_column_type, now_column
from domain.types import Role


class User(SQLModel, table=True):
    """A staff account. Unit staff are bound to one unit; supervisors to a district or (none)
    the whole city."""

    __tablename__ = "app_user"
    __table_args__ = (
        sa.CheckConstraint(
            "role <> 'unit_staff' OR unit_code IS NOT NULL", name="unit_staff_has_unit"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=100)
    password_hash: str = Field(max_length=255)
    role: Role = Field(sa_column=sa.Column(enum_column_type(Role, "user_role"), nullable=False))
    unit_code: str | None = Field(default=None, foreign_key="unit.code")
    district_code: str | None = Field(default=None, foreign_key="district.code")
    active: bool = True
    created_at: datetime = Field(sa_column=now_column())
    #: tokens issued before it are refused: set by a new password and by disabling the account
    tokens_since: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=True))

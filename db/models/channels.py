"""Channels: other apps and hotlines that file and follow appeals through Open311 GeoReport v2."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.models.base import now_column


class Open311Channel(SQLModel, table=True):
    """A channel registered to file and follow appeals through Open311 GeoReport v2 (the city's
    app, WeChat, a partner platform, another hotline). Its key is shown once at creation; only
    its SHA-256 is kept (the key is 32 random bytes, so a plain hash is enough)."""

    __tablename__ = "channel"

    name: str = Field(primary_key=True, max_length=40)
    key_hash: str = Field(max_length=64, unique=True)
    kind: str = Field(default="app", max_length=16, description="the intake channel its appeals are recorded with")
    trusted: bool = Field(default=False, description="may hold the citizen's token for its appeals")
    created_at: datetime = Field(sa_column=now_column())
    revoked_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))

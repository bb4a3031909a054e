"""What analytics keeps per appeal from its intake: topic keys of the text (analytics.topics) and
whether it came back after a resolution at the same place (analytics.recurring). The appeal's own
indexes for hot spots and returns are with the appeal (db/models/appeals.py)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

import db.models.base  # noqa: F401  (the naming convention, before any table)


class AppealTopic(SQLModel, table=True):
    """A topic key of an appeal's text (analytics.topics), written once at intake or by the
    backfill. The appeal's time of receipt, category and place are copied here (none of them
    changes after intake) so that topics over a period are counted from this table alone."""

    __tablename__ = "appeal_topic"
    __table_args__ = (
        sa.Index(
            "ix_appeal_topic_period",
            "received_at",
            postgresql_include=["topic", "category_code", "district_code", "street_code"],
        ),
        sa.Index("ix_appeal_topic_topic", "topic", "received_at"),
    )

    appeal_no: str = Field(
        sa_column=sa.Column(
            sa.String(32), sa.ForeignKey("appeal.appeal_no", ondelete="CASCADE"), primary_key=True
        )
    )
    topic: str = Field(primary_key=True, max_length=32)
    rank: int = Field(default=0, sa_type=sa.SmallInteger, description="0: the most specific key")
    received_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    category_code: str = Field(max_length=40)
    district_code: str | None = Field(default=None, max_length=12)
    street_code: str | None = Field(default=None, max_length=40)


class AppealReturn(SQLModel, table=True):
    """An appeal that came back (analytics.recurring): when it was received, the latest appeal
    of its category at its place — same street and address, or within the radius — that had
    been closed as resolved (within a year). Known at intake, since the earlier appeal was
    closed before this one came in; the appeal's own time, category and place are copied, and
    the problem it belongs to (the first appeal of the chain A resolved → B → ...)."""

    __tablename__ = "appeal_return"
    __table_args__ = (
        sa.Index(
            "ix_appeal_return_period",
            "received_at",
            postgresql_include=[
                "previous_closed_at", "problem_no", "category_code", "district_code", "street_code",
            ],
        ),
        sa.Index("ix_appeal_return_problem", "problem_no", "received_at"),
    )

    appeal_no: str = Field(
        sa_column=sa.Column(
            sa.String(32), sa.ForeignKey("appeal.appeal_no", ondelete="CASCADE"), primary_key=True
        )
    )
    matched_by: str = Field(primary_key=True, max_length=8, description="address | radius")
    previous_no: str = Field(max_length=32, description="the appeal resolved there before")
    previous_closed_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    problem_no: str = Field(
        max_length=32, description="where the chain of returns starts: one recurring problem"
    )
    distance_m: float | None = Field(default=None, description="between the two points (radius)")
    received_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    category_code: str = Field(max_length=40)
    district_code: str | None = Field(default=None, max_length=12)
    street_code: str | None = Field(default=None, max_length=40)

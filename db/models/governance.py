"""Governance (主动治理): tasks and their inspections, the month's theme and problems (每月一题),
and the theme candidates the monthly analysis proposed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from db.models.base import now_column


class GovernanceTask(SQLModel, table=True):
    """A governance task (主动治理): a problem at a place, owned by a unit, inspected on a
    schedule until it stays away. Its lifecycle is the workflow `governance-<id>`; the columns
    below the place are its projection (`seq` guards them like the appeal's)."""

    __tablename__ = "governance_task"

    id: int | None = Field(default=None, primary_key=True)
    workflow_id: str = Field(max_length=64, unique=True)
    title: str = Field(max_length=200)
    description: str | None = Field(default=None, sa_type=sa.Text)
    source: str = Field(max_length=24, description="hotspot | recurring | monthly_problem | manual")
    category_code: str = Field(foreign_key="category.code", index=True, max_length=40)
    district_code: str | None = Field(default=None, foreign_key="district.code", index=True, max_length=12)
    street_code: str | None = Field(default=None, foreign_key="unit.code", max_length=40)
    # the place stays here, never in Temporal: the data check reads it by the task's id
    location_address: str | None = Field(default=None, max_length=300)
    latitude: float | None = None
    longitude: float | None = None
    radius_m: int | None = Field(default=None, description="with latitude/longitude: how near counts as here")
    owner_unit_code: str = Field(foreign_key="unit.code", index=True, max_length=40)
    evidence: list[str] = Field(
        default_factory=list,
        sa_column=sa.Column(JSONB, nullable=False, server_default="[]"),
        description="the appeal numbers the task was made from",
    )
    interval_days: int
    quiet_days: int
    clean_inspections: int
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=now_column())
    # --- projection
    status: str = Field(max_length=16, index=True, description="starting | active | closed | cancelled")
    quiet_since: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    clean_streak: int = 0
    inspections: int = 0
    last_inspection_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    closed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    close_reason: str | None = Field(default=None, sa_type=sa.Text)
    closed_by: str | None = Field(default=None, max_length=64)
    # each handing to another unit: at, by, from_unit, to_unit, reason
    reassignments: list[dict] = Field(
        default_factory=list, sa_column=sa.Column(JSONB, nullable=False, server_default="[]")
    )
    seq: int = 0
    updated_at: datetime = Field(sa_column=now_column())


class GovernanceInspection(SQLModel, table=True):
    """One inspection round of a task: the data check and the owner unit's on-site finding."""

    __tablename__ = "governance_inspection"

    task_id: int = Field(foreign_key="governance_task.id", primary_key=True)
    round: int = Field(primary_key=True)
    at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    since: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    new_appeals: int | None = Field(default=None, description="None until the data check has run")
    appeal_nos: list[str] = Field(
        default_factory=list, sa_column=sa.Column(JSONB, nullable=False, server_default="[]")
    )
    outcome: str = Field(max_length=16, description="pending | clean | recurred | unconfirmed")
    finding_present: bool | None = None
    finding_note: str | None = Field(default=None, sa_type=sa.Text)
    finding_by: str | None = Field(default=None, max_length=64)
    finding_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    updated_at: datetime = Field(sa_column=now_column())


class MonthlyTheme(SQLModel, table=True):
    """The month's theme (每月一题), picked by a supervisor from the proposed candidates."""

    __tablename__ = "monthly_theme"

    month: date = Field(primary_key=True, description="the first day of the month")
    title: str = Field(max_length=200)
    description: str | None = Field(default=None, sa_type=sa.Text)
    chosen_by: str = Field(max_length=64)
    chosen_at: datetime = Field(sa_column=now_column())


class MonthlyProblem(SQLModel, table=True):
    """One of the month's 2–3 problems; its progress is its governance task's."""

    __tablename__ = "monthly_problem"
    __table_args__ = (sa.UniqueConstraint("month", "position", name="uq_monthly_problem_position"),)

    id: int | None = Field(default=None, primary_key=True)
    month: date = Field(foreign_key="monthly_theme.month", index=True)
    position: int
    title: str = Field(max_length=200)
    task_id: int = Field(foreign_key="governance_task.id", unique=True)


class ThemeCandidate(SQLModel, table=True):
    """A theme the monthly analysis proposed for a closed month, kept so the proposal reads
    the same every time (the figures as computed that night)."""

    __tablename__ = "theme_candidate"

    month: date = Field(primary_key=True)
    rank: int = Field(primary_key=True)
    category_code: str = Field(max_length=40)
    district_code: str | None = Field(default=None, max_length=12)
    count: int = Field(description="appeals in the month")
    previous: int = Field(description="appeals in the month before")
    change: int
    change_pct: float | None = Field(default=None, description="None when there were none before")
    reasons: list[str] = Field(
        default_factory=list, sa_column=sa.Column(JSONB, nullable=False, server_default="[]"),
        description="largest, rising, or both",
    )
    examples: list[str] = Field(default_factory=list, sa_column=sa.Column(JSONB, nullable=False, server_default="[]"))
    detail: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(JSONB, nullable=False, server_default="{}"),
        description="everything the proposal said about it",
    )
    proposed_at: datetime = Field(sa_column=now_column())

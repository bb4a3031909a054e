"""Assessment (三率): reviews that exclude appeals, and the frozen months with their facts and
rollups."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from db.models.base import now_column


class AssessmentExclusion(SQLModel, table=True):
    """Append-only audit of reviews that take an appeal out of the three rates (unreasonable
    demand, malicious or repeated calls...) or put it back. The appeal row's `excluded` follows the
    latest review."""

    __tablename__ = "assessment_exclusion"

    id: int | None = Field(default=None, primary_key=True)
    appeal_no: str = Field(foreign_key="appeal.appeal_no", index=True, max_length=32)
    excluded: bool = Field(description="true: excluded; false: put back")
    reason: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    username: str = Field(max_length=64)
    role: str = Field(max_length=24)
    at: datetime = Field(sa_column=now_column())


class AssessmentRun(SQLModel, table=True):
    """A frozen month: its figures come from `assessment_fact` as captured then, so they are the
    same every time they are asked for. The settings used are kept with it."""

    __tablename__ = "assessment_run"

    month: date = Field(primary_key=True, description="the first day of the month")
    frozen_at: datetime = Field(sa_column=now_column())
    frozen_by: str = Field(max_length=64, description="a user, or 'schedule'")
    appeals: int = 0
    settings: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(JSONB, nullable=False, server_default="{}")
    )


class AssessmentFact(SQLModel, table=True):
    """One appeal as it counted in a frozen month (the drill-down behind a frozen figure)."""

    __tablename__ = "assessment_fact"
    __table_args__ = (sa.Index("ix_assessment_fact_month_unit", "month", "unit_code"),)

    month: date = Field(foreign_key="assessment_run.month", primary_key=True)
    appeal_no: str = Field(primary_key=True, max_length=32)
    unit_code: str = Field(max_length=40)
    district_code: str | None = Field(default=None, max_length=12)
    street_code: str | None = Field(default=None, max_length=40)
    category_code: str = Field(max_length=40)
    closed_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    contacted_in_time: bool | None = None
    citizen_contacted: str | None = Field(default=None, max_length=12)
    outcome: str = Field(max_length=32)
    satisfaction: str | None = Field(default=None, max_length=24)
    excluded: bool = False


class AssessmentRollup(SQLModel, table=True):
    """Counts of a frozen month per unit × place × category, so a year of figures is a few
    thousand rows to add up rather than a million appeals."""

    __tablename__ = "assessment_rollup"
    __table_args__ = (
        sa.UniqueConstraint(
            "month", "unit_code", "district_code", "street_code", "category_code",
            name="uq_assessment_rollup_cell", postgresql_nulls_not_distinct=True,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    month: date = Field(foreign_key="assessment_run.month", index=True)
    unit_code: str = Field(max_length=40)
    district_code: str | None = Field(default=None, max_length=12)
    street_code: str | None = Field(default=None, max_length=40)
    category_code: str = Field(max_length=40)
    closed: int = 0  # every closed appeal of the unit, evaluated or not
    excluded: int = 0
    not_evaluated: int = 0
    base: int = 0  # evaluated and not excluded
    contacted_in_time: int = 0  # the unit's own record of contact within the limit
    responded: int = 0  # what the response rate counts: the citizen's answer, else the unit's record
    resolved: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0

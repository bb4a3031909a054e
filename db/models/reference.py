"""Reference data (loaded from seed/data by db/reference_data.py): the directory of districts and
units, the dispatch catalogue and its routing rules, the time-limit policies, the calendar."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.models.base import enum_column_type
from domain.types import AppealType, DayKind, LimitUnit, UnitKind, Urgency

# --- directory ----------------------------------------------------------------------------


class District(SQLModel, table=True):
    """One of Beijing's 16 districts, by its GB/T 2260 code (e.g. 110105 朝阳区)."""

    code: str = Field(primary_key=True, max_length=12)
    name_zh: str = Field(max_length=50)
    name_en: str = Field(max_length=100)


class Unit(SQLModel, table=True):
    """A handling unit (承办单位). Streets and townships sit under their district government."""

    code: str = Field(primary_key=True, max_length=40)
    name_zh: str = Field(max_length=100)
    name_en: str = Field(max_length=200)
    kind: UnitKind = Field(sa_column=sa.Column(enum_column_type(UnitKind, "unit_kind"), nullable=False))
    parent_code: str | None = Field(default=None, foreign_key="unit.code", index=True)
    district_code: str | None = Field(default=None, foreign_key="district.code", index=True)
    active: bool = True


# --- dispatch catalogue (派单目录) -----------------------------------------------------


class Category(SQLModel, table=True):
    """A node of the category tree. `theme` groups the 12345 top themes; `pain_point` marks the
    livelihood pain points tracked by "one problem a month"."""

    code: str = Field(primary_key=True, max_length=40)
    parent_code: str | None = Field(default=None, foreign_key="category.code", index=True)
    name_zh: str = Field(max_length=100)
    name_en: str = Field(max_length=200)
    theme: str | None = Field(default=None, max_length=50)
    pain_point: bool = False
    default_urgency: Urgency = Field(
        default=Urgency.ORDINARY,
        sa_column=sa.Column(
            enum_column_type(Urgency, "urgency"), nullable=False, server_default=Urgency.ORDINARY.value
        ),
    )


class RoutingRule(SQLModel, table=True):
    """category × area → unit. A rule with no district applies city-wide; a rule with a street
    applies only there. The most specific matching rule wins; the district government is the
    backstop when none matches."""

    __tablename__ = "routing_rule"
    __table_args__ = (
        sa.UniqueConstraint(
            "category_code",
            "district_code",
            "street_code",
            name="uq_routing_rule_area",
            postgresql_nulls_not_distinct=True,
        ),
        sa.CheckConstraint(
            "unit_code IS NOT NULL OR to_local_street", name="has_target"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    category_code: str = Field(foreign_key="category.code", index=True)
    district_code: str | None = Field(default=None, foreign_key="district.code")
    street_code: str | None = Field(default=None, foreign_key="unit.code")
    unit_code: str | None = Field(default=None, foreign_key="unit.code")
    # Instead of one unit, a rule may point at "the street where it happened"; outside any
    # street the district government (backstop) takes it.
    to_local_street: bool = False


# --- time limits ---------------------------------------------------------------------------


class TimeLimitPolicy(SQLModel, table=True):
    """urgency × appeal type → the limits the workflow's timers run on."""

    __tablename__ = "time_limit_policy"

    urgency: Urgency = Field(
        sa_column=sa.Column(enum_column_type(Urgency, "urgency"), primary_key=True)
    )
    appeal_type: AppealType = Field(
        sa_column=sa.Column(enum_column_type(AppealType, "appeal_type"), primary_key=True)
    )
    contact_limit: int = Field(ge=1, description="Time to first contact the citizen.")
    contact_limit_unit: LimitUnit = Field(
        sa_column=sa.Column(enum_column_type(LimitUnit, "limit_unit"), nullable=False)
    )
    completion_limit: int = Field(ge=1)
    completion_limit_unit: LimitUnit = Field(
        sa_column=sa.Column(enum_column_type(LimitUnit, "limit_unit"), nullable=False)
    )
    objection_window: int = Field(ge=1, description="Time to raise a jurisdiction objection.")
    objection_window_unit: LimitUnit = Field(
        sa_column=sa.Column(enum_column_type(LimitUnit, "limit_unit"), nullable=False)
    )
    return_visit_window: int = Field(ge=1, description="Time to evaluate before it closes.")
    return_visit_window_unit: LimitUnit = Field(
        sa_column=sa.Column(enum_column_type(LimitUnit, "limit_unit"), nullable=False)
    )


class CalendarDay(SQLModel, table=True):
    """A date that breaks the weekday rule: a public holiday or an adjusted working day."""

    __tablename__ = "calendar_day"

    day: date = Field(primary_key=True)
    kind: DayKind = Field(sa_column=sa.Column(enum_column_type(DayKind, "day_kind"), nullable=False))
    name: str = Field(max_length=50)

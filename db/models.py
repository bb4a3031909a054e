"""Tables. Reference data (units, catalogue, policies, calendar, users) is owned here;
appeal rows and their timeline are projections written by workflow activities.

Personal data (citizen contacts) is kept in its own table, never on the appeal row, so it can be
access-controlled and purged on its own.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from domain.types import AppealType, DayKind, LimitUnit, Role, UnitKind, Urgency

# Constraint names are derived, so migrations are deterministic and reversible.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _enum(enum_cls: type, name: str) -> sa.Enum:
    """A PostgreSQL enum storing the StrEnum's values (not its member names)."""
    return sa.Enum(enum_cls, name=name, values_callable=lambda e: [m.value for m in e])


def _now_column() -> Any:
    return sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


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
    kind: UnitKind = Field(sa_column=sa.Column(_enum(UnitKind, "unit_kind"), nullable=False))
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
            _enum(Urgency, "urgency"), nullable=False, server_default=Urgency.ORDINARY.value
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
        sa_column=sa.Column(_enum(Urgency, "urgency"), primary_key=True)
    )
    appeal_type: AppealType = Field(
        sa_column=sa.Column(_enum(AppealType, "appeal_type"), primary_key=True)
    )
    contact_limit: int = Field(ge=1, description="Time to first contact the citizen.")
    contact_limit_unit: LimitUnit = Field(
        sa_column=sa.Column(_enum(LimitUnit, "limit_unit"), nullable=False)
    )
    completion_limit: int = Field(ge=1)
    completion_limit_unit: LimitUnit = Field(
        sa_column=sa.Column(_enum(LimitUnit, "limit_unit"), nullable=False)
    )
    objection_window: int = Field(ge=1, description="Time to raise a jurisdiction objection.")
    objection_window_unit: LimitUnit = Field(
        sa_column=sa.Column(_enum(LimitUnit, "limit_unit"), nullable=False)
    )
    return_visit_window: int = Field(ge=1, description="Time to evaluate before it closes.")
    return_visit_window_unit: LimitUnit = Field(
        sa_column=sa.Column(_enum(LimitUnit, "limit_unit"), nullable=False)
    )


class CalendarDay(SQLModel, table=True):
    """A date that breaks the weekday rule: a public holiday or an adjusted working day."""

    __tablename__ = "calendar_day"

    day: date = Field(primary_key=True)
    kind: DayKind = Field(sa_column=sa.Column(_enum(DayKind, "day_kind"), nullable=False))
    name: str = Field(max_length=50)


# --- appeals (projection) ------------------------------------------------------------------


#: Numbers appeals: BJ-<date>-<next value>.
APPEAL_NO_SEQ = sa.Sequence("appeal_no_seq", metadata=SQLModel.metadata)


class Appeal(SQLModel, table=True):
    """The current state of one work order, projected from its workflow. `seq` is the number of
    the last event applied, so a late or repeated write can never move the row backwards."""

    appeal_no: str = Field(primary_key=True, max_length=32)
    workflow_id: str = Field(max_length=64, unique=True)
    idempotency_key: str | None = Field(default=None, max_length=128, unique=True)
    idempotency_fingerprint: str | None = Field(
        default=None, max_length=64, description="Hash of the request first sent with the key."
    )
    citizen_token_version: int = Field(
        default=1,
        sa_column_kwargs={"server_default": "1"},
        description="Bumped to rotate the citizen's token.",
    )
    status: str = Field(max_length=32, index=True)
    channel: str = Field(max_length=16)
    appeal_type: AppealType = Field(
        sa_column=sa.Column(_enum(AppealType, "appeal_type"), nullable=False)
    )
    category_code: str = Field(foreign_key="category.code", index=True)
    urgency: Urgency = Field(sa_column=sa.Column(_enum(Urgency, "urgency"), nullable=False))
    district_code: str | None = Field(default=None, foreign_key="district.code", index=True)
    street_code: str | None = Field(default=None, foreign_key="unit.code", index=True)
    location_address: str | None = Field(default=None, max_length=300)
    latitude: float | None = None
    longitude: float | None = None
    content: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    attachments: list[str] = Field(
        default_factory=list, sa_column=sa.Column(JSONB, nullable=False, server_default="[]")
    )
    handling_unit_code: str | None = Field(default=None, foreign_key="unit.code", index=True)
    received_at: datetime = Field(
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, index=True)
    )
    dispatched_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    contact_deadline: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    completion_deadline: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    closed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    overdue: bool = Field(default=False, index=True)
    supervised: bool = False
    rehandle_count: int = 0
    resolved: bool | None = None
    satisfaction: str | None = Field(default=None, max_length=24)
    outcome: str | None = Field(default=None, max_length=32, description="How it was closed.")
    supervision_level: str | None = Field(default=None, max_length=16, description="district | municipal")
    master_no: str | None = Field(
        default=None, foreign_key="appeal.appeal_no", max_length=32, index=True,
        description="The appeal this one is linked to (duplicate or related).",
    )
    link_kind: str | None = Field(default=None, max_length=16, description="duplicate | related")
    origin_hotline: str | None = Field(
        default=None, max_length=32, description="Transferred in from this hotline (tianjin, hebei)."
    )
    origin_no: str | None = Field(default=None, max_length=64, description="Its number there.")
    contacted_in_time: bool | None = Field(
        default=None, description="The citizen was contacted within the (last round's) contact limit."
    )
    excluded: bool = Field(
        default=False,
        sa_column_kwargs={"server_default": sa.false()},
        description="Found unreasonable on review: left out of the three rates (see assessment_exclusion).",
    )
    state: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=sa.Column(JSONB, nullable=False, server_default="{}"),
        description="The workflow's full view (limits met or missed, parts, flags).",
    )
    seq: int = 0
    workflow_ended: str | None = Field(
        default=None,
        max_length=16,
        description="The appeal is open but its workflow ended (terminated, failed, timed_out, canceled): "
        "nothing reminds or escalates it until it is restarted or closed. Cleared by the next projection.",
    )
    created_at: datetime = Field(sa_column=_now_column())
    updated_at: datetime = Field(sa_column=_now_column())
    projection_failed_at: datetime | None = Field(
        default=None,
        sa_type=sa.DateTime(timezone=True),
        description="PostgreSQL refused the workflow's last projection: the row lags behind it (the timeline does not).",
    )
    projection_error: str | None = Field(default=None, max_length=300, description="Why, in PostgreSQL's words.")


#: Appeals whose workflow ended while they were open (few, listed for supervisors).
Appeal.__table__.append_constraint(
    sa.Index("ix_appeal_workflow_ended", "workflow_ended", postgresql_where=sa.text("workflow_ended IS NOT NULL"))
)

#: What the three rates read: closed, evaluated (or not) appeals of a unit, by the day they closed.
Appeal.__table__.append_constraint(
    sa.Index(
        "ix_appeal_assessment",
        "closed_at",
        postgresql_include=[
            "handling_unit_code", "district_code", "street_code", "category_code",
            "contacted_in_time", "outcome", "satisfaction", "excluded",
        ],
        postgresql_where=sa.text(
            "handling_unit_code IS NOT NULL AND outcome IN ('resolved', 'unresolved', 'not_evaluated')"
        ),
    )
)


class AppealEvent(SQLModel, table=True):
    """The append-only timeline. `idem_key` makes every write idempotent under retries and
    replays."""

    __tablename__ = "appeal_event"
    __table_args__ = (
        sa.UniqueConstraint("appeal_no", "seq", name="uq_appeal_event_seq"),
        sa.Index("ix_appeal_event_kind_occurred_at", "kind", "occurred_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    idem_key: str = Field(max_length=160, unique=True)
    appeal_no: str = Field(foreign_key="appeal.appeal_no", index=True, max_length=32)
    seq: int
    kind: str = Field(max_length=40)
    actor: str | None = Field(default=None, max_length=100)
    actor_role: str | None = Field(default=None, max_length=24)
    unit_code: str | None = Field(default=None, max_length=40)
    detail: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(JSONB, nullable=False, server_default="{}")
    )
    occurred_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    recorded_at: datetime = Field(sa_column=_now_column())


class AppealPart(SQLModel, table=True):
    """A co-handling unit's part (协办) or a summoned department's (吹哨报到), projected by the
    appeal's workflow: who, what, by when, how it went, and how the lead rated it."""

    __tablename__ = "appeal_part"

    appeal_no: str = Field(foreign_key="appeal.appeal_no", primary_key=True, max_length=32)
    unit_code: str = Field(foreign_key="unit.code", primary_key=True, max_length=40)
    kind: str = Field(primary_key=True, max_length=16, description="co_handling | whistle")
    workflow_id: str = Field(max_length=120)
    task: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    status: str = Field(max_length=24, index=True)
    requested_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    due: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    accepted_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    done_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    overdue: bool = False
    rating: int | None = None
    rating_comment: str | None = Field(default=None, max_length=500)
    closed_reason: str | None = Field(default=None, sa_type=sa.Text)
    updated_at: datetime = Field(sa_column=_now_column())


class Notification(SQLModel, table=True):
    """The transactional outbox: written with the projection that caused it, delivered
    afterwards (at least once; receivers dedupe on `idem_key`)."""

    __tablename__ = "notification_outbox"
    __table_args__ = (
        sa.Index(
            "ix_notification_outbox_pending",
            "next_attempt_at",
            postgresql_where=sa.text("delivered_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    idem_key: str = Field(max_length=160, unique=True)
    appeal_no: str | None = Field(default=None, max_length=32, index=True)
    recipient: str = Field(max_length=64, description="a unit code, or 'supervision:<district|city>'")
    topic: str = Field(max_length=40)
    payload: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(JSONB, nullable=False, server_default="{}")
    )
    created_at: datetime = Field(sa_column=_now_column())
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=_now_column())
    delivered_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    last_error: str | None = Field(default=None, max_length=500)


class CitizenContact(SQLModel, table=True):
    """Personal data of the appellant. Never leaves PostgreSQL; never enters Temporal."""

    __tablename__ = "citizen_contact"

    id: int | None = Field(default=None, primary_key=True)
    appeal_no: str = Field(foreign_key="appeal.appeal_no", unique=True, max_length=32)
    # sealed (encrypted) by db.pii: never readable in the database itself
    name: str | None = Field(default=None, sa_type=sa.Text)
    phone: str | None = Field(default=None, sa_type=sa.Text)
    id_number: str | None = Field(default=None, sa_type=sa.Text)
    address: str | None = Field(default=None, sa_type=sa.Text)
    anonymous: bool = False
    created_at: datetime = Field(sa_column=_now_column())


class PersonalDataAccess(SQLModel, table=True):
    """Append-only audit of every view of a citizen's unmasked personal data: who, when, which
    appeal, why."""

    __tablename__ = "personal_data_access"

    id: int | None = Field(default=None, primary_key=True)
    appeal_no: str = Field(foreign_key="appeal.appeal_no", index=True, max_length=32)
    username: str = Field(max_length=64)
    role: str = Field(max_length=24)
    unit_code: str | None = Field(default=None, max_length=40)
    purpose: str = Field(max_length=64)
    at: datetime = Field(sa_column=_now_column())


# --- people --------------------------------------------------------------------------------


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
    role: Role = Field(sa_column=sa.Column(_enum(Role, "user_role"), nullable=False))
    unit_code: str | None = Field(default=None, foreign_key="unit.code")
    district_code: str | None = Field(default=None, foreign_key="district.code")
    active: bool = True
    created_at: datetime = Field(sa_column=_now_column())


# --- assessment (三率) --------------------------------------------------------------------


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
    at: datetime = Field(sa_column=_now_column())


class AssessmentRun(SQLModel, table=True):
    """A frozen month: its figures come from `assessment_fact` as captured then, so they are the
    same every time they are asked for. The settings used are kept with it."""

    __tablename__ = "assessment_run"

    month: date = Field(primary_key=True, description="the first day of the month")
    frozen_at: datetime = Field(sa_column=_now_column())
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
    contacted_in_time: int = 0
    resolved: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0


# --- governance ----------------------------------------------------------------------------


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
    created_at: datetime = Field(sa_column=_now_column())
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
    updated_at: datetime = Field(sa_column=_now_column())


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
    updated_at: datetime = Field(sa_column=_now_column())


class MonthlyTheme(SQLModel, table=True):
    """The month's theme (每月一题), picked by a supervisor from the proposed candidates."""

    __tablename__ = "monthly_theme"

    month: date = Field(primary_key=True, description="the first day of the month")
    title: str = Field(max_length=200)
    description: str | None = Field(default=None, sa_type=sa.Text)
    chosen_by: str = Field(max_length=64)
    chosen_at: datetime = Field(sa_column=_now_column())


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
    proposed_at: datetime = Field(sa_column=_now_column())


# --- topics and hot spots ----------------------------------------------------------------


#: High-frequency counts and drill-downs (analytics.hotspots): a period of appeals is one range
#: scan of this index, never the rows.
Appeal.__table__.append_constraint(
    sa.Index(
        "ix_appeal_hotspot",
        "received_at",
        postgresql_include=["category_code", "district_code", "street_code", "appeal_no"],
    )
)
#: The appeals resolved at an address, the latest first: what a new appeal at the same address
#: is compared with (analytics.recurring).
Appeal.__table__.append_constraint(
    sa.Index(
        "ix_appeal_resolved_address",
        "category_code", "street_code", "location_address", "closed_at",
        postgresql_include=["appeal_no"],
        postgresql_where=sa.text("outcome = 'resolved' AND location_address IS NOT NULL"),
    )
)
#: ... and the ones resolved near a point.
Appeal.__table__.append_constraint(
    sa.Index(
        "ix_appeal_resolved_point",
        "category_code", "latitude",
        postgresql_include=["longitude", "closed_at", "appeal_no"],
        postgresql_where=sa.text("outcome = 'resolved' AND latitude IS NOT NULL AND longitude IS NOT NULL"),
    )
)


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


class Open311Channel(SQLModel, table=True):
    """A channel registered to file and follow appeals through Open311 GeoReport v2 (the city's
    app, WeChat, a partner platform, another hotline). Its key is shown once at creation; only
    its SHA-256 is kept (the key is 32 random bytes, so a plain hash is enough)."""

    __tablename__ = "channel"

    name: str = Field(primary_key=True, max_length=40)
    key_hash: str = Field(max_length=64, unique=True)
    kind: str = Field(default="app", max_length=16, description="the intake channel its appeals are recorded with")
    trusted: bool = Field(default=False, description="may hold the citizen's token for its appeals")
    created_at: datetime = Field(sa_column=_now_column())
    revoked_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


#: Open311's public list of requests: newest first, 举报 never listed (GET /open311/v2/requests).
Appeal.__table__.append_constraint(
    sa.Index(
        "ix_appeal_open311_public",
        Appeal.__table__.c.received_at.desc(),
        Appeal.__table__.c.appeal_no.desc(),
        postgresql_where=sa.text("appeal_type <> 'report'"),
    )
)

"""Appeals: the row projected from each appeal's workflow, its timeline, its parts (co-handling
and whistles), the notification outbox written with them, and the citizen's personal data with
the audit of who saw it.

Personal data (citizen contacts) is kept in its own table, never on the appeal row, so it can be
access-controlled and purged on its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from db.models.base import enum_column_type, now_column
from domain.messages import OPEN_ORDER_STATUSES
from domain.types import AppealType, Urgency

#: Numbers appeals: BJ-<date>-<next value>.
APPEAL_NO_SEQ = sa.Sequence("appeal_no_seq", metadata=SQLModel.metadata)


#: The limit an appeal's unit works to now (`db.appeals.next_due`), the units it has been
#: dispatched to, and what an open order is, written out: the indexes below are built on these
#: texts and the lists' statements use the same ones, with no parameters in them, so the planner
#: matches the two whatever plan it caches (a prepared statement's generic plan sees no values).
NEXT_DUE_SQL = (
    "CASE WHEN appeal.status NOT IN ('closed', 'answered', 'awaiting_evaluation', 'linked') "
    "AND appeal.contact_deadline IS NOT NULL AND (appeal.state #>> '{limits,contact,met_at}') IS NULL "
    "THEN appeal.contact_deadline "
    "WHEN appeal.status NOT IN ('closed', 'answered', 'awaiting_evaluation', 'linked') "
    "AND appeal.completion_deadline IS NOT NULL AND (appeal.state #>> '{limits,completion,met_at}') IS NULL "
    "THEN appeal.completion_deadline END"
)
UNITS_SQL = "appeal.state['units']"
OPEN_ORDER_SQL = "appeal.status IN (" + ", ".join(f"'{s}'" for s in OPEN_ORDER_STATUSES) + ")"


class Appeal(SQLModel, table=True):
    """The current state of one work order, projected from its workflow. `seq` is the number of
    the last event applied, so a late or repeated write can never move the row backwards."""

    __table_args__ = (
        #: Appeals whose workflow ended while they were open (few, listed for supervisors).
        sa.Index("ix_appeal_workflow_ended", "workflow_ended", postgresql_where=sa.text("workflow_ended IS NOT NULL")),
        #: What needs supervising (GET /supervision, oldest first, and its counts per district and
        #: unit): the few appeals overdue, supervised or whose workflow ended, never the whole table.
        sa.Index(
            "ix_appeal_supervision",
            "received_at", "appeal_no",
            postgresql_include=[
                "status", "district_code", "handling_unit_code", "overdue", "supervised", "supervision_level",
                "workflow_ended",
            ],
            postgresql_where=sa.text("overdue OR supervised OR workflow_ended IS NOT NULL"),
        ),
        #: What the three rates read: closed, evaluated (or not) appeals of a unit, by the day they closed.
        sa.Index(
            "ix_appeal_assessment",
            "closed_at",
            postgresql_include=[
                "handling_unit_code", "district_code", "street_code", "category_code",
                "contacted_in_time", "citizen_contacted", "outcome", "satisfaction", "excluded",
            ],
            postgresql_where=sa.text(
                "handling_unit_code IS NOT NULL AND outcome IN ('resolved', 'unresolved', 'not_evaluated')"
            ),
        ),
        #: Open311's public list of requests: newest first, 举报 never listed (GET /open311/v2/requests).
        sa.Index(
            "ix_appeal_open311_public",
            sa.text("received_at DESC"),
            sa.text("appeal_no DESC"),
            postgresql_where=sa.text("appeal_type <> 'report'"),
        ),
        #: High-frequency counts and drill-downs (analytics.hotspots): a period of appeals is one
        #: range scan of this index, never the rows.
        sa.Index(
            "ix_appeal_hotspot",
            "received_at",
            postgresql_include=["category_code", "district_code", "street_code", "appeal_no"],
        ),
        #: The appeals resolved at an address, the latest first: what a new appeal at the same
        #: address is compared with (analytics.recurring).
        sa.Index(
            "ix_appeal_resolved_address",
            "category_code", "street_code", "location_address", "closed_at",
            postgresql_include=["appeal_no"],
            postgresql_where=sa.text("outcome = 'resolved' AND location_address IS NOT NULL"),
        ),
        #: The operators' queues, oldest first: the held orders, objections and return visits due
        #: of one status, a page at a time (GET /appeals?status=…&sort=oldest).
        sa.Index("ix_appeal_status_received", "status", "received_at", "appeal_no"),
        #: Extension requests waiting for review, oldest first (GET /appeals?extension=requested).
        sa.Index(
            "ix_appeal_extension_requested",
            "received_at", "appeal_no",
            postgresql_where=sa.text("(state ->> 'extension') = 'requested'"),
        ),
        #: Everyone's inbox: the open orders by the limit they work to now, newest first among
        #: equals (GET /appeals?open=true&sort=due): a page reads its fifty rows, not every open order.
        sa.Index(
            "ix_appeal_open_due",
            sa.text(f"({NEXT_DUE_SQL})"), sa.text("received_at DESC"), sa.text("appeal_no DESC"),
            postgresql_where=sa.text(OPEN_ORDER_SQL),
        ),
        #: The appeals a unit has handled (a unit's lists: with the handling unit's index and the
        #: parts' a bitmap OR, never a scan of every appeal).
        sa.Index("ix_appeal_units", sa.text(f"({UNITS_SQL}) jsonb_path_ops"), postgresql_using="gin"),
        #: ... and the ones resolved near a point.
        sa.Index(
            "ix_appeal_resolved_point",
            "category_code", "latitude",
            postgresql_include=["longitude", "closed_at", "appeal_no"],
            postgresql_where=sa.text("outcome = 'resolved' AND latitude IS NOT NULL AND longitude IS NOT NULL"),
        ),
    )

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
        sa_column=sa.Column(enum_column_type(AppealType, "appeal_type"), nullable=False)
    )
    category_code: str = Field(foreign_key="category.code", index=True)
    urgency: Urgency = Field(sa_column=sa.Column(enum_column_type(Urgency, "urgency"), nullable=False))
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
        default=None, description="The unit recorded contact within the (last round's) contact limit."
    )
    citizen_contacted: str | None = Field(
        default=None,
        max_length=12,
        description="What the citizen said at the (last round's) return visit about being contacted: "
        "yes | no | not_asked; null before an evaluation. The response rate counts yes / no, and "
        "`contacted_in_time` where the citizen was not asked.",
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
    created_at: datetime = Field(sa_column=now_column())
    updated_at: datetime = Field(sa_column=now_column())
    projection_failed_at: datetime | None = Field(
        default=None,
        sa_type=sa.DateTime(timezone=True),
        description="PostgreSQL refused the workflow's last projection: the row lags behind it (the timeline does not).",
    )
    projection_error: str | None = Field(default=None, max_length=300, description="Why, in PostgreSQL's words.")


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
    recorded_at: datetime = Field(sa_column=now_column())


class AppealPart(SQLModel, table=True):
    """A co-handling unit's part (协办) or a summoned department's (吹哨报到), projected by the
    appeal's workflow: who, what, by when, how it went, and how the lead rated it."""

    __tablename__ = "appeal_part"
    __table_args__ = (
        # a unit's inbox (GET /parts): its open parts, the nearest limit first
        sa.Index("ix_appeal_part_inbox", "unit_code", "status", "due"),
    )

    appeal_no: str = Field(foreign_key="appeal.appeal_no", primary_key=True, max_length=32)
    unit_code: str = Field(foreign_key="unit.code", primary_key=True, max_length=40)
    kind: str = Field(primary_key=True, max_length=16, description="co_handling | whistle")
    workflow_id: str = Field(max_length=120)
    task: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    status: str = Field(max_length=24, index=True)
    requested_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    due: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    report_in_due: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True), description="whistle only")
    accepted_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    done_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    overdue: bool = False
    report_in_missed: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    missed: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    round: int = Field(default=1, sa_column_kwargs={"server_default": "1"}, description="asked again: 2, 3, ...")
    rating: int | None = None
    rating_comment: str | None = Field(default=None, max_length=500)
    closed_reason: str | None = Field(default=None, sa_type=sa.Text)
    updated_at: datetime = Field(sa_column=now_column())


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
    created_at: datetime = Field(sa_column=now_column())
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=now_column())
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
    created_at: datetime = Field(sa_column=now_column())


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
    at: datetime = Field(sa_column=now_column())

"""Activities of the appeal workflow: loading its time-limit terms, routing by the catalogue,
and projecting its state and timeline into PostgreSQL.

The projection is idempotent: each timeline event has a key (`<appeal>:<seq>`) and the appeal
row only moves forward (`seq` guard), so retries and replays never duplicate or regress.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.projection import refused
from db import reference
from db.models import Appeal, CalendarDay, TimeLimitPolicy
from db.session import session_factory
from domain.messages import AppealView, Limit, PolicyTerms, Terms, TimelineEvent
from domain.routing import NoRoute
from domain.types import AppealType, DayKind
from settings import Settings

#: Policies and the calendar change rarely; an edit reaches new appeals within a minute.
TERMS_TTL_S = 60.0


class RouteInput(BaseModel):
    category: str
    district: str | None
    street: str | None


class NotificationDraft(BaseModel):
    seq: int  # of the timeline event it tells of
    recipient: str
    topic: str
    detail: dict = {}


class ProjectionInput(BaseModel):
    view: AppealView
    events: list[TimelineEvent]
    notifications: list[NotificationDraft] = []
    error: str | None = None  # record_timeline: why the projection was refused


class AppealActivities:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.sessions = session_factory(engine)
        # the projection is one statement: no BEGIN / COMMIT round trips around it
        self.autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.directory = reference.DirectoryCache(engine)
        self._terms: dict[tuple[AppealType, date], tuple[float, Terms]] = {}

    @activity.defn(name="load_terms")
    async def load_terms(self, appeal_type: AppealType) -> Terms:
        """The policy rows for this appeal type and the calendar from a week ago to ~16 months
        ahead (longer than any limit plus extensions and re-handling)."""
        today = activity.info().current_attempt_scheduled_time.date()
        cached = self._terms.get((appeal_type, today))
        if cached is not None and time.monotonic() - cached[0] < TERMS_TTL_S:
            return cached[1]
        async with self.sessions() as session:
            policies = (
                await session.exec(select(TimeLimitPolicy).where(TimeLimitPolicy.appeal_type == appeal_type))
            ).all()
            days = (
                await session.exec(
                    select(CalendarDay).where(
                        col(CalendarDay.day).between(today - timedelta(days=7), today + timedelta(days=490))
                    )
                )
            ).all()
        if not policies:
            raise ApplicationError(
                f"no time-limit policy for {appeal_type}: load the reference data",
                type="PolicyMissing",
            )
        terms = Terms(
            policies=[PolicyTerms.model_validate(p, from_attributes=True) for p in policies],
            holidays=[d.day for d in days if d.kind == DayKind.HOLIDAY],
            workdays=[d.day for d in days if d.kind == DayKind.WORKDAY],
            workday_end_hour=self.settings.workday_end_hour,
            reminder_at_fraction=self.settings.reminder_at_fraction,
            max_rehandles=self.settings.max_rehandles,
        )
        self._terms[(appeal_type, today)] = (time.monotonic(), terms)
        return terms

    @activity.defn(name="route_appeal")
    async def route_appeal(self, inp: RouteInput) -> str:
        """The unit the dispatch catalogue names (district government as backstop)."""
        directory = await self.directory.get()
        try:
            chosen = directory.route(category=inp.category, district=inp.district, street=inp.street)
        except NoRoute as e:
            raise ApplicationError(str(e), type="NoRoute", non_retryable=True) from e
        return chosen.unit

    @activity.defn(name="project_appeal")
    async def project_appeal(self, inp: ProjectionInput) -> int:
        """Write the timeline events and move the appeal row forward. Returns events written.

        One statement, so one round trip and its own transaction: the events and notifications
        are inserted (duplicates ignored), the row moves only to a higher `seq` (its lock makes
        later writers wait), and the parts follow the row only when it moved.

        PostgreSQL refusing the record itself (a value too long, a broken reference: the same
        statement would fail on every retry) is a `ProjectionRefused` error that is not retried:
        the workflow records the failure and runs on (see `record_timeline`)."""
        view = inp.view
        try:
            async with self.autocommit.connect() as conn:
                written, moved, known = (await conn.execute(_PROJECT, projection_params(inp))).one()
        except DBAPIError as e:
            raise refused(e, f"appeal {view.appeal_no}") from e
        if not moved and not known:
            # the intake writes the row before starting the workflow; retry until it shows
            raise ApplicationError(f"appeal row {view.appeal_no} not found", type="AppealRowMissing")
        return written

    @activity.defn(name="record_timeline")
    async def record_timeline(self, inp: ProjectionInput) -> int:
        """After a refused projection: the timeline events and their notifications only (the
        units still hear of reminders and missed limits), and the row flagged with the error; the
        row's state waits for the next projection that succeeds."""
        error = (inp.error or "projection refused")[: Appeal.__table__.c.projection_error.type.length]
        params = timeline_params(inp) | {"error": error}
        try:
            async with self.autocommit.connect() as conn:
                return (await conn.execute(_TIMELINE_ONLY, params)).scalar_one()
        except DBAPIError as e:
            raise refused(e, f"appeal {inp.view.appeal_no}") from e


def timeline_params(inp: ProjectionInput) -> dict:
    """The timeline events and notifications of one projection, as statement parameters (keys are
    the columns of `appeal_event` and `notification_outbox`)."""
    view = inp.view
    return dict(
        appeal_no=view.appeal_no,
        events=[
            dict(
                seq=e.seq,
                kind=e.kind,
                actor=e.actor.user if e.actor else None,
                actor_role=(e.actor.role.value if e.actor.role else "citizen") if e.actor else None,
                unit_code=e.unit,
                detail=e.detail,
                occurred_at=e.at.isoformat(),
            )
            for e in inp.events
        ],
        notifications=[
            dict(
                idem_key=f"{view.appeal_no}:{n.seq}:{n.recipient}",
                recipient=n.recipient,
                topic=n.topic,
                payload={"appeal_no": view.appeal_no, "event": n.topic, "seq": n.seq,
                         "status": view.status.value, "handling_unit": view.handling_unit,
                         "detail": n.detail},
            )
            for n in inp.notifications
        ],
    )


#: The appeal row's columns a projection writes. `projection_params` gives each its value; the
#: statement's `SET` and the bind types (each column's own) are made from this one list.
PROJECTED_COLUMNS = (
    "status", "urgency", "handling_unit_code", "dispatched_at", "contact_deadline", "completion_deadline",
    "closed_at", "contacted_in_time", "overdue", "supervised", "rehandle_count", "resolved", "satisfaction",
    "citizen_contacted", "outcome", "supervision_level", "master_no", "link_kind", "state", "seq",
)


def projection_params(inp: ProjectionInput) -> dict:
    """Everything one projection writes, as statement parameters: the row's columns by name
    (`PROJECTED_COLUMNS`), `parts` keyed by the columns of `appeal_part`, and the timeline's
    (`timeline_params`)."""
    return timeline_params(inp) | dict(
        parts=[p.model_dump(mode="json", include=_PART_FIELDS) | {"unit_code": p.unit} for p in inp.view.parts.values()],
    ) | row_values(inp.view)


def row_values(view: AppealView) -> dict:
    """The value of each of `PROJECTED_COLUMNS`, from the workflow's view."""
    limits = view.limits
    return dict(
        status=view.status.value,
        urgency=view.urgency.value,
        handling_unit_code=view.handling_unit,
        dispatched_at=view.dispatched_at,
        contact_deadline=limits["contact"].due if "contact" in limits else None,
        completion_deadline=limits["completion"].due if "completion" in limits else None,
        closed_at=view.closed_at,
        contacted_in_time=_contacted_in_time(limits.get("contact")),
        overdue=view.overdue,
        supervised=view.supervised,
        rehandle_count=view.rehandle_count,
        resolved=view.resolved,
        satisfaction=view.satisfaction.value if view.satisfaction else None,
        citizen_contacted=view.citizen_contacted.value if view.citizen_contacted else None,
        outcome=view.outcome.value if view.outcome else None,
        supervision_level=view.supervision_level,
        master_no=view.master_no,
        link_kind=view.link_kind,
        state=view.model_dump(mode="json"),
        seq=view.seq,
    )


_PART_FIELDS = {"kind", "workflow_id", "task", "status", "requested_at", "due", "accepted_at", "done_at", "overdue",
                "rating", "rating_comment", "closed_reason", "report_in_due", "report_in_missed", "missed", "round"}

#: The timeline part of a projection: events and their notifications, each once.
_EVENTS_CTE = """
    written AS (
        INSERT INTO appeal_event (idem_key, appeal_no, seq, kind, actor, actor_role, unit_code, detail, occurred_at)
        SELECT :appeal_no || ':' || e.seq, :appeal_no, e.seq, e.kind, e.actor, e.actor_role, e.unit_code,
               coalesce(e.detail, '{}'), e.occurred_at
        FROM jsonb_to_recordset(:events) AS e(seq int, kind text, actor text, actor_role text, unit_code text,
                                              detail jsonb, occurred_at timestamptz)
        ON CONFLICT (idem_key) DO NOTHING
        RETURNING 1
    ), notified AS (
        INSERT INTO notification_outbox (idem_key, appeal_no, recipient, topic, payload, attempts)
        SELECT n.idem_key, :appeal_no, n.recipient, n.topic, n.payload, 0
        FROM jsonb_to_recordset(:notifications) AS n(idem_key text, recipient text, topic text, payload jsonb)
        ON CONFLICT (idem_key) DO NOTHING
    )"""

#: The projection of one workflow task (see `project_appeal`). Data-modifying CTEs all run,
#: once, in the statement's snapshot; the parts' insert reads `moved`, so it follows the row.
_PROJECT = sa.text(
    """
    WITH""" + _EVENTS_CTE + """, moved AS (
        UPDATE appeal SET
            """ + ", ".join(f"{c} = :{c}" for c in PROJECTED_COLUMNS) + """,
            workflow_ended = NULL, updated_at = now(), projection_failed_at = NULL, projection_error = NULL
        WHERE appeal_no = :appeal_no AND seq < :seq
        RETURNING 1
    ), parts AS (
        INSERT INTO appeal_part (appeal_no, unit_code, kind, workflow_id, task, status, requested_at, due,
                                 accepted_at, done_at, overdue, rating, rating_comment, closed_reason,
                                 report_in_due, report_in_missed, missed, round)
        SELECT :appeal_no, p.unit_code, p.kind, p.workflow_id, p.task, p.status, p.requested_at, p.due,
               p.accepted_at, p.done_at, p.overdue, p.rating, p.rating_comment, p.closed_reason,
               p.report_in_due, coalesce(p.report_in_missed, false), coalesce(p.missed, false), coalesce(p.round, 1)
        FROM jsonb_to_recordset(:parts) AS p(unit_code text, kind text, workflow_id text, task text, status text,
                                             requested_at timestamptz, due timestamptz, accepted_at timestamptz,
                                             done_at timestamptz, overdue boolean, rating int,
                                             rating_comment text, closed_reason text, report_in_due timestamptz,
                                             report_in_missed boolean, missed boolean, round int)
        WHERE EXISTS (SELECT FROM moved)
        ON CONFLICT (appeal_no, unit_code, kind) DO UPDATE SET
            workflow_id = excluded.workflow_id, task = excluded.task, status = excluded.status,
            requested_at = excluded.requested_at, due = excluded.due, accepted_at = excluded.accepted_at,
            done_at = excluded.done_at, overdue = excluded.overdue, rating = excluded.rating,
            rating_comment = excluded.rating_comment, closed_reason = excluded.closed_reason,
            report_in_due = excluded.report_in_due, report_in_missed = excluded.report_in_missed,
            missed = excluded.missed, round = excluded.round, updated_at = now()
    )
    SELECT (SELECT count(*) FROM written)::int, EXISTS (SELECT FROM moved),
           EXISTS (SELECT FROM appeal WHERE appeal_no = :appeal_no)
    """
).bindparams(
    sa.bindparam("events", type_=JSONB),
    sa.bindparam("notifications", type_=JSONB),
    sa.bindparam("parts", type_=JSONB),
    *(sa.bindparam(c, type_=Appeal.__table__.c[c].type) for c in PROJECTED_COLUMNS),
)


#: After a refused projection (see `record_timeline`): events, notifications, the row flagged.
_TIMELINE_ONLY = sa.text(
    "WITH" + _EVENTS_CTE + """, flagged AS (
        UPDATE appeal SET projection_failed_at = coalesce(projection_failed_at, now()), projection_error = :error
        WHERE appeal_no = :appeal_no
    )
    SELECT (SELECT count(*) FROM written)::int
    """
).bindparams(sa.bindparam("events", type_=JSONB), sa.bindparam("notifications", type_=JSONB))


def _contacted_in_time(contact: Limit | None) -> bool | None:
    """The unit's own record of contact: met within the limit (True), missed (False), or still
    open or never set (None). The response rate counts it only where the citizen was not asked
    at the return visit (`citizen_contacted`; see analytics.rates)."""
    if contact is None or contact.open:
        return None
    return contact.met_in_time

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
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db import reference
from db.models import Appeal, AppealEvent, AppealPart, CalendarDay, Notification, TimeLimitPolicy
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


class AppealActivities:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.sessions = session_factory(engine)
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
        """Write the timeline events and move the appeal row forward. Returns events written."""
        view = inp.view
        async with self.engine.begin() as conn:
            written = 0
            if inp.events:
                stmt = (
                    insert(AppealEvent.__table__)
                    .values(
                        [
                            dict(
                                idem_key=f"{view.appeal_no}:{e.seq}",
                                appeal_no=view.appeal_no,
                                seq=e.seq,
                                kind=e.kind,
                                actor=e.actor.user if e.actor else None,
                                actor_role=(e.actor.role.value if e.actor.role else "citizen") if e.actor else None,
                                unit_code=e.unit,
                                detail=e.detail,
                                occurred_at=e.at,
                            )
                            for e in inp.events
                        ]
                    )
                    .on_conflict_do_nothing(index_elements=["idem_key"])
                    .returning(sa.literal(1))
                )
                written = len((await conn.execute(stmt)).all())
            if inp.notifications:
                await conn.execute(
                    insert(Notification.__table__)
                    .values(
                        [
                            dict(
                                idem_key=f"{view.appeal_no}:{n.seq}:{n.recipient}",
                                appeal_no=view.appeal_no,
                                recipient=n.recipient,
                                topic=n.topic,
                                payload={"appeal_no": view.appeal_no, "event": n.topic, "seq": n.seq,
                                         "status": view.status.value, "handling_unit": view.handling_unit,
                                         "detail": n.detail},
                            )
                            for n in inp.notifications
                        ]
                    )
                    .on_conflict_do_nothing(index_elements=["idem_key"])
                )
            limits = view.limits
            result = await conn.execute(
                sa.update(Appeal.__table__)
                .where(Appeal.__table__.c.appeal_no == view.appeal_no, Appeal.__table__.c.seq < view.seq)
                .values(
                    status=view.status.value,
                    urgency=view.urgency,
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
                    outcome=view.outcome.value if view.outcome else None,
                    supervision_level=view.supervision_level,
                    master_no=view.master_no,
                    link_kind=view.link_kind,
                    state=view.model_dump(mode="json"),
                    seq=view.seq,
                    updated_at=sa.func.now(),
                )
            )
            moved = result.rowcount == 1  # this write holds the row lock: later writers wait
            if moved and view.parts:  # parts follow the row: never an older view over a newer
                stmt = insert(AppealPart.__table__).values(
                    [
                        dict(
                            appeal_no=view.appeal_no,
                            unit_code=p.unit,
                            kind=p.kind.value,
                            workflow_id=p.workflow_id,
                            task=p.task,
                            status=p.status.value,
                            requested_at=p.requested_at,
                            due=p.due,
                            accepted_at=p.accepted_at,
                            done_at=p.done_at,
                            overdue=p.overdue,
                            rating=p.rating,
                            rating_comment=p.rating_comment,
                            closed_reason=p.closed_reason,
                        )
                        for p in view.parts.values()
                    ]
                )
                updated = {c: stmt.excluded[c] for c in ("workflow_id", "task", "status", "requested_at", "due",
                                                         "accepted_at", "done_at", "overdue", "rating",
                                                         "rating_comment", "closed_reason")}
                await conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["appeal_no", "unit_code", "kind"],
                        set_=updated | {"updated_at": sa.func.now()},
                    )
                )
            if not moved:
                exists = await conn.scalar(
                    sa.select(sa.literal(1)).where(Appeal.__table__.c.appeal_no == view.appeal_no)
                )
                if not exists:
                    # the intake writes the row before starting the workflow; retry until it shows
                    raise ApplicationError(f"appeal row {view.appeal_no} not found", type="AppealRowMissing")
        return written


def _contacted_in_time(contact: Limit | None) -> bool | None:
    """The response the three rates count: met within the limit (True), missed (False), or
    still open or never set (None)."""
    if contact is None or contact.open:
        return None
    return contact.met_in_time

"""Activities of active governance: the data check of an inspection, the task's projection, the
task's inspection Schedule, and the monthly theme proposal.

The projection is idempotent like the appeal's: the task row only moves forward (`seq` guard) and
an inspection row is written only by the projection that moved the row, so retries and replays
never duplicate or regress. The Schedule is created and deleted through the worker's own client
(`activity.client()`), and both calls tolerate having been done before.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.client import (
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.projection import refused
from analytics.hotspots import propose_candidates
from analytics.periods import Period
from db.models import Appeal, GovernanceInspection, GovernanceTask, Notification, ThemeCandidate
from db.session import session_factory
from domain.governance import (
    EVIDENCE_KEPT,
    GovernanceTaskView,
    Inspection,
    InspectionTrigger,
    notices,
    parse_month,
    schedule_id,
)
from settings import Settings

#: The workflow a task's Schedule starts (by name: activities do not import workflows).
INSPECTION_WORKFLOW = "GovernanceInspectionWorkflow"
#: A missed firing (server or workers down) still runs if it is this late, not later.
CATCHUP_WINDOW = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: metres per degree of latitude (the places are within a city: the flat approximation holds)
_M_PER_DEG = 111_320.0


class PlaceCheckInput(BaseModel):
    task_id: int
    category: str
    district: str | None
    street: str | None
    since: datetime
    until: datetime


class PlaceCheckResult(BaseModel):
    count: int
    appeal_nos: list[str]  # the first EVIDENCE_KEPT, oldest first


class GovernanceProjectionInput(BaseModel):
    view: GovernanceTaskView  # sent without its inspections: the changed ones follow
    rounds: int
    last_inspection_at: datetime | None
    inspections: list[Inspection] = []


class InspectionScheduleInput(BaseModel):
    task_id: int
    interval_days: int
    created_at: datetime


class ThemeProposalInput(BaseModel):
    month: str  # YYYY-MM
    limit: int = 10


def inspection_schedule(inp: InspectionScheduleInput, task_queue: str) -> Schedule:
    """Every `interval_days`, counted from the task's creation (interval specs are aligned to the
    epoch; the offset puts the firings on the task's own rhythm)."""
    every = timedelta(days=inp.interval_days)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            INSPECTION_WORKFLOW,
            InspectionTrigger(task_id=inp.task_id),
            id=f"governance-{inp.task_id}-inspection",  # the Schedule appends the firing time
            task_queue=task_queue,
            execution_timeout=timedelta(hours=1),
            static_summary=f"inspection of governance task {inp.task_id}",
        ),
        spec=ScheduleSpec(
            intervals=[ScheduleIntervalSpec(every=every, offset=(inp.created_at - _EPOCH) % every)],
            start_at=inp.created_at + timedelta(minutes=1),  # never at the moment of creation
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=CATCHUP_WINDOW),
        state=ScheduleState(note=f"inspections of governance task {inp.task_id}, every {inp.interval_days} days"),
    )


class GovernanceActivities:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.sessions = session_factory(engine)

    @activity.defn(name="check_governance_place")
    async def check_place(self, inp: PlaceCheckInput) -> PlaceCheckResult:
        """新增诉求: appeals of the task's category (or a narrower one) received at its place in
        (since, until]. The place is the district and street, narrowed by the task's address (the
        appeal's address contains it) or its radius around a point, whichever matches. Appeals
        found unreasonable on review are not evidence."""
        t = GovernanceTask.__table__.c
        async with self.engine.connect() as conn:
            task = (
                await conn.execute(
                    sa.select(t.location_address, t.latitude, t.longitude, t.radius_m).where(t.id == inp.task_id)
                )
            ).one_or_none()
            if task is None:
                raise ApplicationError(f"governance task {inp.task_id} not found", type="TaskRowMissing")
            a = Appeal.__table__.c
            where = [
                sa.or_(a.category_code == inp.category, a.category_code.startswith(inp.category + ".")),
                a.received_at > inp.since,
                a.received_at <= inp.until,
                sa.not_(a.excluded),
            ]
            if inp.district:
                where.append(a.district_code == inp.district)
            if inp.street:
                where.append(a.street_code == inp.street)
            near = []
            if task.location_address:
                near.append(sa.func.strpos(a.location_address, task.location_address) > 0)
            if task.latitude is not None and task.longitude is not None and task.radius_m:
                dy = (a.latitude - task.latitude) * _M_PER_DEG
                dx = (a.longitude - task.longitude) * _M_PER_DEG * sa.func.cos(sa.func.radians(task.latitude))
                near.append(dx * dx + dy * dy <= float(task.radius_m) ** 2)
            if near:
                where.append(sa.or_(*near))
            rows = (
                await conn.execute(
                    sa.select(a.appeal_no, sa.func.count().over().label("total"))
                    .where(*where)
                    .order_by(a.received_at, a.appeal_no)
                    .limit(EVIDENCE_KEPT)
                )
            ).all()
        return PlaceCheckResult(count=rows[0].total if rows else 0, appeal_nos=[r.appeal_no for r in rows])

    @activity.defn(name="project_governance_task")
    async def project_task(self, inp: GovernanceProjectionInput) -> bool:
        """Move the task row forward and write the inspections that changed. Returns whether
        this write moved the row (False: a newer one was there first)."""
        try:
            return await self._project_task(inp)
        except DBAPIError as e:
            raise refused(e, f"governance task {inp.view.task_id}") from e

    async def _project_task(self, inp: GovernanceProjectionInput) -> bool:
        v = inp.view
        t = GovernanceTask.__table__
        async with self.engine.begin() as conn:
            result = await conn.execute(
                sa.update(t)
                .where(t.c.id == v.task_id, t.c.seq < v.seq)
                .values(
                    status=v.status.value,
                    quiet_since=v.quiet_since,
                    clean_streak=v.clean_streak,
                    inspections=inp.rounds,
                    last_inspection_at=inp.last_inspection_at,
                    closed_at=v.closed_at,
                    close_reason=v.close_reason,
                    closed_by=v.closed_by,
                    owner_unit_code=v.owner_unit,
                    reassignments=[r.model_dump(mode="json") for r in v.reassignments],
                    seq=v.seq,
                    updated_at=sa.func.now(),
                )
            )
            moved = result.rowcount == 1  # holds the row lock: a later projection waits
            if moved and inp.inspections:
                stmt = insert(GovernanceInspection.__table__).values(
                    [
                        dict(
                            task_id=v.task_id,
                            round=i.round,
                            at=i.at,
                            since=i.since,
                            new_appeals=i.new_appeals,
                            appeal_nos=i.appeal_nos,
                            outcome=i.outcome.value,
                            finding_present=i.finding_present,
                            finding_note=i.finding_note,
                            finding_by=i.finding_by,
                            finding_at=i.finding_at,
                        )
                        for i in inp.inspections
                    ]
                )
                changed = ("new_appeals", "appeal_nos", "outcome", "finding_present", "finding_note",
                           "finding_by", "finding_at")
                await conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["task_id", "round"],
                        set_={c: stmt.excluded[c] for c in changed} | {"updated_at": sa.func.now()},
                    )
                )
            # the units hear of it in the same transaction (the outbox; once per key)
            if moved and (told := notices(v, inp.inspections)):
                await conn.execute(
                    insert(Notification.__table__)
                    .values([dict(idem_key=n.key, recipient=n.recipient, topic=n.topic, payload=n.payload)
                             for n in told])
                    .on_conflict_do_nothing(index_elements=["idem_key"])
                )
            if not moved:
                exists = await conn.scalar(sa.select(sa.literal(1)).where(t.c.id == v.task_id))
                if not exists:  # the API writes the row before starting the workflow
                    raise ApplicationError(f"governance task row {v.task_id} not found", type="TaskRowMissing")
        return moved

    @activity.defn(name="schedule_inspections")
    async def schedule_inspections(self, inp: InspectionScheduleInput) -> str:
        """Create the task's inspection Schedule (once: an existing one is left as it is)."""
        sid = schedule_id(inp.task_id)
        try:
            await activity.client().create_schedule(sid, inspection_schedule(inp, activity.info().task_queue))
        except ScheduleAlreadyRunningError:
            pass
        return sid

    @activity.defn(name="remove_inspection_schedule")
    async def remove_inspection_schedule(self, task_id: int) -> bool:
        """Delete the task's Schedule once the task has ended. False: it was gone already."""
        try:
            await activity.client().get_schedule_handle(schedule_id(task_id)).delete()
        except RPCError as e:
            if e.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True

    @activity.defn(name="propose_themes")
    async def propose_themes(self, inp: ThemeProposalInput) -> int:
        """每月一题 candidates for a closed month: the largest and fastest-rising problems, kept as
        computed tonight (a re-run replaces the month's list). Returns how many."""
        first = parse_month(inp.month)
        async with self.sessions() as session:
            candidates = await propose_candidates(session, Period.month(first.year, first.month), inp.limit)
        rows = [candidate_row(first, rank, c) for rank, c in enumerate(candidates, start=1)]
        async with self.engine.begin() as conn:
            c = ThemeCandidate.__table__.c
            await conn.execute(sa.delete(ThemeCandidate.__table__).where(c.month == first))
            if rows:
                await conn.execute(sa.insert(ThemeCandidate.__table__).values(rows))
        return len(rows)


def candidate_row(month, rank: int, c: dict) -> dict:
    """A proposal as stored: the columns a list needs, and everything it said in `detail`."""
    return dict(
        month=month,
        rank=rank,
        category_code=c["category"],
        district_code=c.get("district"),
        count=c["count"],
        previous=c["previous"],
        change=c["change"],
        change_pct=c.get("change_pct"),
        reasons=list(c.get("reasons", [])),
        examples=[str(e) for e in c.get("examples", [])][:EVIDENCE_KEPT],
        detail=c,
    )

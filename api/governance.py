"""What the governance routes share: the task's shapes, how a task is shown, who may see it,
how a problem is checked against the directory, and starting the tasks' workflows."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from analytics.periods import Period
from api.auth import Principal
from api.csv import CSV_RESPONSES
from api.error_codes import responses
from api.errors import ApiError, not_found
from db import governance as store
from db.models import District, GovernanceInspection, GovernanceTask
from db.reference import Directory
from domain.governance import (
    CLEAN_INSPECTIONS,
    INTERVAL_DAYS,
    QUIET_DAYS,
    GovernanceTaskView,
    GovernanceTerms,
    Reassignment,
    RoundOutcome,
    TaskSource,
    TaskStatus,
)
from domain.messages import TEXT
from domain.types import Role, UnitKind
from infra.governance import start_task_workflow
from infra.temporal import unreachable

READERS = (Role.ANALYST, Role.SUPERVISOR, Role.ADMINISTRATOR)
CSV = CSV_RESPONSES
#: A task's actions, sent to its workflow as Updates (refused there in the one shape).
REFUSALS = responses("forbidden", "invalid", "wrong_state", "wrong_unit", "refused", "not_confirmed")


class PeriodOut(BaseModel):
    label: str
    grain: str
    from_: date = Field(alias="from")
    to: date

    model_config = {"populate_by_name": True}


def period_out(p: Period) -> PeriodOut:
    return PeriodOut(label=p.label, grain=p.grain, from_=p.start, to=p.last)


class Place(BaseModel):
    category: str = Field(max_length=40, description="a dispatch-catalogue category (narrower ones count too)")
    district: str | None = Field(None, pattern=r"^\d{6}$", description="none: city-wide")
    street: str | None = Field(None, max_length=40, description="a street or township of the district")
    address: str | None = Field(None, min_length=2, max_length=300, description="appeals whose address contains it")
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    radius_m: int | None = Field(None, ge=10, le=5000, description="with latitude/longitude: how near counts")

    @model_validator(mode="after")
    def _point(self):
        if (self.latitude is None) != (self.longitude is None) or (self.radius_m is not None and self.latitude is None):
            raise ValueError("latitude, longitude and radius_m go together")
        return self


class TaskTerms(BaseModel):
    interval_days: int = Field(14, ge=INTERVAL_DAYS[0], le=INTERVAL_DAYS[1], description="inspect every N days")
    quiet_days: int = Field(60, ge=QUIET_DAYS[0], le=QUIET_DAYS[1], description="the problem stays away this long")
    clean_inspections: int = Field(
        3, ge=CLEAN_INSPECTIONS[0], le=CLEAN_INSPECTIONS[1], description="... and this many clean inspections in a row"
    )


class ProblemIn(Place, TaskTerms):
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=TEXT)
    owner_unit: str = Field(max_length=40, description="the unit that answers for it")
    evidence: list[Annotated[str, Field(max_length=32)]] = Field(
        default_factory=list, max_length=50, description="appeal numbers the problem was seen in"
    )


class InspectionOut(BaseModel):
    round: int
    at: datetime
    since: datetime
    new_appeals: int | None = Field(description="appeals at the place in (since, at]; null until checked")
    appeal_nos: list[str]
    outcome: RoundOutcome
    finding_present: bool | None
    finding_note: str | None
    finding_by: str | None
    finding_at: datetime | None


class TaskOut(BaseModel):
    id: int
    workflow_id: str
    title: str
    description: str | None
    source: TaskSource
    month: str | None = Field(description="YYYY-MM, for one of the month's problems")
    category: str
    district: str | None
    street: str | None
    address: str | None
    latitude: float | None
    longitude: float | None
    radius_m: int | None
    owner_unit: str
    evidence: list[str]
    interval_days: int
    quiet_days: int
    clean_inspections: int
    status: str = Field(description="starting (until the workflow's first record), active, closed, cancelled")
    created_by: str
    created_at: datetime
    quiet_since: datetime | None = Field(description="the problem was last seen then")
    clean_streak: int
    inspection_count: int
    last_inspection_at: datetime | None
    next_inspection: datetime | None
    finding_due: datetime | None = Field(description="the owner unit's on-site finding is due before this")
    closed_at: datetime | None
    close_reason: str | None
    closed_by: str | None
    reassignments: list[Reassignment] = Field(description="each handing to another unit, oldest first")
    inspections: list[InspectionOut] | None = Field(None, description="in the task's detail")


def present(
    row: GovernanceTask,
    inspections: list[GovernanceInspection] | None = None,
    month: str | None = None,
    view: GovernanceTaskView | None = None,
) -> TaskOut:
    """The task as the API shows it: the row, or the view an update has just returned."""
    if view is not None:
        status, quiet, streak, closed_at, reason, by = (
            view.status.value, view.quiet_since, view.clean_streak, view.closed_at, view.close_reason, view.closed_by)
        rounds = [InspectionOut(**i.model_dump()) for i in view.inspections]
        count, last = len(view.inspections), view.current.at if view.current else None
        next_at, due = view.next_inspection, view.finding_due
    else:
        status, quiet, streak, closed_at, reason, by = (
            row.status, row.quiet_since, row.clean_streak, row.closed_at, row.close_reason, row.closed_by)
        rounds = [InspectionOut.model_validate(i, from_attributes=True) for i in inspections] if inspections is not None else None
        count, last = row.inspections, row.last_inspection_at
        live = status in (TaskStatus.ACTIVE.value, store.STARTING)
        next_at = (last or row.created_at) + timedelta(days=row.interval_days) if live else None
        open_round = inspections[-1] if inspections else None
        due = (
            open_round.at + timedelta(days=row.interval_days)
            if live and open_round is not None and open_round.finding_at is None
            and open_round.outcome in (RoundOutcome.PENDING.value, RoundOutcome.RECURRED.value)
            else None
        )
    return TaskOut(
        id=row.id, workflow_id=row.workflow_id, title=row.title, description=row.description,
        source=TaskSource(row.source), month=month, category=row.category_code, district=row.district_code,
        street=row.street_code, address=row.location_address, latitude=row.latitude, longitude=row.longitude,
        radius_m=row.radius_m, owner_unit=view.owner_unit if view else row.owner_unit_code, evidence=row.evidence,
        interval_days=row.interval_days, quiet_days=row.quiet_days, clean_inspections=row.clean_inspections,
        status=status, created_by=row.created_by, created_at=row.created_at, quiet_since=quiet,
        clean_streak=streak, inspection_count=count, last_inspection_at=last, next_inspection=next_at,
        finding_due=due, closed_at=closed_at, close_reason=reason, closed_by=by, inspections=rounds,
        reassignments=view.reassignments if view else [Reassignment(**r) for r in row.reassignments],
    )


TASK_COLUMNS = [
    "id", "title", "source", "month", "category", "district", "street", "address", "owner_unit", "status",
    "created_at", "interval_days", "quiet_days", "clean_inspections", "inspection_count", "clean_streak",
    "quiet_since", "last_inspection_at", "next_inspection", "finding_due", "closed_at", "close_reason",
]


# --- who may see a task ------------------------------------------------------------------------


def visible(row: GovernanceTask, principal: Principal) -> bool:
    if principal.role is Role.UNIT_STAFF:
        return row.owner_unit_code == principal.unit
    if principal.role is Role.SUPERVISOR and principal.district:
        return row.district_code == principal.district
    return principal.role in READERS


async def task_for(task_id: int, session, principal: Principal) -> GovernanceTask:
    """The task if the caller may see it; a 404 otherwise, never revealing that it exists."""
    row = await store.get_task(session=session, task_id=task_id)
    if row is None or not visible(row, principal):
        raise not_found("governance task", str(task_id))
    return row


# --- checking a problem against the directory ---------------------------------------------------


async def draft_from(body: ProblemIn, source: TaskSource, principal: Principal, directory: Directory, session,
                 where: str = "", month: str | None = None) -> store.TaskDraft:
    """The task a body asks for, every code checked (422 naming the field)."""
    def bad(field: str, message: str) -> ApiError:
        return ApiError(422, "validation_error", message, [{"field": where + field}])

    if body.category not in directory.categories:
        raise bad("category", f"unknown category {body.category!r}")
    owner = directory.units.get(body.owner_unit)
    if owner is None or not owner.active:
        raise bad("owner_unit", f"unknown or inactive unit {body.owner_unit!r}")
    district = body.district
    if body.street is not None:
        street = directory.units.get(body.street)
        if street is None or street.kind not in (UnitKind.STREET, UnitKind.TOWNSHIP):
            raise bad("street", f"{body.street!r} is not a street or township")
        if district is not None and street.district != district:
            raise bad("street", f"{body.street!r} is not in district {district}")
        district = street.district
    if district is not None and await session.get(District, district) is None:
        raise bad("district", f"unknown district {district!r}")
    if principal.district and district != principal.district:
        raise ApiError(403, "forbidden", f"a district supervisor sets tasks in district {principal.district} only")
    missing = sorted(set(body.evidence) - await store.existing_appeals(session=session, appeal_nos=body.evidence))
    if missing:
        raise bad("evidence", f"unknown appeals: {', '.join(missing)}")
    return store.TaskDraft(
        title=body.title.strip(), description=body.description, category=body.category, owner_unit=body.owner_unit,
        created_by=principal.actor, source=source, district=district, street=body.street,
        address=body.address.strip() if body.address else None, latitude=body.latitude, longitude=body.longitude,
        radius_m=body.radius_m, evidence=list(dict.fromkeys(body.evidence)), month=month,
        terms=GovernanceTerms(interval_days=body.interval_days, quiet_days=body.quiet_days,
                              clean_inspections=body.clean_inspections),
    )


async def start_tasks(temporal, settings, rows: list[GovernanceTask], month: str | None = None) -> None:
    """Start each task's workflow; if Temporal is away, the worker's reconciler starts them."""
    try:
        for row in rows:
            await start_task_workflow(temporal, settings.temporal_task_queue, store.task_input(row, month=month))
    except Exception as e:
        if not unreachable(e):
            raise
        ids = ", ".join(str(r.id) for r in rows)
        raise ApiError(503, "temporal_unavailable",
                       f"recorded (task {ids}); the inspections start when Temporal is back",
                       {"task_ids": [r.id for r in rows]}) from e

"""Active governance (主动治理、未诉先办): governance tasks with scheduled inspections, and (in
`api.routes.themes`, included here) one problem a month (每月一题).

Supervisors create and cancel tasks, ask for an extra inspection and pick the month's theme; the
owner unit's staff record on-site findings; analysts, supervisors and administrators read. Unit
staff see their own unit's tasks only, a district supervisor the district's (another task is a
404, as if it did not exist). Lists come as JSON with their period, or as CSV (`format=csv`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from temporalio.service import RPCError, RPCStatusCode

from analytics.periods import PeriodError, resolve
from api.auth import CurrentPrincipal, Principal, SupervisorDep, require
from api.csv import csv_response
from api.deps import DirectoryDep, ReadsDep, SessionDep, SettingsDep, TemporalDep, WriteSessionDep
from api.error_codes import responses
from api.errors import ApiError, refused
from api.governance import (
    CSV,
    READERS,
    REFUSALS,
    TASK_COLUMNS,
    PeriodOut,
    ProblemIn,
    TaskOut,
    draft_from,
    period_out,
    present,
    start_tasks,
    task_for,
)
from api.idempotency import IdempotencyKey, update_id
from api.periods import FormatDep
from api.privacy import scrubbed
from api.routes import themes
from api.temporal_calls import send_update
from db import governance as store
from db.models import GovernanceTask
from domain import governance as rules
from domain.governance import (
    FindingRecordInput,
    GovernanceTaskView,
    TaskCancelInput,
    TaskReassignInput,
    TaskSource,
    TaskStatus,
)
from domain.messages import TEXT
from domain.types import Role
from infra.schedules import trigger_inspection
from workflows.governance import GovernanceTaskWorkflow

router = APIRouter(
    tags=["governance"], responses=responses("not_found", "invalid_period", not_found="no governance task has this id")
)


Code = Annotated[str | None, Query(max_length=40)]
TaskId = Annotated[int, Path(ge=1, le=2_147_483_647)]


class TaskCreate(ProblemIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "方家胡同路灯反复不亮",
                    "description": "三个月内同一胡同路灯不亮诉求反复出现",
                    "source": "recurring",
                    "category": "MUNI.STREETLIGHT",
                    "district": "110101",
                    "street": "110101-ANDINGMEN",
                    "address": "方家胡同",
                    "owner_unit": "BJ-LIGHTING",
                    "evidence": ["BJ-20261203-000042"],
                    "interval_days": 14,
                    "quiet_days": 60,
                    "clean_inspections": 3,
                }
            ]
        }
    )

    source: TaskSource = Field(TaskSource.MANUAL, description="hotspot, recurring or manual")


class FindingIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"problem_present": False, "note": "夜间巡查，方家胡同路灯全部点亮"}]}
    )

    problem_present: bool = Field(description="is the problem there on site?")
    note: str = Field(min_length=1, max_length=TEXT, description="what was found and done")
    round: int | None = Field(None, ge=1, le=10_000, description="default: the round now open")


class CancelIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "并入每月一题“路灯照明”任务"}]})

    reason: str = Field(min_length=1, max_length=TEXT)


class ReassignIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"unit": "110101-CGW", "reason": "遮挡路灯的是违规广告牌，由区城管委治理"}]}
    )

    unit: str = Field(min_length=1, max_length=40, description="the unit that answers for the task from now on")
    reason: str = Field(min_length=1, max_length=TEXT)


class TaskPage(BaseModel):
    period: PeriodOut | None = Field(description="created in this period (null: any time)")
    items: list[TaskOut]
    total: int
    limit: int
    offset: int


class InspectionRequested(BaseModel):
    task_id: int
    schedule_id: str
    message: str


async def _execute(
    row: GovernanceTask, action: str, cmd: BaseModel, temporal, key: str | None = None
) -> GovernanceTaskView:
    """Send the task's workflow the Update of the action's name (`api.temporal_calls`). With an
    Idempotency-Key, a retry is answered as the first call was (the key is the Update's ID)."""
    update = getattr(GovernanceTaskWorkflow, action)
    return await send_update(
        temporal, row.workflow_id, update, cmd, status=row.status,
        gone=(row.status, f"the task is {row.status}: nothing more can be done"),
        id=update_id(update.__name__, cmd.actor, key),
    )


def _path(action: str) -> str:
    """The route of a task's staff action, as its table entry (`domain.governance.ACTIONS`) names it."""
    (route,) = rules.ACTIONS[action].routes
    return f"/governance/tasks/{{task_id}}/{route.path}"


def _taking(action: str):
    """The caller, admitted only in the roles of the action's table entry (403 for the others)."""
    return require(*rules.ACTIONS[action].roles)


@dataclass(frozen=True)
class _Seen:
    row: GovernanceTask
    month: str | None  # the month whose problem it is (每月一题), if one


async def _seen_task(task_id: TaskId, reads: ReadsDep, principal: CurrentPrincipal) -> _Seen:
    """The path's task if the caller may see it (a 404 otherwise), read in a session of its own
    that is given back before the route waits on the workflow."""
    async with reads() as session:
        row = await task_for(task_id, session, principal)
        return _Seen(row, await store.month_of_task(session=session, task_id=row.id))


#: The path's governance task. A route admitting only some roles names its role dependency
#: first, so a wrong role is a 403 before the lookup.
SeenTask = Annotated[_Seen, Depends(_seen_task)]


# --- tasks -------------------------------------------------------------------------------------


@router.post(
    "/governance/tasks",
    status_code=201,
    response_model=TaskOut,
    responses=responses(
        "forbidden",
        forbidden="a district supervisor setting a task in another district",
        temporal_unavailable="the task is recorded, and its inspections start when Temporal is back",
    ),
)
async def create_task(
    body: TaskCreate,
    reads: ReadsDep,
    tx: WriteSessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    directory: DirectoryDep,
    principal: SupervisorDep,
):
    """Turn a hot spot or a recurring problem into a governance task owned by a unit: inspected
    every `interval_days` by a Temporal Schedule, closed once the problem has stayed away
    `quiet_days` with `clean_inspections` clean inspections in a row."""
    if body.source is TaskSource.MONTHLY_PROBLEM:
        raise ApiError(422, "validation_error", "a month's problems are set with POST /governance/themes",
                       [{"field": "source"}])
    async with reads() as session:  # given back before the workflow is started
        draft = await draft_from(body, body.source, principal, await directory.get(), session)
    row = await store.add_task(session=tx, draft=draft)
    await tx.commit()
    await start_tasks(temporal, settings, [row])
    return present(row, [])


@router.get("/governance/tasks", response_model=TaskPage, responses=CSV)
async def list_tasks(
    session: SessionDep,
    principal: Principal = require(*READERS, Role.UNIT_STAFF),
    fmt: FormatDep = "json",
    status: Annotated[str | None, Query(pattern=r"^(starting|active|closed|cancelled)$")] = None,
    unit: Code = None,
    district: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    category: Code = None,
    source: TaskSource | None = None,
    period: Annotated[str | None, Query(max_length=10, description="created in: YYYY-MM, YYYY-Www or YYYY")] = None,
    first: Annotated[date | None, Query(alias="from", description="created from this day (with 'to')")] = None,
    last: Annotated[date | None, Query(alias="to", description="created up to this day, included")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
):
    """Governance tasks, newest first. Unit staff see their unit's; a district supervisor the
    district's."""
    p = None
    if period is not None or first is not None or last is not None:
        try:
            p = resolve(period, first, last)
        except PeriodError as e:
            raise ApiError(422, "invalid_period", str(e), {"field": "period"}) from e
    bounds = p.bounds() if p else (None, None)
    f = store.TaskFilter(
        status=status,
        unit=principal.unit if principal.role is Role.UNIT_STAFF else unit,
        district=principal.district if principal.role is Role.SUPERVISOR and principal.district else district,
        category=category,
        source=source.value if source else None,
        created_from=bounds[0],
        created_to=bounds[1],
    )
    rows, total = await store.search_tasks(session=session, f=f, limit=limit, offset=offset)
    months = await store.months_of_tasks(session=session, task_ids=[r.id for r in rows if r.source == "monthly_problem"])
    items = [present(r, None, months.get(r.id)) for r in rows]
    if fmt == "csv":
        return csv_response([i.model_dump() for i in items], TASK_COLUMNS, f"governance-tasks-{p.label if p else 'all'}")
    return TaskPage(period=period_out(p) if p else None, items=items, total=total, limit=limit, offset=offset)


@router.get("/governance/tasks/{task_id}", response_model=TaskOut)
async def get_task(task_id: TaskId, session: SessionDep, principal: Principal = require(*READERS, Role.UNIT_STAFF)):
    """The task with every inspection: the data check and the unit's on-site finding."""
    row = await task_for(task_id, session, principal)
    rounds = await store.inspections_of(session=session, task_ids=[row.id])
    return present(row, rounds[row.id], await store.month_of_task(session=session, task_id=row.id))


@router.post(_path("record_finding"), response_model=TaskOut, responses=REFUSALS)
async def record_finding(
    body: FindingIn, temporal: TemporalDep, principal: Annotated[Principal, _taking("record_finding")],
    task: SeenTask, idempotency_key: IdempotencyKey = None,
):
    """现场核查: the owner unit reports whether the problem is there, for the round now open. Found
    there, the quiet period starts again; found gone with no new appeal, the round is clean, and
    enough clean rounds over the agreed period close the task."""
    row, month = task.row, task.month
    cmd = FindingRecordInput(actor=principal.actor, **scrubbed(body.model_dump(), FindingRecordInput, None))
    return present(row, None, month, await _execute(row, "record_finding", cmd, temporal, idempotency_key))



@router.post(_path("cancel"), response_model=TaskOut, responses=REFUSALS)
async def cancel_task(
    body: CancelIn, temporal: TemporalDep, principal: Annotated[Principal, _taking("cancel")], task: SeenTask,
    idempotency_key: IdempotencyKey = None,
):
    """End the task before the problem is confirmed gone, with the reason (merged into another
    task, outside any unit's powers ...); its inspection schedule is deleted."""
    row, month = task.row, task.month
    cmd = TaskCancelInput(actor=principal.actor, **scrubbed({"reason": body.reason}, TaskCancelInput, None))
    return present(row, None, month, await _execute(row, "cancel", cmd, temporal, idempotency_key))



@router.post(_path("reassign"), response_model=TaskOut, responses=REFUSALS)
async def reassign_task(
    body: ReassignIn, temporal: TemporalDep, directory: DirectoryDep,
    principal: Annotated[Principal, _taking("reassign")], task: SeenTask, idempotency_key: IdempotencyKey = None,
):
    """Hand the task to another unit, with the reason (the owner was the wrong one, or the work
    has moved). The open round's on-site finding is then the new unit's to give; both units are
    notified, and the task lists every reassignment."""
    row, month = task.row, task.month
    unit = (await directory.get()).units.get(body.unit)
    if unit is None or not unit.active:
        message = f"unknown or inactive unit {body.unit!r}"
        raise ApiError(422, "validation_error", message, [{"field": "unit", "message": message}])
    cmd = TaskReassignInput(actor=principal.actor, **scrubbed(body.model_dump(), TaskReassignInput, None))
    return present(row, None, month, await _execute(row, "reassign", cmd, temporal, idempotency_key))


@router.post(
    "/governance/tasks/{task_id}/inspections",
    status_code=202,
    response_model=InspectionRequested,
    responses=responses("wrong_state", wrong_state="the task is not active, or its schedule is ending"),
)
async def inspect_now(temporal: TemporalDep, _: SupervisorDep, task: SeenTask):
    """An inspection now, on top of the scheduled ones (the task's Schedule fires once more):
    the data check runs at once and the owner unit owes an on-site finding."""
    row = task.row
    if row.status != TaskStatus.ACTIVE.value:
        raise refused("wrong_state", f"the task is {row.status}", row.status)
    try:
        await trigger_inspection(temporal, row.id)
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            raise refused("wrong_state", "the task's schedule is not there: the task is ending", row.status) from e
        raise
    return InspectionRequested(task_id=row.id, schedule_id=rules.schedule_id(row.id),
                               message="inspection requested: the data check runs now")


router.include_router(themes.router)

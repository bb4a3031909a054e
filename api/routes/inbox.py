"""A unit's inbox of parts: the co-handling parts (协办) asked of it and the whistles (吹哨报到)
that summoned it, from PostgreSQL, the nearest unmet limit first, each with the paths of what
it can do next. Staff outside the unit see every unit's (a district supervisor, the district's)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.auth import CurrentPrincipal
from api.deps import DirectoryDep, SessionDep
from api.error_codes import responses
from api.errors import ApiError
from api.routes.many_hands import SEGMENTS
from db import parts as store
from db.models import AppealPart
from db.reference import Directory
from domain import parts as rules
from domain.messages import OPEN_PARTS, PartKind, PartStatus
from domain.types import Role

router = APIRouter(
    tags=["many hands"], responses=responses("forbidden", forbidden="unit staff asking for another unit's parts")
)

#: Shown in Beijing time, with its offset (`+08:00`), whatever PostgreSQL hands back.

LimitState = Literal["running", "met_in_time", "missed", "stopped"]


class UnitRef(BaseModel):
    code: str
    name_zh: str | None = Field(description="from the unit directory; null for a code it does not know")


class PartLimitOut(BaseModel):
    due: datetime
    met_at: datetime | None = Field(description="reported in (report_in), reported done (done)")
    state: LimitState = Field(
        description="running: not met yet and not past; met_in_time; missed: passed before it was met (it may "
        "have been met late, see met_at); stopped: the part closed before it was met"
    )


class PartOut(BaseModel):
    appeal_no: str
    kind: PartKind
    unit: UnitRef
    status: PartStatus
    lead_unit: UnitRef | None = Field(description="the unit holding the appeal, which asked for the part")
    task: str
    requested_at: datetime
    round: int = Field(description="2, 3, ... when the unit was asked again after an earlier part closed")
    overdue: bool
    limits: dict[str, PartLimitOut] = Field(description="report_in (whistles only) and done")
    next_due: datetime | None = Field(description="the nearest limit not met yet (null once done or closed)")
    actions: dict[str, str] = Field(
        description="what the part can do next, by name, with its path (decline-review is the hotline's)"
    )


class PartPage(BaseModel):
    items: list[PartOut]
    total: int
    limit: int
    offset: int


#: The part's action paths (under /appeals/{no}/{co|whistle}/{unit}/) by workflow update; a
#: whistle reports in where a co-handling unit accepts.
_PATHS = {a.name: a.routes[0].path for a in rules.ACTIONS.values() if a.routes}
_SEGMENT = {kind: segment for segment, kind in SEGMENTS.items()}


def _paths(part: AppealPart, kind: PartKind) -> dict[str, str]:
    base = f"/appeals/{part.appeal_no}/{_SEGMENT[kind]}/{part.unit_code}"
    paths = {}
    for update in rules.actions_open(PartStatus(part.status)):
        path = "report-in" if update == "accept" and kind is PartKind.WHISTLE else _PATHS[update]
        paths[path] = f"{base}/{path}"
    return paths


def _limit(due: datetime, met_at: datetime | None, missed: bool, still_open: bool) -> PartLimitOut:
    if missed or (met_at is not None and met_at > due):
        state = "missed"
    elif met_at is not None:
        state = "met_in_time"
    else:
        state = "running" if still_open else "stopped"
    return PartLimitOut(due=due, met_at=met_at, state=state)


def _unit(code: str | None, directory: Directory) -> UnitRef | None:
    if code is None:
        return None
    facts = directory.units.get(code)
    return UnitRef(code=code, name_zh=facts.name_zh if facts else None)


def present(row: store.PartRow, directory: Directory) -> PartOut:
    part, kind = row.part, PartKind(row.part.kind)
    still_open = PartStatus(part.status) in OPEN_PARTS
    limits = {}
    if part.report_in_due is not None:
        limits["report_in"] = _limit(part.report_in_due, part.accepted_at, part.report_in_missed, still_open)
    limits["done"] = _limit(part.due, part.done_at, part.missed, still_open)
    return PartOut(
        appeal_no=part.appeal_no,
        kind=kind,
        unit=_unit(part.unit_code, directory),
        status=PartStatus(part.status),
        lead_unit=_unit(row.lead_unit, directory),
        task=part.task,
        requested_at=part.requested_at,
        round=part.round,
        overdue=part.overdue,
        limits=limits,
        next_due=row.next_due,
        actions=_paths(part, kind),
    )


@router.get("/parts", response_model=PartPage)
async def list_parts(
    session: SessionDep,
    directory: DirectoryDep,
    principal: CurrentPrincipal,
    status: Annotated[
        list[PartStatus] | None, Query(description="repeatable; default: the open ones (requested, accepted, declined)")
    ] = None,
    kind: PartKind | None = None,
    unit: Annotated[str | None, Query(max_length=40)] = None,
    overdue: bool | None = None,
    appeal_no: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
):
    """The parts asked of a unit — co-handling (协办) and whistles (吹哨报到) — the nearest unmet
    limit first (reporting in while not reported in, then the part's own limit), then the
    earliest asked. Unit staff see their own unit's (another `unit` is a 403); a district
    supervisor sees the parts of the district's appeals; operators, supervisors, analysts and
    administrators see every unit's and may choose one with `unit`."""
    if principal.role is Role.UNIT_STAFF:
        if principal.unit is None or (unit is not None and unit != principal.unit):
            raise ApiError(403, "forbidden", "unit staff see their own unit's parts only", {"field": "unit"})
        unit = principal.unit
    f = store.PartFilter(
        statuses=tuple(s.value for s in status) if status else store.OPEN,
        unit=unit,
        district=principal.district if principal.role is Role.SUPERVISOR else None,
        kind=kind.value if kind else None,
        overdue=overdue,
        appeal_no=appeal_no,
    )
    rows, total = await store.inbox(session=session, f=f, limit=limit, offset=offset)
    known = await directory.get()
    return PartPage(items=[present(r, known) for r in rows], total=total, limit=limit, offset=offset)

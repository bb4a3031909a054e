"""Many hands through the API: co-handling (协办), whistle-summoning (吹哨报到) and the parts'
own actions, supervision (督办), transfers (京津冀), duplicates and related appeals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from api.auth import OperatorDep, SupervisorDep
from api.deps import DirectoryDep, ReadsDep, SealerDep, SessionDep, SettingsDep, TemporalDep
from api.error_codes import ACTION, responses
from api.errors import ApiError, not_found
from api.idempotency import IdempotencyKey, update_id
from api.privacy import scrubbed_for_appeal
from api.routes.appeals import (
    BODIES,
    AppealOut,
    AppealPage,
    Ready,
    add_action,
    body_model,
    body_param,
    execute,
    present,
)
from api.visible import OptionalPrincipal, StaffAppeal, appeal_for
from db import appeals as store
from db.models import Appeal
from db.reference import Directory
from domain import collaboration, parts
from domain.core import Action, Route
from domain.messages import AppealStatus, PartKind, PartView, is_open_order
from domain.types import UnitKind
from workflows.cohandling import CoHandlingWorkflow

router = APIRouter(
    tags=["many hands"], responses=responses("not_found", not_found="the appeal is unknown, or not one the caller may see")
)


async def _street_blows(fields: dict, row: Appeal, directory: Directory, session) -> dict:
    lead = directory.units.get(row.handling_unit_code or "")
    if lead is None or lead.kind not in (UnitKind.STREET, UnitKind.TOWNSHIP):
        raise ApiError(403, "forbidden", "only a street or township holding the appeal can blow the whistle")
    return fields


async def _master_looked_up(fields: dict, row: Appeal, directory: Directory, session) -> dict:
    master = await store.get(session=session, appeal_no=fields["master_no"])
    if master is None:
        raise ApiError(422, "validation_error", f"unknown appeal {fields['master_no']!r}", [{"field": "master_no"}])
    if fields["kind"] == "duplicate" and master.status not in {s.value for s in collaboration.TAKES_DUPLICATES}:
        raise ApiError(422, "validation_error",
                       f"the master appeal is {master.status}: link this one as related", [{"field": "kind"}])
    if master.master_no == row.appeal_no:
        raise ApiError(422, "validation_error", "the master is linked to this appeal already", [{"field": "master_no"}])
    return fields | {"master_open": is_open_order(master.status)}


#: What a route looks up before its action goes to the workflow, by path.
PREPARE = {"whistle": _street_blows, "link": _master_looked_up}

for _action in collaboration.ACTIONS_MORE.values():
    for _route in _action.routes:
        add_action(router, _action, _route, prepare=PREPARE.get(_route.path))


# --- a part's own actions --------------------------------------------------------------------

SEGMENTS = {"co": PartKind.CO_HANDLING, "whistle": PartKind.WHISTLE}


def _add_part_action(action: Action, route: Route) -> None:
    """POST /appeals/{no}/{co|whistle}/{unit}/<route.path>: check who calls (the roles of the
    part's action), then send the part's workflow the Update of the action's name."""
    path, roles, input_type = route.path, action.roles, action.input_type
    update = getattr(CoHandlingWorkflow, action.name)
    Body = body_model(input_type, name="Part" + path.title().replace("-", "") + "Body")
    BODIES[f"part/{path}"] = Body

    async def ready(
        appeal_no: str,
        segment: str,
        unit: str,
        reads: ReadsDep,
        settings: SettingsDep,
        sealer: SealerDep,
        principal: OptionalPrincipal,
        idempotency_key: IdempotencyKey = None,
        body: Body = body_param(Body),  # type: ignore[valid-type]
    ) -> tuple[Ready, str]:
        body = Body() if body is None else body
        if principal is None:
            raise ApiError(401, "unauthorized", "a bearer token is required (POST /auth/token)")
        if principal.role not in roles:
            raise ApiError(403, "forbidden", f"this needs the role {', '.join(r.value for r in roles)}")
        kind = SEGMENTS.get(segment)
        async with reads() as session:
            seen = await appeal_for(appeal_no, session, principal, None, settings.secret_key)
            part = (seen.row.state or {}).get("parts", {}).get(f"{kind.value}:{unit}") if kind else None
            if part is None:
                raise not_found("part", f"{appeal_no}/{segment}/{unit}")
            fields = await scrubbed_for_appeal(
                body.model_dump(), input_type, appeal_no=seen.row.appeal_no, session=session, sealer=sealer
            )
        cmd = input_type(actor=seen.actor, **fields)
        return Ready(seen.row, cmd, update_id(path, seen.actor, idempotency_key)), part["workflow_id"]

    async def take_action(ready: tuple[Ready, str], temporal: TemporalDep) -> PartView:
        action, workflow_id = ready
        return await execute(workflow_id, update, action.cmd, action.row, temporal, id=action.id)

    ready.__annotations__["body"] = Body
    take_action.__annotations__["ready"] = Annotated[tuple[Ready, str], Depends(ready)]
    take_action.__doc__ = (update.__doc__ or "").strip()
    router.add_api_route(
        f"/appeals/{{appeal_no}}/{{segment}}/{{unit}}/{path}",
        take_action,
        methods=["POST"],
        response_model=PartView,
        responses=responses(
            *ACTION, not_found="the appeal is unknown or not visible, or the unit has no part of this kind in it"
        ),
        name=f"part_{path.replace('-', '_')}",
        summary=f"part: {path.replace('-', ' ')} (segment: co | whistle)",
    )


for _action in parts.ACTIONS.values():
    for _route in _action.routes:
        _add_part_action(_action, _route)


# --- reads ------------------------------------------------------------------------------------


@router.get("/appeals/{appeal_no}/duplicates", response_model=list[AppealOut])
async def duplicates(
    session: SessionDep,
    _: OperatorDep,  # operators link duplicates: only they look for them (named first: a 403 before the lookup)
    appeal: StaffAppeal,
    within_days: Annotated[int, Query(ge=1, le=365)] = 30,
):
    """Open appeals that look like the same matter (same category and street, and the same
    address if given, within N days): candidates for `POST /appeals/{no}/link`."""
    candidates = await store.duplicate_candidates(session=session, appeal=appeal.row, within_days=within_days)
    return [present(r) for r in candidates]


@router.get("/supervision", response_model=AppealPage)
async def supervision(
    session: SessionDep,
    principal: SupervisorDep,
    status: AppealStatus | None = None,
    district: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    unit: Annotated[str | None, Query(max_length=40)] = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
):
    """What needs supervising now, oldest first: open appeals overdue or under supervision, and
    open appeals whose workflow ended (`workflow_ended` set), to be restarted or closed. A
    district supervisor sees the district; `status=closed` shows the closed ones."""
    f = store.AppealFilter(
        supervision=True,
        status=status.value if status else None,
        district=principal.district or district,
        unit=unit,
        overdue=overdue,
    )
    rows, total, exact = await store.search(session=session, f=f, limit=limit, offset=offset)
    return AppealPage(items=[present(r) for r in rows], total=total, total_exact=exact, limit=limit, offset=offset)


class SupervisionFigures(BaseModel):
    appeals: int = Field(description="what the list shows under the same filters")
    overdue: int
    supervised: int = Field(description="under supervision (督办)")
    escalated: int = Field(description="escalated to municipal supervision")
    workflow_ended: int = Field(description="open, but their workflow ended: to be restarted or closed")


class DistrictFigures(SupervisionFigures):
    district: str | None = Field(description="null: appeals recorded without a place")
    name_zh: str | None


class UnitFigures(SupervisionFigures):
    unit: str | None = Field(description="the handling unit; null: not dispatched yet (held by the hotline)")
    name_zh: str | None


class SupervisionCounts(BaseModel):
    total: SupervisionFigures
    districts: list[DistrictFigures] = Field(description="the most overdue first")
    units: list[UnitFigures] = Field(description="the most overdue first")


def _figures(rows: list[store.SupervisionCount]) -> dict[str, int]:
    names = ("appeals", "overdue", "supervised", "escalated", "workflow_ended")
    return {name: sum(getattr(r, name) for r in rows) for name in names}


def _most_overdue(item: SupervisionFigures) -> tuple[int, int]:
    return -item.overdue, -item.appeals


@router.get("/supervision/counts", response_model=SupervisionCounts)
async def supervision_counts(
    session: SessionDep,
    directory: DirectoryDep,
    principal: SupervisorDep,
    status: AppealStatus | None = None,
    district: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    unit: Annotated[str | None, Query(max_length=40)] = None,
    overdue: bool | None = None,
):
    """What `GET /supervision` lists under the same filters, counted per district and per
    handling unit (overdue, supervised, escalated, workflow ended): where the late orders are.
    A district supervisor counts the district."""
    f = store.AppealFilter(
        supervision=True,
        status=status.value if status else None,
        district=principal.district or district,
        unit=unit,
        overdue=overdue,
    )
    rows = await store.supervision_counts(session=session, f=f)
    known = await directory.get()
    by_district: dict[str | None, list[store.SupervisionCount]] = {}
    by_unit: dict[str | None, list[store.SupervisionCount]] = {}
    for row in rows:
        by_district.setdefault(row.district, []).append(row)
        by_unit.setdefault(row.unit, []).append(row)
    districts = [
        DistrictFigures(district=code, name_zh=known.districts[code].name_zh if code in known.districts else None,
                        **_figures(group))
        for code, group in by_district.items()
    ]
    units = [
        UnitFigures(unit=code, name_zh=getattr(known.units.get(code or ""), "name_zh", None) or None, **_figures(group))
        for code, group in by_unit.items()
    ]
    return SupervisionCounts(
        total=SupervisionFigures(**_figures(rows)),
        districts=sorted(districts, key=lambda d: (*_most_overdue(d), d.district or "~")),
        units=sorted(units, key=lambda u: (*_most_overdue(u), u.unit or "~")),
    )

"""Reference data: the unit directory, the dispatch catalogue, time-limit policies, the
working-day calendar."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import DirectoryDep, SessionDep
from api.error_codes import responses
from api.errors import ApiError, not_found
from db import reference
from domain.messages import PolicyTerms
from domain.routing import NoRoute
from domain.types import AppealType, DayKind, UnitKind, Urgency

router = APIRouter(tags=["reference data"])


class UnitOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    kind: UnitKind
    parent_code: str | None
    district_code: str | None
    active: bool


class UnitPage(BaseModel):
    items: list[UnitOut]
    total: int
    limit: int
    offset: int


class CategoryNode(BaseModel):
    code: str
    name_zh: str
    name_en: str
    theme: str | None
    pain_point: bool
    default_urgency: Urgency
    children: list[CategoryNode] = Field(default_factory=list)


class Catalogue(BaseModel):
    categories: list[CategoryNode]
    count: int


class RouteOut(BaseModel):
    unit: UnitOut
    reason: str = Field(description="rule | local_street | backstop")
    matched_category: str | None


class PolicyOut(PolicyTerms):
    appeal_type: AppealType


class CalendarDayOut(BaseModel):
    day: date
    kind: DayKind
    name: str


class StreetOut(BaseModel):
    code: str
    name_zh: str
    kind: UnitKind = Field(description="street (街道) or township (乡镇)")


class DistrictOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    streets: list[StreetOut] = Field(description="its streets and townships, by name")


Code = Annotated[str, Query(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9.\-_]+$")]


@router.get("/units", response_model=UnitPage)
async def list_units(
    session: SessionDep,
    kind: UnitKind | None = None,
    district: Annotated[str | None, Query(max_length=12, pattern=r"^\d{6}$")] = None,
    parent: Annotated[str | None, Query(max_length=40)] = None,
    q: Annotated[str | None, Query(max_length=50, description="part of a name or code")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
):
    """The handling units (承办单位): district governments, departments, streets and townships,
    public-affairs organisations and public-service enterprises."""
    units, total = await reference.list_units(
        session=session, kind=kind, district=district, parent=parent, q=q, limit=limit, offset=offset
    )
    return UnitPage(
        items=[UnitOut.model_validate(u, from_attributes=True) for u in units],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/units/{code}", response_model=UnitOut, responses=responses("not_found", not_found="no unit has this code"))
async def get_unit(code: str, session: SessionDep):
    unit = await reference.get_unit(session=session, code=code)
    if unit is None:
        raise not_found("unit", code)
    return UnitOut.model_validate(unit, from_attributes=True)


@router.get("/districts", response_model=list[DistrictOut])
async def districts(directory: DirectoryDep):
    """Beijing's 16 districts (GB/T 2260 codes) with their active streets and townships: what an
    intake's `district` and `street` take."""
    known = await directory.get()
    local = (UnitKind.STREET, UnitKind.TOWNSHIP)
    streets: dict[str, list[StreetOut]] = {}
    for code, facts in known.units.items():
        if facts.kind in local and facts.active and facts.district:
            streets.setdefault(facts.district, []).append(StreetOut(code=code, name_zh=facts.name_zh, kind=facts.kind))
    return [
        DistrictOut(code=d.code, name_zh=d.name_zh, name_en=d.name_en,
                    streets=sorted(streets.get(d.code, []), key=lambda s: s.name_zh))
        for d in known.districts.values()
    ]


@router.get("/catalogue", response_model=Catalogue)
async def catalogue(session: SessionDep):
    """The dispatch catalogue's category tree (派单目录)."""
    rows = await reference.list_categories(session=session)
    nodes = {
        c.code: CategoryNode.model_validate(c, from_attributes=True) for c in rows
    }
    roots = []
    for c in rows:
        parent = nodes.get(c.parent_code) if c.parent_code else None
        (parent.children if parent else roots).append(nodes[c.code])
    return Catalogue(categories=roots, count=len(rows))


@router.get(
    "/catalogue/route",
    response_model=RouteOut,
    responses=responses(
        "no_route",
        validation_error="an unknown category or street, a street outside the district, or nothing to route by",
    ),
)
async def route(
    session: SessionDep,
    category: Code,
    district: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    street: Annotated[str | None, Query(max_length=40)] = None,
):
    """Which unit the catalogue sends an appeal of this category at this place to."""
    known = {c.code for c in await reference.list_categories(session=session)}
    if category not in known:
        raise ApiError(422, "validation_error", f"unknown category {category!r}", {"field": "category"})
    if street is not None:
        unit = await reference.get_unit(session=session, code=street)
        if unit is None or unit.kind not in (UnitKind.STREET, UnitKind.TOWNSHIP):
            raise ApiError(422, "validation_error", f"unknown street {street!r}", {"field": "street"})
        if district is not None and unit.district_code != district:
            raise ApiError(
                422,
                "validation_error",
                f"street {street!r} is not in district {district!r}",
                {"field": "street"},
            )
        district = unit.district_code
    try:
        chosen = await reference.route(session=session, category=category, district=district, street=street)
    except NoRoute as e:
        raise ApiError(422, "no_route", str(e), {"field": "district"}) from e
    unit = await reference.get_unit(session=session, code=chosen.unit)
    return RouteOut(
        unit=UnitOut.model_validate(unit, from_attributes=True),
        reason=chosen.reason,
        matched_category=chosen.category,
    )


@router.get("/policies", response_model=list[PolicyOut])
async def policies(session: SessionDep):
    """Time limits per urgency × appeal type."""
    return [PolicyOut.model_validate(p, from_attributes=True) for p in await reference.list_policies(session=session)]


@router.get("/calendar", response_model=list[CalendarDayOut])
async def calendar(
    session: SessionDep,
    start: date | None = Query(None, alias="from"),
    end: date | None = Query(None, alias="to"),
):
    """Public holidays and adjusted working days (the weekday rule covers the rest)."""
    if start and end and end < start:
        raise ApiError(422, "validation_error", "'to' is before 'from'", {"field": "to"})
    days = await reference.calendar_days(session=session, start=start, end=end)
    return [CalendarDayOut.model_validate(d, from_attributes=True) for d in days]

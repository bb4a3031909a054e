"""High-frequency problems, topics and recurring problems (active governance's evidence).

Every figure names its period (and the period it is compared with) and carries a `drilldown`
link: `GET /analytics/drilldown` with explicit dates and filters lists the appeals behind it.
A supervisor bound to a district sees that district only."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from analytics import hotspots, recurring, topics
from analytics.export import csv_response
from analytics.hotspots import Cell, Filters, Name
from analytics.periods import Period, month_start, next_month
from analytics.export import CSV_RESPONSES
from api.auth import Principal, require
from api.deps import SessionDep
from api.errors import ApiError, ErrorResponse
from api.periods import FormatDep, PeriodDep
from domain.types import Role

router = APIRouter(tags=["analytics"], responses={503: {"model": ErrorResponse}})

READERS = (Role.ANALYST, Role.SUPERVISOR, Role.ADMINISTRATOR)
CSV = CSV_RESPONSES
DRILL = "/analytics/drilldown"

CategoryQ = Annotated[
    str | None,
    Query(max_length=40, pattern=r"^[A-Za-z0-9._\-]+$", description="a category code (its sub-categories count too)"),
]
DistrictQ = Annotated[str | None, Query(pattern=r"^(\d{6}|none)$", description="a district code, or none")]
StreetQ = Annotated[
    str | None, Query(max_length=40, pattern=r"^[A-Za-z0-9._\-]+$", description="a street or township code, or none")
]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=100_000)]


# --- shapes ----------------------------------------------------------------------------------


class PeriodOut(BaseModel):
    label: str
    grain: str
    from_: date = Field(alias="from")
    to: date

    model_config = {"populate_by_name": True}


class NameOut(BaseModel):
    code: str | None = Field(description="None: no place given")
    name_zh: str
    name_en: str


class SeriesPoint(BaseModel):
    bucket: str = Field(description="2026-W43 or 2026-10")
    from_: date = Field(alias="from")
    to: date
    count: int
    drilldown: str

    model_config = {"populate_by_name": True}


class CellOut(BaseModel):
    category: NameOut
    place: NameOut
    count: int = Field(description="appeals received in the period")
    previous: int = Field(description="... in the period before")
    change: int
    change_pct: float | None = Field(description="change ÷ previous (None when there were none)")
    drilldown: str
    drilldown_previous: str
    series: list[SeriesPoint] | None = None
    examples: list[str] | None = Field(None, description="the latest appeal numbers of the period")


class TotalOut(BaseModel):
    count: int
    previous: int
    change: int
    change_pct: float | None
    drilldown: str


class HotspotPage(BaseModel):
    period: PeriodOut
    previous: PeriodOut
    place: str
    bucket: str | None
    category_level: str
    total: TotalOut
    cells: int = Field(description="category × place cells with appeals in either period")
    limit: int
    offset: int
    items: list[CellOut]


class TopicOut(BaseModel):
    topic: str
    label_en: str | None
    count: int
    previous: int
    change: int
    change_pct: float | None
    share: float | None = Field(description="of the period's appeals")
    examples: list[str]
    drilldown: str


class TopicPageOut(BaseModel):
    period: PeriodOut
    previous: PeriodOut
    appeals: int
    appeals_previous: int
    topics: int
    limit: int
    offset: int
    items: list[TopicOut]


class AppearanceOut(BaseModel):
    appeal_no: str
    received_at: datetime
    closed_at: datetime | None
    outcome: str | None
    status: str
    after: str | None = Field(description="the resolved appeal it came back after")
    came_back_after_days: float | None


class RecurrenceOut(BaseModel):
    category: NameOut
    district: NameOut
    street: NameOut
    address: str | None
    latitude: float | None
    longitude: float | None
    matched_by: list[str] = Field(description="address (same street and address) and/or radius")
    returns_in_period: int
    returns: int = Field(description="in the whole history shown")
    history: list[AppearanceOut]


class RecurrencePageOut(BaseModel):
    period: PeriodOut
    within_days: int
    radius_m: float
    total: int
    limit: int
    offset: int
    items: list[RecurrenceOut]


class DrillItem(BaseModel):
    appeal_no: str
    received_at: datetime
    category: str
    district: str | None
    street: str | None
    status: str
    outcome: str | None
    closed_at: datetime | None


class DrillPage(BaseModel):
    period: PeriodOut
    total: int
    limit: int
    offset: int
    items: list[DrillItem]


# --- helpers ---------------------------------------------------------------------------------


def _period_out(p: Period) -> PeriodOut:
    return PeriodOut(label=p.label, grain=p.grain, from_=p.start, to=p.last)


def _name(n: Name) -> NameOut:
    return NameOut(code=n.code, name_zh=n.name_zh, name_en=n.name_en)


async def _filters(session, principal: Principal, category: str | None, district: str | None,
                   street: str | None) -> Filters:
    """Known codes only (422 otherwise); a district supervisor is held to the district."""
    if principal.role is Role.SUPERVISOR and principal.district:
        if district is not None and district != principal.district:
            raise ApiError(403, "forbidden", f"a supervisor of district {principal.district} sees that district only")
        district = principal.district
    conn = await session.connection()
    checks = (("category", category, "SELECT 1 FROM category WHERE code = :c"),
              ("district", district, "SELECT 1 FROM district WHERE code = :c"),
              ("street", street, "SELECT 1 FROM unit WHERE code = :c AND kind IN ('street', 'township')"))
    for field, code, sql in checks:
        if code is not None and code != "none" and await conn.scalar(sa.text(sql), {"c": code}) is None:
            raise ApiError(422, "validation_error", f"unknown {field} {code!r}", {"field": field})
    if category == "none":
        raise ApiError(422, "validation_error", "unknown category 'none'", {"field": "category"})
    return Filters(category, district, street)


def _drill(first: date, last: date, **params: Any) -> str:
    query = {"from": first.isoformat(), "to": last.isoformat()}
    query |= {k: ("true" if v is True else v) for k, v in params.items() if v is not None and v is not False}
    return f"{DRILL}?{urlencode(query)}"


def _buckets(period: Period, bucket: str) -> list[tuple[str, date, date, date]]:
    """(label, truncated start, first day, last day) of each week or month the period touches."""
    out = []
    start = period.start - timedelta(days=period.start.weekday()) if bucket == "week" else month_start(period.start)
    while start < period.end:
        end = start + timedelta(days=7) if bucket == "week" else next_month(start)
        if bucket == "week":
            y, w, _ = start.isocalendar()
            label = f"{y}-W{w:02d}"
        else:
            label = start.strftime("%Y-%m")
        out.append((label, start, max(start, period.start), min(end, period.end) - timedelta(days=1)))
        start = end
    return out


def _cell_drill(c: Cell, place: str, level: str, f: Filters) -> dict[str, Any]:
    """The drill-down filters of one cell: its category (or theme) at its place, within the
    request's filters."""
    theme = level == "theme"
    params: dict[str, Any] = {
        "category": (f.category if theme and f.category else c.category),
        "subcategories": theme,
        "district": f.district,
        "street": f.street,
    }
    params[place] = c.place or "none"
    return params


async def _cells_out(session, period: Period, page: list[Cell], *, place: str, level: str, f: Filters,
                     bucket: str | None, with_examples: bool) -> list[CellOut]:
    before = period.previous()
    series = {}
    if bucket:
        series = await hotspots.series(session, period, page, bucket=bucket, place=place, category_level=level)
    if with_examples:
        await hotspots.add_examples(session, period, page, place=place, category_level=level)
    named = await hotspots.names(
        session, categories=[c.category for c in page],
        **{"districts" if place == "district" else "units": [c.place for c in page]},
    )
    kind = "district" if place == "district" else "unit"
    items = []
    for c in page:
        drill = _cell_drill(c, place, level, f)
        points = None
        if bucket:
            counts = series.get((c.category, c.place), {})
            points = [
                SeriesPoint(bucket=label, from_=first, to=last, count=counts.get(trunc, 0),
                            drilldown=_drill(first, last, **drill))
                for label, trunc, first, last in _buckets(period, bucket)
            ]
        items.append(CellOut(
            category=_name(named[("category", c.category)]), place=_name(named[(kind, c.place)]),
            count=c.count, previous=c.previous, change=c.change, change_pct=c.change_pct,
            drilldown=_drill(period.start, period.last, **drill),
            drilldown_previous=_drill(before.start, before.last, **drill),
            series=points, examples=c.examples if with_examples else None,
        ))
    return items


CELL_COLUMNS = ["category_code", "category_zh", "category_en", "place_code", "place_zh", "place_en", "count",
                "previous", "change", "change_pct"]


def _cell_rows(items: list[CellOut]) -> list[dict[str, Any]]:
    rows = []
    for i in items:
        row = {"category_code": i.category.code, "category_zh": i.category.name_zh, "category_en": i.category.name_en,
               "place_code": i.place.code, "place_zh": i.place.name_zh, "place_en": i.place.name_en,
               "count": i.count, "previous": i.previous, "change": i.change, "change_pct": i.change_pct,
               "examples": i.examples}
        if i.series is None:
            rows.append(row)
        else:
            rows += [row | {"bucket": p.bucket, "bucket_from": p.from_, "bucket_to": p.to, "bucket_count": p.count}
                     for p in i.series]
    return rows


# --- routes ----------------------------------------------------------------------------------


@router.get("/analytics/hotspots", response_model=HotspotPage, responses=CSV | {422: {"model": ErrorResponse}})
async def hotspot_counts(
    session: SessionDep,
    period: PeriodDep,
    fmt: FormatDep = "json",
    place: Literal["district", "street"] = "district",
    bucket: Annotated[Literal["week", "month"] | None, Query(description="a series per week or month")] = None,
    category_level: Annotated[
        Literal["leaf", "theme"], Query(description="leaf: as filed; theme: the catalogue's top level")
    ] = "leaf",
    category: CategoryQ = None,
    district: DistrictQ = None,
    street: StreetQ = None,
    limit: Limit = 50,
    offset: Offset = 0,
    principal: Principal = require(*READERS),
):
    """High-frequency problems (高频问题): appeals received per category × district (or street) in
    the period, against the period before, the most frequent first; with `bucket`, a series per
    week (ISO, Monday first) or month. Every count drills down to its appeals."""
    f = await _filters(session, principal, category, district, street)
    page = await hotspots.cells(session, period, place=place, category_level=category_level, filters=f,
                                limit=limit, offset=offset)
    items = await _cells_out(session, period, page.cells, place=place, level=category_level, f=f, bucket=bucket,
                             with_examples=False)
    if fmt == "csv":
        columns = CELL_COLUMNS + (["bucket", "bucket_from", "bucket_to", "bucket_count"] if bucket else [])
        return csv_response(_cell_rows(items), columns, f"hotspots-{place}-{period.label}")
    change = page.total - page.total_previous
    total_drill = {"category": f.category, "subcategories": f.category is not None, "district": f.district,
                   "street": f.street}
    return HotspotPage(
        period=_period_out(period), previous=_period_out(period.previous()), place=place, bucket=bucket,
        category_level=category_level,
        total=TotalOut(count=page.total, previous=page.total_previous, change=change,
                       change_pct=round(change / page.total_previous, 4) if page.total_previous else None,
                       drilldown=_drill(period.start, period.last, **total_drill)),
        cells=page.total_cells, limit=limit, offset=offset, items=items,
    )


@router.get("/analytics/rising", response_model=HotspotPage, responses=CSV | {422: {"model": ErrorResponse}})
async def rising_problems(
    session: SessionDep,
    period: PeriodDep,
    fmt: FormatDep = "json",
    place: Literal["district", "street"] = "district",
    category_level: Literal["leaf", "theme"] = "leaf",
    min_count: Annotated[int, Query(ge=1, le=100_000, description="appeals in the period, at least")] = 3,
    category: CategoryQ = None,
    district: DistrictQ = None,
    street: StreetQ = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    offset: Offset = 0,
    principal: Principal = require(*READERS),
):
    """The top rising problems: category × place with more appeals than in the period before,
    the largest increase first, with example appeal numbers."""
    f = await _filters(session, principal, category, district, street)
    page = await hotspots.cells(session, period, place=place, category_level=category_level, filters=f,
                                order="rising", min_count=min_count, rising_only=True, limit=limit, offset=offset)
    items = await _cells_out(session, period, page.cells, place=place, level=category_level, f=f, bucket=None,
                             with_examples=True)
    if fmt == "csv":
        return csv_response(_cell_rows(items), CELL_COLUMNS + ["examples"], f"rising-{place}-{period.label}")
    change = page.total - page.total_previous
    return HotspotPage(
        period=_period_out(period), previous=_period_out(period.previous()), place=place, bucket=None,
        category_level=category_level,
        total=TotalOut(count=page.total, previous=page.total_previous, change=change,
                       change_pct=round(change / page.total_previous, 4) if page.total_previous else None,
                       drilldown=_drill(period.start, period.last, category=f.category,
                                        subcategories=f.category is not None, district=f.district, street=f.street)),
        cells=page.total_cells, limit=limit, offset=offset, items=items,
    )


@router.get("/analytics/topics", response_model=TopicPageOut, responses=CSV | {422: {"model": ErrorResponse}})
async def topic_counts(
    session: SessionDep,
    period: PeriodDep,
    fmt: FormatDep = "json",
    category: CategoryQ = None,
    district: DistrictQ = None,
    street: StreetQ = None,
    limit: Limit = 50,
    offset: Offset = 0,
    principal: Principal = require(*READERS),
):
    """Topics of the appeals' text (e.g. 路灯, 噪音, 供暖), the most frequent first, against the
    period before; an appeal counts once in each of its topics (one to three)."""
    f = await _filters(session, principal, category, district, street)
    page = await topics.topic_counts(session, period, filters=f, limit=limit, offset=offset)
    items = [
        TopicOut(topic=t.topic, label_en=t.label_en, count=t.count, previous=t.previous, change=t.change,
                 change_pct=t.change_pct, share=round(t.count / page.appeals, 4) if page.appeals else None,
                 examples=t.examples,
                 drilldown=_drill(period.start, period.last, topic=t.topic, category=f.category,
                                  subcategories=f.category is not None, district=f.district, street=f.street))
        for t in page.topics
    ]
    if fmt == "csv":
        return csv_response([i.model_dump() for i in items],
                            ["topic", "label_en", "count", "previous", "change", "change_pct", "share", "examples"],
                            f"topics-{period.label}")
    return TopicPageOut(period=_period_out(period), previous=_period_out(period.previous()), appeals=page.appeals,
                        appeals_previous=page.appeals_previous, topics=page.total_topics, limit=limit,
                        offset=offset, items=items)


@router.get("/analytics/recurring", response_model=RecurrencePageOut,
            responses=CSV | {422: {"model": ErrorResponse}})
async def recurring_problems(
    session: SessionDep,
    period: PeriodDep,
    fmt: FormatDep = "json",
    within_days: Annotated[
        int, Query(ge=1, le=recurring.MAX_WITHIN_DAYS, description="came back at most this many days after")
    ] = recurring.DEFAULT_WITHIN_DAYS,
    match: Annotated[
        Literal["any", "address", "radius"],
        Query(description=f"address: same street and address; radius: within {recurring.RADIUS_M:.0f} m"),
    ] = "any",
    category: CategoryQ = None,
    district: DistrictQ = None,
    street: StreetQ = None,
    limit: Limit = 50,
    offset: Offset = 0,
    principal: Principal = require(*READERS),
):
    """Recurring problems (the weeds that grew back): the same category at the same place coming
    back in the period within `within_days` of an appeal there closed as resolved; the most
    returns first, each with its history in order."""
    f = await _filters(session, principal, category, district, street)
    how = ("address", "radius") if match == "any" else (match,)
    page = await recurring.recurring(session, period, within_days=within_days, match=how, filters=f,
                                     limit=limit, offset=offset)
    named = await hotspots.names(session, categories=[p.category for p in page.items],
                                 districts=[p.district for p in page.items], units=[p.street for p in page.items])
    items = [
        RecurrenceOut(
            category=_name(named[("category", p.category)]), district=_name(named[("district", p.district)]),
            street=_name(named[("unit", p.street)]), address=p.address, latitude=p.latitude, longitude=p.longitude,
            matched_by=p.matched_by, returns_in_period=p.returns_in_period, returns=p.returns,
            history=[AppearanceOut(**a.to_json()) for a in p.history],
        )
        for p in page.items
    ]
    if fmt == "csv":
        rows = [{"category": i.category.code, "category_zh": i.category.name_zh, "district": i.district.code,
                 "street": i.street.code, "address": i.address, "matched_by": i.matched_by,
                 "returns_in_period": i.returns_in_period, "returns": i.returns,
                 "appeals": [a.appeal_no for a in i.history],
                 "received": [a.received_at.isoformat() for a in i.history],
                 "outcomes": [a.outcome or a.status for a in i.history]} for i in items]
        return csv_response(rows, list(rows[0]) if rows else ["category", "district", "street", "address",
                                                              "matched_by", "returns_in_period", "returns",
                                                              "appeals", "received", "outcomes"],
                            f"recurring-{period.label}")
    return RecurrencePageOut(period=_period_out(period), within_days=within_days, radius_m=recurring.RADIUS_M,
                             total=page.total, limit=limit, offset=offset, items=items)


@router.get("/analytics/drilldown", response_model=DrillPage, responses=CSV | {422: {"model": ErrorResponse}})
async def drilldown(
    session: SessionDep,
    period: PeriodDep,
    fmt: FormatDep = "json",
    category: Annotated[
        str | None, Query(max_length=40, pattern=r"^[A-Za-z0-9._\-]+$", description="a category code")
    ] = None,
    subcategories: Annotated[bool, Query(description="count the category's sub-categories too")] = False,
    district: DistrictQ = None,
    street: StreetQ = None,
    topic: Annotated[str | None, Query(min_length=1, max_length=32, pattern=r"^[^\x00-\x1f]+$")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    principal: Principal = require(*READERS),
):
    """The appeals behind a figure: received in the period, with these filters, the latest
    first."""
    f = await _filters(session, principal, category, district, street)
    f = Filters(f.category, f.district, f.street, subcategories=subcategories)
    total, rows = await hotspots.drilldown(session, period, filters=f, topic=topic, limit=limit, offset=offset)
    items = [DrillItem(**r) for r in rows]
    if fmt == "csv":
        return csv_response([i.model_dump() for i in items], list(DrillItem.model_fields), f"appeals-{period.label}")
    return DrillPage(period=_period_out(period), total=total, limit=limit, offset=offset, items=items)

"""High-frequency problems, topics and recurring problems (active governance's evidence).

Every figure names its period (and the period it is compared with) and carries a `drilldown`
link: `GET /analytics/drilldown` with explicit dates and filters lists the appeals behind it.
A supervisor bound to a district sees that district only."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from analytics import hotspots, recurring, topics
from analytics.hotspots import Filters
from api.analytics import (
    CELL_COLUMNS,
    AppearanceOut,
    DrillItem,
    DrillPage,
    HotspotPage,
    RecurrenceOut,
    RecurrencePageOut,
    TopicOut,
    TopicPageOut,
    TotalOut,
    cell_rows,
    cells_out,
    drill,
    name_out,
    period_out,
    visible_filters,
)
from api.auth import Principal, require
from api.beijing import beijing
from api.csv import CSV_RESPONSES, csv_response
from api.deps import SessionDep
from api.error_codes import responses
from api.periods import FormatDep, PeriodDep
from domain.types import Role

router = APIRouter(tags=["analytics"], responses=responses("invalid_period"))

READERS = (Role.ANALYST, Role.SUPERVISOR, Role.ADMINISTRATOR)
CSV = CSV_RESPONSES

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


# --- routes ----------------------------------------------------------------------------------


@router.get("/analytics/hotspots", response_model=HotspotPage, responses=CSV)
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
    f = await visible_filters(session, principal, category, district, street)
    page = await hotspots.cells(session, period, place=place, category_level=category_level, filters=f,
                                limit=limit, offset=offset)
    items = await cells_out(session, period, page.cells, place=place, level=category_level, f=f, bucket=bucket,
                             with_examples=False)
    if fmt == "csv":
        columns = CELL_COLUMNS + (["bucket", "bucket_from", "bucket_to", "bucket_count"] if bucket else [])
        return csv_response(cell_rows(items), columns, f"hotspots-{place}-{period.label}")
    change = page.total - page.total_previous
    total_drill = {"category": f.category, "subcategories": f.category is not None, "district": f.district,
                   "street": f.street}
    return HotspotPage(
        period=period_out(period), previous=period_out(period.previous()), place=place, bucket=bucket,
        category_level=category_level,
        total=TotalOut(count=page.total, previous=page.total_previous, change=change,
                       change_pct=round(change / page.total_previous, 4) if page.total_previous else None,
                       drilldown=drill(period.start, period.last, **total_drill)),
        cells=page.total_cells, limit=limit, offset=offset, items=items,
    )


@router.get("/analytics/rising", response_model=HotspotPage, responses=CSV)
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
    f = await visible_filters(session, principal, category, district, street)
    page = await hotspots.cells(session, period, place=place, category_level=category_level, filters=f,
                                order="rising", min_count=min_count, rising_only=True, limit=limit, offset=offset)
    items = await cells_out(session, period, page.cells, place=place, level=category_level, f=f, bucket=None,
                             with_examples=True)
    if fmt == "csv":
        return csv_response(cell_rows(items), CELL_COLUMNS + ["examples"], f"rising-{place}-{period.label}")
    change = page.total - page.total_previous
    return HotspotPage(
        period=period_out(period), previous=period_out(period.previous()), place=place, bucket=None,
        category_level=category_level,
        total=TotalOut(count=page.total, previous=page.total_previous, change=change,
                       change_pct=round(change / page.total_previous, 4) if page.total_previous else None,
                       drilldown=drill(period.start, period.last, category=f.category,
                                        subcategories=f.category is not None, district=f.district, street=f.street)),
        cells=page.total_cells, limit=limit, offset=offset, items=items,
    )


@router.get("/analytics/topics", response_model=TopicPageOut, responses=CSV)
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
    f = await visible_filters(session, principal, category, district, street)
    page = await topics.topic_counts(session, period, filters=f, limit=limit, offset=offset)
    items = [
        TopicOut(topic=t.topic, label_en=t.label_en, count=t.count, previous=t.previous, change=t.change,
                 change_pct=t.change_pct, share=round(t.count / page.appeals, 4) if page.appeals else None,
                 examples=t.examples,
                 drilldown=drill(period.start, period.last, topic=t.topic, category=f.category,
                                  subcategories=f.category is not None, district=f.district, street=f.street))
        for t in page.topics
    ]
    if fmt == "csv":
        return csv_response([i.model_dump() for i in items],
                            ["topic", "label_en", "count", "previous", "change", "change_pct", "share", "examples"],
                            f"topics-{period.label}")
    return TopicPageOut(period=period_out(period), previous=period_out(period.previous()), appeals=page.appeals,
                        appeals_previous=page.appeals_previous, topics=page.total_topics, limit=limit,
                        offset=offset, items=items)


@router.get("/analytics/recurring", response_model=RecurrencePageOut,
            responses=CSV)
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
    f = await visible_filters(session, principal, category, district, street)
    how = ("address", "radius") if match == "any" else (match,)
    page = await recurring.recurring(session, period, within_days=within_days, match=how, filters=f,
                                     limit=limit, offset=offset)
    named = await hotspots.names(session, categories=[p.category for p in page.items],
                                 districts=[p.district for p in page.items], units=[p.street for p in page.items])
    items = [
        RecurrenceOut(
            category=name_out(named[("category", p.category)]), district=name_out(named[("district", p.district)]),
            street=name_out(named[("unit", p.street)]), address=p.address, latitude=p.latitude, longitude=p.longitude,
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
                 "received": [beijing(a.received_at).isoformat() for a in i.history],
                 "outcomes": [a.outcome or a.status for a in i.history]} for i in items]
        return csv_response(rows, list(rows[0]) if rows else ["category", "district", "street", "address",
                                                              "matched_by", "returns_in_period", "returns",
                                                              "appeals", "received", "outcomes"],
                            f"recurring-{period.label}")
    return RecurrencePageOut(period=period_out(period), within_days=within_days, radius_m=recurring.RADIUS_M,
                             total=page.total, limit=limit, offset=offset, items=items)


@router.get("/analytics/drilldown", response_model=DrillPage, responses=CSV)
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
    f = await visible_filters(session, principal, category, district, street)
    f = Filters(f.category, f.district, f.street, subcategories=subcategories)
    total, rows = await hotspots.drilldown(session, period, filters=f, topic=topic, limit=limit, offset=offset)
    items = [DrillItem(**r) for r in rows]
    if fmt == "csv":
        return csv_response([i.model_dump() for i in items], list(DrillItem.model_fields), f"appeals-{period.label}")
    return DrillPage(period=period_out(period), total=total, limit=limit, offset=offset, items=items)

"""The analytics API's shapes and the helpers its routes share: names, explicit periods,
drill-down links, weekly or monthly series, filters held to what the caller may see."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from pydantic import BaseModel, Field

from analytics import hotspots
from analytics.hotspots import Cell, Filters, Name
from analytics.periods import Period, month_start, next_month
from api.auth import Principal
from api.errors import ApiError
from api.scope import appeal_scope

DRILL = "/analytics/drilldown"


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


def period_out(p: Period) -> PeriodOut:
    return PeriodOut(label=p.label, grain=p.grain, from_=p.start, to=p.last)


def name_out(n: Name) -> NameOut:
    return NameOut(code=n.code, name_zh=n.name_zh, name_en=n.name_en)


async def visible_filters(
    session, principal: Principal, category: str | None, district: str | None, street: str | None
) -> Filters:
    """Known codes only (422 otherwise); a district supervisor is held to the district."""
    district = appeal_scope(principal, district, by_unit=False).district
    conn = await session.connection()
    checks = (("category", category, "SELECT 1 FROM category WHERE code = :c"),
              ("district", district, "SELECT 1 FROM district WHERE code = :c"),
              ("street", street, "SELECT 1 FROM unit WHERE code = :c AND kind IN ('street', 'township')"))
    for what, code, sql in checks:
        if code is not None and code != "none" and await conn.scalar(sa.text(sql), {"c": code}) is None:
            raise ApiError(422, "validation_error", f"unknown {what} {code!r}", {"field": what})
    if category == "none":
        raise ApiError(422, "validation_error", "unknown category 'none'", {"field": "category"})
    return Filters(category, district, street)


def drill(first: date, last: date, **params: Any) -> str:
    query = {"from": first.isoformat(), "to": last.isoformat()}
    query |= {k: ("true" if v is True else v) for k, v in params.items() if v is not None and v is not False}
    return f"{DRILL}?{urlencode(query)}"


def buckets(period: Period, bucket: str) -> list[tuple[str, date, date, date]]:
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


def cell_drill(c: Cell, place: str, level: str, f: Filters) -> dict[str, Any]:
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


async def cells_out(session, period: Period, page: list[Cell], *, place: str, level: str, f: Filters,
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
        where = cell_drill(c, place, level, f)
        points = None
        if bucket:
            counts = series.get((c.category, c.place), {})
            points = [
                SeriesPoint(bucket=label, from_=first, to=last, count=counts.get(trunc, 0),
                            drilldown=drill(first, last, **where))
                for label, trunc, first, last in buckets(period, bucket)
            ]
        items.append(CellOut(
            category=name_out(named[("category", c.category)]), place=name_out(named[(kind, c.place)]),
            count=c.count, previous=c.previous, change=c.change, change_pct=c.change_pct,
            drilldown=drill(period.start, period.last, **where),
            drilldown_previous=drill(before.start, before.last, **where),
            series=points, examples=c.examples if with_examples else None,
        ))
    return items


CELL_COLUMNS = ["category_code", "category_zh", "category_en", "place_code", "place_zh", "place_en", "count",
                "previous", "change", "change_pct"]


def cell_rows(items: list[CellOut]) -> list[dict[str, Any]]:
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

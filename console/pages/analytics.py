"""The analyst's pages (分析): the three rates (三率) and the composite per unit, street, district
or category of a month, with their trend over twelve months; the rankings of each class of
units with last period's rank; every figure drilled down to its appeals; CSV of every table.
Hot spots, rising problems, topics, recurring problems and one problem a month are in
`console.pages.analytics_evidence`.

Everything comes from the API's assessment and analytics routes (`/assessment/…`,
`/analytics/…`, `/governance/themes`), which are built for a million appeals: a page makes one
or two calls, each one aggregate query, and shows at most a page of rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from console import i18n
from console.pages import analytics_evidence
from console.pages.analytics_view import (
    BASE,
    RATE_MEASURE,
    RATES,
    Month,
    appeals_href,
    export_href,
    href,
    month_of,
    rank_move,
    tabs_context,
    trend_option,
)
from console.render import page
from console.session import SessionDep

router = APIRouter(prefix="/console", include_in_schema=False)

#: Beijing's district boundaries (seed/data/README.md says where they come from). The console
#: reads the file; it imports nothing of seed/.
GEOJSON = Path(__file__).resolve().parents[2] / "seed" / "data" / "beijing_districts.geojson"
PAGE_ROWS = 100
TREND_MONTHS = 12
Group = Literal["unit", "street", "district", "category"]
UnitClass = Literal["street", "municipal_department", "district_department", "district_government", "public_service"]
Sort = Literal["composite", "base", "response", "resolution", "satisfaction", "key"]
Measure = Literal[
    "closed",
    "excluded",
    "not_evaluated",
    "base",
    "responded",
    "not_responded",
    "contacted_in_time",
    "contacted_late",
    "resolved",
    "unresolved",
    "satisfied",
    "basically_satisfied",
    "unsatisfied",
]
Code = Annotated[str | None, Query(max_length=40, pattern=r"^[A-Za-z0-9._\-]+$")]
PeriodQ = Annotated[str | None, Query(max_length=10)]
Day = Annotated[str | None, Query(max_length=10, pattern=r"^\d{4}-\d{2}-\d{2}$")]

i18n.register(
    {
        "an.title": ("数据分析", "Analytics"),
        "an.tab.overview": ("概览", "Overview"),
        "an.tab.rates": ("三率", "Three rates"),
        "an.tab.rankings": ("排名", "Rankings"),
        "an.tab.hotspots": ("高频问题", "Hot spots"),
        "an.tab.rising": ("上升问题", "Rising problems"),
        "an.tab.topics": ("诉求热词", "Topics"),
        "an.tab.recurring": ("反复诉求", "Recurring problems"),
        "an.tab.themes": ("每月一题", "Problem of the month"),
        "an.month": ("月份", "Month"),
        "an.year": ("年份", "Year"),
        "an.show": ("查看", "Show"),
        "an.period": (
            "统计期：{label}（{first} 至 {last}，北京时间）",
            "Period: {label} ({first} to {last}, Beijing days)",
        ),
        "an.previous": ("对比上期：{label}", "Compared with {label}"),
        "an.bad_month": ("月份应为 YYYY-MM（如 2026-10）：{value}", "A month is YYYY-MM (e.g. 2026-10): {value}"),
        "an.bad_year": ("年份应为四位数字：{value}", "A year is four digits: {value}"),
        "an.csv": ("导出 CSV", "CSV"),
        "an.empty": ("本期没有数据。", "No figures for this period."),
        "an.city": ("全市", "Whole city"),
        "an.none": ("（未填）", "(none given)"),
        "an.total": ("合计", "Total"),
        "an.group": ("维度", "By"),
        "an.group.unit": ("承办单位", "Unit"),
        "an.group.street": ("街乡镇", "Street"),
        "an.group.district": ("区", "District"),
        "an.group.category": ("诉求类别", "Category"),
        "an.class": ("单位类别", "Class of unit"),
        "an.class.all": ("全部", "All"),
        "an.class.street": ("街道乡镇", "Streets and townships"),
        "an.class.municipal_department": ("市级部门", "Municipal departments"),
        "an.class.district_department": ("区级部门", "District departments"),
        "an.class.district_government": ("区政府", "District governments"),
        "an.class.public_service": ("公共服务企业", "Public-service organisations"),
        "an.rate.response": ("响应率", "Response rate"),
        "an.rate.resolution": ("解决率", "Resolution rate"),
        "an.rate.satisfaction": ("满意率", "Satisfaction rate"),
        "an.rate.composite": ("综合得分", "Composite"),
        "an.count.closed": ("办结", "Closed"),
        "an.count.excluded": ("剔除", "Excluded"),
        "an.count.not_evaluated": ("未评价", "Not evaluated"),
        "an.count.base": ("参评", "Base"),
        "an.count.responded": ("已响应", "Responded"),
        "an.count.resolved": ("已解决", "Resolved"),
        "an.count.satisfied": ("满意", "Satisfied"),
        "an.count.basically_satisfied": ("基本满意", "Basically satisfied"),
        "an.previous_composite": ("上期综合", "Last period"),
        "an.change": ("变化（百分点）", "Change (points)"),
        "an.trend": ("趋势：{what}（{first} 至 {last}）", "Trend: {what} ({first} to {last})"),
        "an.trend_of": ("看趋势", "Trend"),
        "an.trend_hint": ("点击图中的点，查看该月的工单。", "Click a point for that month's appeals."),
        "an.sort": ("排序", "Sort by"),
        "an.sort.key": ("代码", "Code"),
        "an.rows": ("第 {first}–{last} 行，共 {n} 行", "Rows {first}–{last} of {n}"),
        "an.weights": (
            "综合得分 = {r} × 响应率 + {s} × 解决率 + {t} × 满意率；满意率中基本满意按 {b} 计。",
            "Composite = {r} × response + {s} × resolution + {t} × satisfaction; basically satisfied counts {b}.",
        ),
        "an.frozen": ("已冻结月份（按月度考核时的数据）：{months}", "Frozen months (figures as captured): {months}"),
        "an.rank": ("名次", "Rank"),
        "an.rank_move": ("较上期", "Since last period"),
        "an.previous_rank": ("上期名次", "Last rank"),
        "an.new": ("新上榜", "new"),
        "an.unranked": ("未排名", "unranked"),
        "an.min_base": ("最少参评件数", "Minimum base"),
        "an.district_filter": ("区", "District"),
        "an.all": ("全部", "All"),
        "an.rankings_of": ("{cls}排名", "Ranking: {cls}"),
        "an.measure.closed": ("办结工单", "Closed appeals"),
        "an.measure.excluded": ("剔除的工单", "Excluded appeals"),
        "an.measure.not_evaluated": ("未评价的工单", "Appeals not evaluated"),
        "an.measure.base": ("参评工单", "Appeals in the base"),
        "an.measure.responded": ("已响应的工单", "Appeals responded to"),
        "an.measure.not_responded": ("未响应的工单", "Appeals not responded to"),
        "an.measure.contacted_in_time": ("按时联系的工单（单位记录）", "Contacted in time (the unit's record)"),
        "an.measure.contacted_late": ("未按时联系的工单（单位记录）", "Contacted late (the unit's record)"),
        "an.measure.resolved": ("已解决的工单", "Resolved appeals"),
        "an.measure.unresolved": ("未解决的工单", "Unresolved appeals"),
        "an.measure.satisfied": ("满意的工单", "Satisfied"),
        "an.measure.basically_satisfied": ("基本满意的工单", "Basically satisfied"),
        "an.measure.unsatisfied": ("不满意的工单", "Unsatisfied"),
        "an.drill.title": ("{what}：{where}", "{what}: {where}"),
        "an.col.closed_at": ("办结时间", "Closed"),
        "an.col.contacted": ("按时联系", "Contacted in time"),
        "an.col.citizen": ("市民称已联系", "Citizen says contacted"),
        "an.col.responded": ("计为响应", "Counts as responded"),
        "an.col.outcome": ("办理结果", "Outcome"),
        "an.col.satisfaction": ("满意度", "Satisfaction"),
        "an.col.excluded": ("剔除", "Excluded"),
        "an.outcome.resolved": ("已解决", "resolved"),
        "an.outcome.unresolved": ("未解决", "unresolved"),
        "an.outcome.not_evaluated": ("未评价", "not evaluated"),
        "an.overview.map": ("各区综合得分（{month}）", "Composite score by district ({month})"),
        "an.overview.districts": ("各区三率", "The three rates by district"),
        "an.overview.more": ("查看全部维度与趋势", "Every dimension and the trend"),
    }
)


def _entity_filter(group: str, key: str | None) -> dict[str, str | None]:
    """The API filter that narrows the figures to one row of a group."""
    return {group: key} if key else {}


def _rows_page(rows: list[dict[str, Any]], sort: str, offset: int) -> list[dict[str, Any]]:
    if sort == "key":
        ordered = sorted(rows, key=lambda r: str(r.get("key") or r.get("unit") or ""))
    elif sort == "base":
        ordered = sorted(rows, key=lambda r: -r["counts"]["base"])
    else:
        ordered = sorted(rows, key=lambda r: (r["rates"][sort] is None, -(r["rates"][sort] or 0)))
    return ordered[offset : offset + PAGE_ROWS]


@router.get("/analytics", response_class=HTMLResponse)
async def overview(request: Request, session: SessionDep, period: PeriodQ = None):
    """The month at a glance: the city's three rates with last month's, the districts on a map
    by composite score, and the ways into the rest."""
    month = month_of(period, session.lang)
    figures = await session.api.get("/assessment/rates", period=month.label, group="district")
    rows = sorted(figures["rows"], key=lambda r: (r["rates"]["composite"] is None, -(r["rates"]["composite"] or 0)))
    scores = {
        r["key"]: round(r["rates"]["composite"] * 100, 1)
        for r in rows
        if r["key"] and r["rates"]["composite"] is not None
    }
    links = {code: appeals_href("base", period=month.label, district=code) for code in scores}
    low = max(0, int(min(scores.values())) - 5) if scores else 0  # scores lie near the top: colour their spread
    return await page(
        request,
        "analytics/index.html",
        session,
        figures=figures,
        rows=rows,
        scores=scores,
        links=links,
        low=low,
        appeals_href=appeals_href,
        **tabs_context(month, "overview"),
    )


@router.get("/analytics/rates", response_class=HTMLResponse)
async def rates(
    request: Request,
    session: SessionDep,
    period: PeriodQ = None,
    group: Group = "unit",
    unit_class: UnitClass | None = None,
    entity: Code = None,
    sort: Sort = "composite",
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
):
    """三率: the month's figures per unit, street, district or category (each count and rate a
    link to its appeals), and the trend over twelve months of the city, of a class of units, or
    of the row chosen (`entity`)."""
    month = month_of(period, session.lang)
    klass = unit_class if group == "unit" else None
    figures = await session.api.get("/assessment/rates", period=month.label, group=group, unit_class=klass)
    months = month.back(TREND_MONTHS)
    narrow = _entity_filter(group, entity)
    trend = await session.api.get(
        "/assessment/rates",
        group="month",
        unit_class=klass if not entity else None,
        **{"from": months[0].first.isoformat(), "to": month.last.isoformat()},
        **narrow,
    )
    by_month = {r["key"]: r for r in trend["rows"]}
    labels = [m.label for m in months]
    series = {rate: i18n.text(f"an.rate.{rate}", session.lang) for rate in (*RATES, "composite")}
    point_links = {
        rate: [
            appeals_href(RATE_MEASURE[rate], first=m.first, last=m.last, **narrow) if m.label in by_month else None
            for m in months
        ]
        for rate in series
    }
    chart = trend_option(labels, by_month, series, point_links)
    rows = figures["rows"]
    shown = _rows_page(rows, sort, offset)
    query = {"period": month.label, "group": group, "unit_class": klass, "entity": entity, "sort": sort}
    return await page(
        request,
        "analytics/rates.html",
        session,
        figures=figures,
        rows=shown,
        total_rows=len(rows),
        offset=offset,
        page_rows=PAGE_ROWS,
        group=group,
        unit_class=klass,
        entity=entity,
        sort=sort,
        chart=chart,
        months=months,
        query=query,
        rates=RATES,
        appeals_href=appeals_href,
        trend_total=trend["total"],
        csv_href=export_href("rates", period=month.label, group=group, unit_class=klass),
        trend_csv_href=export_href(
            "rates",
            group="month",
            unit_class=klass if not entity else None,
            **{"from": months[0].first.isoformat(), "to": month.last.isoformat()},
            **narrow,
        ),
        **tabs_context(month, "rates"),
    )


@router.get("/analytics/rankings", response_class=HTMLResponse)
async def rankings(
    request: Request,
    session: SessionDep,
    period: PeriodQ = None,
    unit_class: UnitClass = "street",
    district: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    min_base: Annotated[int, Query(ge=1, le=10_000)] = 1,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
):
    """Units of one class ranked by composite for the month, with last month's rank and how far
    each moved; every count drills down to its appeals."""
    month = month_of(period, session.lang)
    ranked = await session.api.get(
        "/assessment/rankings", period=month.label, unit_class=unit_class, district=district, min_base=min_base
    )
    directory = await request.app.state.directory.get()
    return await page(
        request,
        "analytics/rankings.html",
        session,
        ranked=ranked,
        rows=ranked["rows"][offset : offset + PAGE_ROWS],
        total_rows=len(ranked["rows"]),
        offset=offset,
        page_rows=PAGE_ROWS,
        unit_class=unit_class,
        district=district,
        min_base=min_base,
        rank_move=rank_move,
        appeals_href=appeals_href,
        classes=UnitClass.__args__,
        districts=[(code, d.name_zh) for code, d in directory.districts.items()],
        query={"period": month.label, "unit_class": unit_class, "district": district, "min_base": min_base},
        csv_href=export_href(
            "rankings", period=month.label, unit_class=unit_class, district=district, min_base=min_base
        ),
        **tabs_context(month, "rankings"),
    )


@router.get("/analytics/appeals", response_class=HTMLResponse)
async def figure_appeals(
    request: Request,
    session: SessionDep,
    period: PeriodQ = None,
    first: Annotated[Day, Query(alias="from")] = None,
    last: Annotated[Day, Query(alias="to")] = None,
    measure: Measure = "base",
    unit: Code = None,
    district: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    street: Code = None,
    category: Code = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
):
    """The appeals behind one figure of the rates (`GET /assessment/appeals`), fifty a page, each
    a link to its appeal."""
    when = {"period": period, "from": first, "to": last}
    filters = {"unit": unit, "district": district, "street": street, "category": category}
    found = await session.api.get("/assessment/appeals", **when, measure=measure, **filters, limit=50, offset=offset)
    query = {**when, "measure": measure, **filters}
    month = Month(int(found["period"]["from"][:4]), int(found["period"]["from"][5:7]))
    return await page(
        request,
        "analytics/appeals.html",
        session,
        found=found,
        measure=measure,
        filters=filters,
        query=query,
        prev_href=href(f"{BASE}/appeals", **query, offset=offset - 50) if offset else None,
        next_href=href(f"{BASE}/appeals", **query, offset=offset + 50) if offset + 50 < found["total"] else None,
        csv_href=export_href("appeals", **query, limit=5000),
        **tabs_context(month, "rates"),
    )


# --- CSV: the API's own, handed on ---------------------------------------------------------------

#: What the console downloads as CSV, by name: the API route and the largest page it allows.
EXPORTS: dict[str, tuple[str, int | None]] = {
    "rates": ("/assessment/rates", None),
    "rankings": ("/assessment/rankings", None),
    "appeals": ("/assessment/appeals", 5000),
    "hotspots": ("/analytics/hotspots", 500),
    "rising": ("/analytics/rising", 100),
    "topics": ("/analytics/topics", 500),
    "recurring": ("/analytics/recurring", 500),
    "drill": ("/analytics/drilldown", 500),
    "themes": ("/governance/themes", None),
}


@router.get("/analytics/export/{what}.csv")
async def export(request: Request, what: str, session: SessionDep):
    """The CSV of an API list (`format=csv`), with the API's file name: the browser has no
    bearer token, so the console fetches it as the signed-in user and hands it on. The query is
    the API's; the API checks it (a 422 page with its reason otherwise)."""
    if what not in EXPORTS:
        return await page(request, "error.html", session, status_code=404, message=what, back=BASE)
    path, most = EXPORTS[what]
    params = {k: v for k, v in request.query_params.items() if k != "format"}
    if most is not None:
        params["limit"] = str(min(int(params["limit"]), most)) if params.get("limit", "").isdigit() else str(most)
    answer = await session.api.download(path, **params, format="csv")
    headers = {k: v for k, v in answer.headers.items() if k.lower() == "content-disposition"}
    return Response(answer.content, media_type=answer.headers.get("content-type", "text/csv"), headers=headers)


export.takes_any_query = True  # type: ignore[attr-defined]  # the API it calls checks the query (api/params.py)


@router.get("/geo/beijing-districts.geojson")
async def beijing_districts():
    """Beijing's 16 districts (GeoJSON, `code` and `name_zh` per feature) for the district maps
    (templates/parts/district_map.html). Public boundaries: no login needed."""
    return FileResponse(GEOJSON, media_type="application/geo+json")


router.include_router(analytics_evidence.router)

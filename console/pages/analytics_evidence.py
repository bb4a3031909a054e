"""The evidence for active governance, as the analyst reads it: hot spots (a table, and a
district map loaded beside it), rising problems, topics, recurring problems with their history,
the appeals behind any of these figures, and the year's problems of the month (每月一题) with
each task's inspection rounds. Each list downloads as CSV (`/console/analytics/export/…`)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from console import i18n
from console.client import ApiProblem
from console.pages.analytics_view import (
    BASE,
    Month,
    bars_option,
    counts_by_district,
    drill_href,
    export_href,
    href,
    month_of,
    tabs_context,
    today,
)
from console.render import page
from console.session import SessionDep

router = APIRouter(include_in_schema=False)  # under /console: included by console.pages.analytics

Code = Annotated[str | None, Query(max_length=40, pattern=r"^[A-Za-z0-9._\-]+$")]
PeriodQ = Annotated[str | None, Query(max_length=10)]
DistrictQ = Annotated[str | None, Query(pattern=r"^(\d{6}|none)$")]
Day = Annotated[str | None, Query(max_length=10, pattern=r"^\d{4}-\d{2}-\d{2}$")]
Offset = Annotated[int, Query(ge=0, le=100_000)]
PAGE = 50

i18n.register(
    {
        "an.place": ("地点", "Place"),
        "an.place.district": ("按区", "By district"),
        "an.place.street": ("按街乡镇", "By street"),
        "an.level": ("类别层级", "Categories"),
        "an.level.leaf": ("具体类别", "As filed"),
        "an.level.theme": ("大类", "Top level"),
        "an.category": ("诉求类别", "Category"),
        "an.category_code": ("类别代码（可选）", "Category code (optional)"),
        "an.count": ("本期", "This period"),
        "an.count_previous": ("上期", "Period before"),
        "an.delta": ("增减", "Change"),
        "an.delta_pct": ("增幅", "Change %"),
        "an.received_total": ("本期受理 {n} 件，上期 {p} 件", "{n} appeals received, {p} in the period before"),
        "an.map.hotspots": ("各区受理量（{month}）", "Appeals received by district ({month})"),
        "an.map.of_category": (
            "各区受理量：{category}（{month}）",
            "Appeals received by district: {category} ({month})",
        ),
        "an.map.loading": ("正在加载地图…", "Loading the map…"),
        "an.map.hint": ("点击区域查看该区本期受理的工单。", "Click a district for its appeals of the period."),
        "an.min_count": ("本期至少", "At least (this period)"),
        "an.examples": ("最新工单", "Latest appeals"),
        "an.topic": ("热词", "Topic"),
        "an.share": ("占比", "Share"),
        "an.topics_chart": ("热词：本期与上期", "Topics: this period and the one before"),
        "an.topics_total": ("本期工单 {n} 件（上期 {p} 件），共 {k} 个热词", "{n} appeals ({p} before), {k} topics"),
        "an.within_days": ("解决后多少天内再次出现", "Came back within (days)"),
        "an.match": ("同一地点的判断", "Same place by"),
        "an.match.any": ("地址或 200 米内", "address or within 200 m"),
        "an.match.address": ("同街道同地址", "same street and address"),
        "an.match.radius": ("200 米内", "within 200 m"),
        "an.matched_by.address": ("同地址", "address"),
        "an.matched_by.radius": ("200 米内", "radius"),
        "an.returns_in_period": ("本期复发", "Came back (period)"),
        "an.returns": ("累计复发", "Came back (all)"),
        "an.history_col": ("历史", "History"),
        "an.history": ("历史（{n} 件）", "History ({n})"),
        "an.came_back": ("解决后 {d} 天再次出现（前次 {after}）", "came back {d} days after {after} was resolved"),
        "an.recurring_total": ("共 {n} 处反复出现的问题", "{n} recurring problems"),
        "an.drill.title_plain": ("工单明细", "The appeals"),
        "an.drill.topic": ("热词“{topic}”", "topic “{topic}”"),
        "an.col.status": ("状态", "Status"),
        "an.themes.title": ("{year} 年每月一题", "Problems of the month, {year}"),
        "an.themes.counts": (
            "共 {n} 个问题：已解决 {closed}，治理中 {active}，已取消 {cancelled}",
            "{n} problems: {closed} solved, {active} in hand, {cancelled} cancelled",
        ),
        "an.themes.none": ("该年还没有选定每月一题。", "No problem of the month chosen that year."),
        "an.theme.chosen": ("{by} 于 {at} 选定", "chosen by {by} on {at}"),
        "an.task": ("治理任务", "Task"),
        "an.task.owner": ("责任单位", "Owner"),
        "an.task.status": ("状态", "Status"),
        "an.task.status.starting": ("启动中", "starting"),
        "an.task.status.active": ("治理中", "in hand"),
        "an.task.status.closed": ("已解决", "solved"),
        "an.task.status.cancelled": ("已取消", "cancelled"),
        "an.task.streak": ("连续无复发巡查 {n}/{of}", "clean rounds in a row {n}/{of}"),
        "an.task.quiet": ("问题最近一次出现：{at}", "last seen {at}"),
        "an.task.next": ("下次巡查：{at}", "next inspection {at}"),
        "an.task.evidence": ("依据工单", "Evidence"),
        "an.rounds": ("巡查轮次", "Inspection rounds"),
        "an.rounds.none": ("尚无巡查。", "No inspection yet."),
        "an.round": ("轮次", "Round"),
        "an.round.at": ("巡查时间", "At"),
        "an.round.new": ("新增诉求", "New appeals"),
        "an.round.finding": ("现场核查", "On-site finding"),
        "an.round.present": ("问题仍在", "still there"),
        "an.round.gone": ("问题已消除", "gone"),
        "an.round.outcome": ("结论", "Outcome"),
        "an.round.pending": ("待核查", "awaiting finding"),
        "an.round.clean": ("无复发", "clean"),
        "an.round.recurred": ("复发", "recurred"),
        "an.round.unconfirmed": ("未核查", "unconfirmed"),
        "an.round.unchecked": ("待数据核查", "not checked yet"),
    }
)


def _drill(link: str | None) -> str | None:
    return drill_href(link) if link else None


@router.get("/analytics/hotspots", response_class=HTMLResponse)
async def hotspots(
    request: Request,
    session: SessionDep,
    period: PeriodQ = None,
    place: Literal["district", "street"] = "district",
    category_level: Literal["leaf", "theme"] = "leaf",
    category: Code = None,
    district: DistrictQ = None,
    offset: Offset = 0,
):
    """高频问题: appeals received per category × place in the month against the month before,
    the most frequent first, fifty a page, each count a link to its appeals; the district map
    (`/analytics/hotspots/map`) is loaded beside the table, so the page does not wait for it."""
    month = month_of(period, session.lang)
    found = await session.api.get(
        "/analytics/hotspots",
        period=month.label,
        place=place,
        category_level=category_level,
        category=category,
        district=district,
        limit=PAGE,
        offset=offset,
    )
    query = {
        "period": month.label,
        "place": place,
        "category_level": category_level,
        "category": category,
        "district": district,
    }
    return await page(
        request,
        "analytics/hotspots.html",
        session,
        found=found,
        query=query,
        place=place,
        category_level=category_level,
        category=category,
        district=district,
        offset=offset,
        drill=_drill,
        map_href=href(f"{BASE}/hotspots/map", period=month.label, category=category),
        prev_href=href(f"{BASE}/hotspots", **query, offset=offset - PAGE) if offset else None,
        next_href=href(f"{BASE}/hotspots", **query, offset=offset + PAGE) if offset + PAGE < found["cells"] else None,
        csv_href=export_href("hotspots", **query),
        **tabs_context(month, "hotspots"),
    )


@router.get("/analytics/hotspots/map", response_class=HTMLResponse)
async def hotspot_map(request: Request, session: SessionDep, period: PeriodQ = None, category: Code = None):
    """The month's appeals per district (of one category, with its narrower ones, if given) on
    the district map; a click on a district opens its appeals. One call: the cells per top-level
    category (or per category within the one given) × district, added up per district."""
    month = month_of(period, session.lang)
    found = await session.api.get(
        "/analytics/hotspots",
        period=month.label,
        place="district",
        category_level="leaf" if category else "theme",
        category=category,
        limit=500,
    )
    counts = counts_by_district(found["items"])
    links = {
        code: href(
            f"{BASE}/drill",
            **{"from": month.first.isoformat(), "to": month.last.isoformat()},
            district=code,
            category=category,
            subcategories=bool(category),
        )
        for code in counts
    }
    return await page(
        request,
        "analytics/hotspot_map.html",
        session,
        counts=counts,
        links=links,
        category=category,
        partial=found["cells"] > len(found["items"]),
        **tabs_context(month, "hotspots"),
    )


@router.get("/analytics/rising", response_class=HTMLResponse)
async def rising(
    request: Request,
    session: SessionDep,
    period: PeriodQ = None,
    place: Literal["district", "street"] = "district",
    min_count: Annotated[int, Query(ge=1, le=100_000)] = 3,
):
    """上升问题: the twenty problems (category × place) that grew most against the month before,
    with their latest appeals."""
    month = month_of(period, session.lang)
    found = await session.api.get("/analytics/rising", period=month.label, place=place, min_count=min_count, limit=20)
    labels = [f"{i['category']['name_zh']} · {i['place']['name_zh']}" for i in found["items"][:10]]
    chart = (
        bars_option(
            labels,
            [i["count"] for i in found["items"][:10]],
            [i["previous"] for i in found["items"][:10]],
            (found["period"]["label"], found["previous"]["label"]),
            [drill_href(i["drilldown"]) for i in found["items"][:10]],
        )
        if found["items"]
        else None
    )
    query = {"period": month.label, "place": place, "min_count": min_count}
    return await page(
        request,
        "analytics/rising.html",
        session,
        found=found,
        query=query,
        place=place,
        min_count=min_count,
        chart=chart,
        drill=_drill,
        csv_href=export_href("rising", **query),
        **tabs_context(month, "rising"),
    )


@router.get("/analytics/topics", response_class=HTMLResponse)
async def topics(request: Request, session: SessionDep, period: PeriodQ = None, offset: Offset = 0):
    """诉求热词: the topics of the month's appeals, the most frequent first, against the month
    before, with a chart of the top fifteen."""
    month = month_of(period, session.lang)
    found = await session.api.get("/analytics/topics", period=month.label, limit=PAGE, offset=offset)
    top = found["items"][:15]
    label = (lambda i: i["label_en"] or i["topic"]) if session.lang == "en" else (lambda i: i["topic"])
    chart = (
        bars_option(
            [label(i) for i in top],
            [i["count"] for i in top],
            [i["previous"] for i in top],
            (found["period"]["label"], found["previous"]["label"]),
            [drill_href(i["drilldown"]) for i in top],
        )
        if top
        else None
    )
    query = {"period": month.label}
    return await page(
        request,
        "analytics/topics.html",
        session,
        found=found,
        chart=chart,
        drill=_drill,
        offset=offset,
        prev_href=href(f"{BASE}/topics", **query, offset=offset - PAGE) if offset else None,
        next_href=href(f"{BASE}/topics", **query, offset=offset + PAGE) if offset + PAGE < found["topics"] else None,
        csv_href=export_href("topics", **query),
        **tabs_context(month, "topics"),
    )


@router.get("/analytics/recurring", response_class=HTMLResponse)
async def recurring(
    request: Request,
    session: SessionDep,
    period: PeriodQ = None,
    within_days: Annotated[int, Query(ge=1, le=365)] = 90,
    match: Literal["any", "address", "radius"] = "any",
    offset: Offset = 0,
):
    """反复诉求 (the weeds that grew back): problems that came back in the month after being
    resolved at the same place, the most returns first, twenty a page, each with its history."""
    month = month_of(period, session.lang)
    size = 20  # each problem brings its whole history: a short page
    found = await session.api.get(
        "/analytics/recurring", period=month.label, within_days=within_days, match=match, limit=size, offset=offset
    )
    query = {"period": month.label, "within_days": within_days, "match": match}
    return await page(
        request,
        "analytics/recurring.html",
        session,
        found=found,
        query=query,
        within_days=within_days,
        match=match,
        prev_href=href(f"{BASE}/recurring", **query, offset=max(0, offset - size)) if offset else None,
        next_href=href(f"{BASE}/recurring", **query, offset=offset + size) if offset + size < found["total"] else None,
        csv_href=export_href("recurring", **query),
        **tabs_context(month, "recurring"),
    )


@router.get("/analytics/drill", response_class=HTMLResponse)
async def drill(
    request: Request,
    session: SessionDep,
    period: PeriodQ = None,
    first: Annotated[Day, Query(alias="from")] = None,
    last: Annotated[Day, Query(alias="to")] = None,
    category: Code = None,
    subcategories: bool = False,
    district: DistrictQ = None,
    street: Code = None,
    topic: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    offset: Offset = 0,
):
    """The appeals received behind a hot spot, rising problem or topic (`GET
    /analytics/drilldown`), the latest first, fifty a page, each a link to its appeal."""
    query = {
        "period": period,
        "from": first,
        "to": last,
        "category": category,
        "subcategories": subcategories,
        "district": district,
        "street": street,
        "topic": topic,
    }
    found = await session.api.get(
        "/analytics/drilldown",
        **{**query, "subcategories": "true" if subcategories else None},
        limit=PAGE,
        offset=offset,
    )
    start = found["period"]["from"]
    month = Month(int(start[:4]), int(start[5:7]))
    return await page(
        request,
        "analytics/drill.html",
        session,
        found=found,
        query=query,
        prev_href=href(f"{BASE}/drill", **query, offset=offset - PAGE) if offset else None,
        next_href=href(f"{BASE}/drill", **query, offset=offset + PAGE) if offset + PAGE < found["total"] else None,
        csv_href=export_href("drill", **query),
        **tabs_context(month, "hotspots"),
    )


@router.get("/analytics/themes", response_class=HTMLResponse)
async def themes(request: Request, session: SessionDep, year: Annotated[str | None, Query(max_length=4)] = None):
    """每月一题: the year's themes, each problem's governance task with its progress and every
    inspection round (the data check and the unit's on-site finding)."""
    if year is not None and not (year.isdigit() and 1990 <= int(year) <= 2099):
        message = i18n.text("an.bad_year", session.lang).format(value=year)
        raise ApiProblem(422, "invalid_year", message, {"year": message})
    shown = int(year) if year else today().year
    found = await session.api.get("/governance/themes", year=shown, rounds="true")
    return await page(
        request,
        "analytics/themes.html",
        session,
        found=found,
        year=shown,
        csv_href=export_href("themes", year=shown),
        **tabs_context(Month.parse(None, today()), "themes"),
    )

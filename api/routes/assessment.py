"""Assessment: the three rates (三率), rankings, drill-down, exclusions, frozen months, and the
dual assessment of whistle-summoning (吹哨报到).

Every figure names its period, and every count drills down to the appeals behind it
(`GET /assessment/appeals` with the same filters and a `measure`; the parts behind a
department's whistle figures: `GET /assessment/whistles/parts`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from analytics import exclusions, rates, whistles
from analytics.periods import Period, PeriodError
from analytics.rates import Counts, Dimension, Measure, Rates, Scope, UnitClass, Weights
from analytics.whistles import Filters, Order
from api.auth import Principal, require
from api.csv import CSV_RESPONSES, csv_response
from api.deps import SessionDep, SettingsDep, WriteSessionDep
from api.error_codes import responses
from api.errors import ApiError, not_found
from api.periods import FormatDep, PeriodDep
from api.scope import appeal_scope
from api.visible import visible
from db import appeals as store
from domain.calendar import CHINA_TZ
from domain.types import Role, UnitKind

router = APIRouter(tags=["assessment"], responses=responses("invalid_period"))

READERS = (Role.ANALYST, Role.SUPERVISOR, Role.ADMINISTRATOR)
REVIEWERS = (Role.OPERATOR, Role.SUPERVISOR)

Code = Annotated[str | None, Query(max_length=40)]


# --- shapes ------------------------------------------------------------------------------------


class PeriodOut(BaseModel):
    label: str
    grain: str
    from_: date = Field(alias="from")
    to: date

    model_config = {"populate_by_name": True}


class CountsOut(BaseModel):
    closed: int = Field(description="closed with a return visit due (resolved, unresolved, not evaluated)")
    excluded: int = Field(description="found unreasonable on review: out of the base")
    not_evaluated: int = Field(description="no valid return visit: out of the base")
    base: int
    contacted_in_time: int = Field(description="the unit recorded contact within the limit (its own record)")
    responded: int = Field(
        description="what the response rate counts: the citizen said at the return visit that the unit got in "
        "touch, or, where the citizen was not asked, the unit recorded contact within the limit"
    )
    resolved: int = Field(description="closed as resolved; closed unresolved never counts")
    satisfied: int
    basically_satisfied: int


class RatesOut(BaseModel):
    response: float | None = Field(description="响应率: responded ÷ base (None when the base is 0)")
    resolution: float | None = Field(description="解决率: resolved ÷ base")
    satisfaction: float | None = Field(description="满意率: (satisfied + factor × basically satisfied) ÷ base")
    composite: float | None = Field(description="weighted: response, resolution, satisfaction")


class Figures(BaseModel):
    counts: CountsOut
    rates: RatesOut


class ChangeOut(BaseModel):
    response: float | None
    resolution: float | None
    satisfaction: float | None
    composite: float | None


class RateRow(Figures):
    key: str | None = Field(description="the unit, street, district or category code, or the month")
    name_zh: str | None = None
    name_en: str | None = None
    unit_class: UnitClass | None = None
    previous: Figures | None = Field(None, description="the same figures for the previous period")
    change: ChangeOut | None = Field(None, description="this period minus the previous, per rate")


class RatesPage(BaseModel):
    period: PeriodOut
    previous_period: PeriodOut | None
    group: Dimension
    weights: dict[str, float]
    frozen_months: list[str] = Field(description="months read from the monthly assessment's frozen figures")
    total: Figures
    rows: list[RateRow]


class RankRow(Figures):
    rank: int | None = Field(description="1 is best; equal scores share a rank; None: below min_base")
    unit: str
    name_zh: str | None
    name_en: str | None
    previous_rank: int | None
    previous: Figures | None
    change: ChangeOut | None


class Rankings(BaseModel):
    period: PeriodOut
    previous_period: PeriodOut
    unit_class: UnitClass
    weights: dict[str, float]
    min_base: int
    rows: list[RankRow]


class DrillRow(BaseModel):
    appeal_no: str
    unit: str
    district: str | None
    street: str | None
    category: str
    closed_at: datetime
    contacted_in_time: bool | None = Field(description="the unit's own record: contact within the limit")
    citizen_contacted: str | None = Field(description="the citizen's answer at the return visit: yes | no | not_asked")
    responded: bool | None = Field(description="as the response rate counts it")
    response_source: str = Field(description="citizen: the citizen's answer counts; unit_record: the unit's record")
    outcome: str
    satisfaction: str | None
    excluded: bool
    frozen: bool = Field(description="as captured when the month was frozen")


class DrillPage(BaseModel):
    period: PeriodOut
    measure: Measure
    total: int
    limit: int
    offset: int
    items: list[DrillRow]


class ReviewIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"appeal_no": "BJ-20261203-000042", "excluded": True, "reason": "诉求人要求违规占道经营，属不合理诉求"},
            ]
        }
    )

    appeal_no: str = Field(max_length=32)
    excluded: bool = Field(True, description="true: take it out of the rates; false: put it back")
    reason: str = Field(min_length=4, max_length=1000, description="why (kept in the audit)")


class ReviewOut(BaseModel):
    id: int
    appeal_no: str
    excluded: bool
    reason: str
    username: str
    role: str
    at: datetime


class ReviewPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[ReviewOut]


class FreezeIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{}, {"refreeze": True}]})

    refreeze: bool = Field(False, description="replace a month already frozen (a correction)")


class MonthRun(BaseModel):
    month: str
    frozen_at: datetime
    frozen_by: str
    appeals: int
    settings: dict[str, Any]


class FreezeOut(MonthRun):
    frozen_now: bool = Field(description="false when the month was already frozen and is left as it was")


# --- helpers -----------------------------------------------------------------------------------


def _period_out(p: Period) -> PeriodOut:
    return PeriodOut.model_validate(p.to_json())


def _figures(c: Counts, w: Weights) -> Figures:
    return Figures(counts=CountsOut(**c.to_json()), rates=RatesOut(**Rates.of(c, w).to_json()))


def _change(now: Rates, before: Rates) -> ChangeOut:
    def d(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else round(a - b, 6)

    return ChangeOut(
        response=d(now.response, before.response),
        resolution=d(now.resolution, before.resolution),
        satisfaction=d(now.satisfaction, before.satisfaction),
        composite=d(now.composite, before.composite),
    )


def _scope(unit, district, street, category, units=None) -> Scope:
    return Scope(unit=unit, units=units, district=district, street=street, category=category)


RATE_COLUMNS = ["key", "name_zh", "name_en", "unit_class", *CountsOut.model_fields, *RatesOut.model_fields,
                "previous_composite", "change_composite"]


def _flat(row: RateRow | RankRow) -> dict[str, Any]:
    out = row.model_dump(exclude={"counts", "rates", "previous", "change"})
    out |= row.counts.model_dump() | row.rates.model_dump()
    out["previous_composite"] = row.previous.rates.composite if row.previous else None
    out["change_composite"] = row.change.composite if row.change else None
    return out


# --- the three rates ---------------------------------------------------------------------------


@router.get("/assessment/rates", response_model=RatesPage, responses=CSV_RESPONSES)
async def three_rates(
    session: SessionDep,
    settings: SettingsDep,
    period: PeriodDep,
    fmt: FormatDep = "json",
    group: Dimension = Dimension.UNIT,
    unit_class: UnitClass | None = None,
    unit: Code = None,
    district: Annotated[str | None, Query(max_length=12)] = None,
    street: Code = None,
    category: Code = None,
    _: Principal = require(*READERS),
):
    """The three rates and the composite, per unit, street, district, category or month of the
    period, with the previous period beside each row (not for `group=month`)."""
    weights = Weights.from_settings(settings)
    conn = await session.connection()
    units = await rates.units_of(conn, unit_class, None) if unit_class else None
    scope = _scope(unit, district, street, category, units)
    now = await rates.counts_by(conn, period, group, scope)
    total = sum(now.values(), Counts())
    prior = period.previous() if group is not Dimension.MONTH else None
    before = await rates.counts_by(conn, prior, group, scope) if prior else {}
    names = await rates.names(conn, group)
    rows = []
    for key in sorted(now, key=lambda k: str(k)):
        c = now[key]
        label = key.strftime("%Y-%m") if isinstance(key, date) else key
        zh, en, kind = names.get(key, (None, None, None)) if isinstance(key, str) else (None, None, None)
        prev = before.get(key) if prior else None
        rows.append(
            RateRow(
                key=label, name_zh=zh, name_en=en,
                unit_class=rates.UNIT_CLASS[UnitKind(kind)] if group is Dimension.UNIT and kind else None,
                **_figures(c, weights).model_dump(),
                previous=_figures(prev, weights) if prev else None,
                change=_change(Rates.of(c, weights), Rates.of(prev, weights)) if prev else None,
            )
        )
    frozen = await rates.frozen_months(conn, period)
    if fmt == "csv":
        return csv_response([_flat(r) for r in rows], RATE_COLUMNS, f"rates-{group}-{period.label}")
    return RatesPage(
        period=_period_out(period), previous_period=_period_out(prior) if prior else None, group=group,
        weights=weights.to_json(), frozen_months=[m.strftime("%Y-%m") for m in frozen],
        total=_figures(total, weights), rows=rows,
    )


@router.get("/assessment/rankings", response_model=Rankings, responses=CSV_RESPONSES)
async def rankings(
    session: SessionDep,
    settings: SettingsDep,
    period: PeriodDep,
    unit_class: UnitClass,
    fmt: FormatDep = "json",
    district: Annotated[str | None, Query(max_length=12, description="only this district's units")] = None,
    min_base: Annotated[int, Query(ge=1, le=10_000, description="fewer valid return visits: not ranked")] = 1,
    _: Principal = require(*READERS),
):
    """Units ranked by composite score against their class (streets with streets, departments with
    departments), with last period's rank and the change."""
    weights = Weights.from_settings(settings)
    conn = await session.connection()
    units = await rates.units_of(conn, unit_class, district)
    prior = period.previous()
    now = await rates.counts_by(conn, period, Dimension.UNIT, Scope(units=units))
    before = await rates.counts_by(conn, prior, Dimension.UNIT, Scope(units=units))
    prev_rank = {r.unit: r for r in rates.rank(before, weights, min_base)}
    names = await rates.names(conn, Dimension.UNIT)
    rows = []
    for r in rates.rank(now, weights, min_base):
        p = prev_rank.get(r.unit)
        zh, en, _kind = names.get(r.unit, (None, None, None))
        rows.append(
            RankRow(
                rank=r.rank, unit=r.unit, name_zh=zh, name_en=en,
                **_figures(r.counts, weights).model_dump(),
                previous_rank=p.rank if p else None,
                previous=_figures(p.counts, weights) if p else None,
                change=_change(r.rates, p.rates) if p else None,
            )
        )
    if fmt == "csv":
        columns = ["rank", "unit", "name_zh", "name_en", *CountsOut.model_fields, *RatesOut.model_fields,
                   "previous_rank", "previous_composite", "change_composite"]
        return csv_response([_flat(r) for r in rows], columns, f"rankings-{unit_class}-{period.label}")
    return Rankings(
        period=_period_out(period), previous_period=_period_out(prior), unit_class=unit_class,
        weights=weights.to_json(), min_base=min_base, rows=rows,
    )


@router.get("/assessment/appeals", response_model=DrillPage, responses=CSV_RESPONSES)
async def drilldown(
    session: SessionDep,
    period: PeriodDep,
    measure: Measure = Measure.BASE,
    fmt: FormatDep = "json",
    unit: Code = None,
    district: Annotated[str | None, Query(max_length=12)] = None,
    street: Code = None,
    category: Code = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    principal: Principal = require(*READERS),
):
    """The appeals behind one figure of `/assessment/rates`: the same period and filters, and the
    count it drills into (`measure`). A district supervisor sees the district's appeals only."""
    district = appeal_scope(principal, district, by_unit=False).district
    conn = await session.connection()
    total, items = await rates.drilldown(
        conn, period, measure, _scope(unit, district, street, category), limit=limit, offset=offset
    )
    if fmt == "csv":
        return csv_response(items, list(DrillRow.model_fields), f"appeals-{measure}-{period.label}")
    return DrillPage(period=_period_out(period), measure=measure, total=total, limit=limit, offset=offset,
                     items=[DrillRow(**i) for i in items])


# --- whistle-summoning (街乡吹哨、部门报到) -------------------------------------------------------


class WhistleCountsOut(BaseModel):
    parts: int = Field(description="parts summoned in the period (a department summoned to an appeal)")
    reported_in: int = Field(description="reported in (报到), at any time")
    reported_in_in_time: int = Field(description="reported in no later than the report-in limit")
    awaiting_report_in: int = Field(description="not reported in, open, its report-in limit not passed yet")
    report_in_base: int = Field(description="parts − awaiting report-in")
    done: int = Field(description="reported done, at any time")
    done_in_time: int = Field(description="reported done no later than the part's limit")
    not_done: int = Field(description="declined, closed or failed without being done: out of the done base")
    pending: int = Field(description="open and within the part's limit: out of the done base")
    done_base: int = Field(description="parts − not done − pending")
    rated: int = Field(description="parts the street rated")


class WhistleRatesOut(BaseModel):
    report_in: float | None = Field(description="reported in in time ÷ report-in base (None when it is 0)")
    done: float | None = Field(description="done in time ÷ done base")
    rating: float | None = Field(description="the summoning street's average rating, 1–5 (None: none rated)")


class WhistleFigures(BaseModel):
    counts: WhistleCountsOut
    rates: WhistleRatesOut


class WhistleRow(WhistleFigures):
    rank: int | None = Field(description="by `order`, 1 highest; equal values share a rank; None: nothing to rank on")
    unit: str = Field(description="the department summoned")
    name_zh: str | None
    name_en: str | None


class WhistlePage(BaseModel):
    period: PeriodOut
    order: Order
    total: WhistleFigures
    rows: list[WhistleRow]


class WhistlePartRow(BaseModel):
    appeal_no: str
    unit: str = Field(description="the department summoned")
    unit_name_zh: str | None
    district: str | None = Field(description="the appeal's district")
    street: str | None = Field(description="the street or township that summoned")
    street_name_zh: str | None
    status: str = Field(description="requested, accepted (reported in), declined, done, closed, failed")
    requested_at: datetime
    report_in_due: datetime | None
    reported_in_at: datetime | None
    reported_in_in_time: bool | None = Field(description="None: not reported in, its report-in limit not passed")
    due: datetime
    done_at: datetime | None
    done_in_time: bool | None = Field(description="None: not done (declined, closed, failed) or still within its limit")
    rating: int | None


class WhistlePartPage(BaseModel):
    period: PeriodOut
    measure: whistles.Measure
    total: int
    limit: int
    offset: int
    items: list[WhistlePartRow]


def _whistle_figures(c: whistles.Counts) -> WhistleFigures:
    return WhistleFigures(counts=WhistleCountsOut(**c.to_json()), rates=WhistleRatesOut(**whistles.Rates.of(c).to_json()))


WHISTLE_COLUMNS = ["rank", "unit", "name_zh", "name_en",
                   *WhistleCountsOut.model_fields, *(f"{r}_rate" for r in WhistleRatesOut.model_fields)]


def _whistle_flat(row: WhistleRow) -> dict[str, Any]:
    out = row.model_dump(exclude={"counts", "rates"}) | row.counts.model_dump()
    return out | {f"{k}_rate": v for k, v in row.rates.model_dump().items()}


@router.get("/assessment/whistles", response_model=WhistlePage,
            responses=CSV_RESPONSES)
async def whistle_figures(
    session: SessionDep,
    period: PeriodDep,
    fmt: FormatDep = "json",
    order: Annotated[Order, Query(description="rank by parts (default), report_in_rate, done_rate or rating")] = Order.PARTS,
    unit: Code = None,
    district: Annotated[str | None, Query(max_length=12, description="the appeal's district")] = None,
    street: Annotated[str | None, Query(max_length=40, description="the street or township that summoned")] = None,
    _: Principal = require(*READERS),
):
    """吹哨报到: per department summoned in the period, how many parts, reported in and done in
    time, not done, and the streets' average rating; ranked by `order`. Each count drills down
    to its parts (`GET /assessment/whistles/parts`)."""
    conn = await session.connection()
    counts = await whistles.counts_by_unit(conn, period, Filters(unit=unit, district=district, street=street),
                                           now=datetime.now(CHINA_TZ))
    names = await rates.names(conn, Dimension.UNIT)
    rows = []
    for r in whistles.rank(counts, order):
        zh, en, _kind = names.get(r.unit, (None, None, None))
        rows.append(WhistleRow(rank=r.rank, unit=r.unit, name_zh=zh, name_en=en,
                               **_whistle_figures(r.counts).model_dump()))
    if fmt == "csv":
        return csv_response([_whistle_flat(r) for r in rows], WHISTLE_COLUMNS, f"whistles-{period.label}")
    return WhistlePage(period=_period_out(period), order=order,
                       total=_whistle_figures(sum(counts.values(), whistles.Counts())), rows=rows)


@router.get("/assessment/whistles/parts", response_model=WhistlePartPage,
            responses=CSV_RESPONSES)
async def whistle_parts(
    session: SessionDep,
    period: PeriodDep,
    measure: whistles.Measure = whistles.Measure.PARTS,
    fmt: FormatDep = "json",
    unit: Code = None,
    district: Annotated[str | None, Query(max_length=12, description="the appeal's district")] = None,
    street: Annotated[str | None, Query(max_length=40, description="the street or township that summoned")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    principal: Principal = require(*READERS),
):
    """The parts behind one figure of `/assessment/whistles` (`measure`), by summons time, with
    the times in Beijing time. A district supervisor sees the district's appeals only."""
    district = appeal_scope(principal, district, by_unit=False).district
    conn = await session.connection()
    total, items = await whistles.drilldown(
        conn, period, measure, Filters(unit=unit, district=district, street=street),
        now=datetime.now(CHINA_TZ), limit=limit, offset=offset,
    )
    names = await rates.names(conn, Dimension.UNIT)
    items = [
        i | {"unit_name_zh": names.get(i["unit"], (None,))[0],
                          "street_name_zh": names.get(i["street"], (None,))[0] if i["street"] else None}
        for i in items
    ]
    if fmt == "csv":
        return csv_response(items, list(WhistlePartRow.model_fields), f"whistle-parts-{measure}-{period.label}")
    return WhistlePartPage(period=_period_out(period), measure=measure, total=total, limit=limit, offset=offset,
                           items=[WhistlePartRow(**i) for i in items])


# --- exclusions (reviews) ----------------------------------------------------------------------


@router.post(
    "/assessment/exclusions",
    status_code=201,
    response_model=ReviewOut,
    responses=responses(
        "not_found",
        "conflict",
        not_found="no appeal has this number",
        conflict="the appeal was changed by another review at the same moment: look again",
    ),
)
async def review_appeal(body: ReviewIn, session: WriteSessionDep, principal: Principal = require(*REVIEWERS)):
    """Take an appeal found unreasonable on review out of the three rates (or put it back), with
    the reason. Every review is kept in an append-only audit. A month already frozen keeps its
    figures until it is frozen again."""
    row = await store.get(session=session, appeal_no=body.appeal_no)
    if row is None or not visible(row, principal):
        raise not_found("appeal", body.appeal_no)
    conn = await session.connection()
    try:
        saved = await exclusions.review(
            conn, body.appeal_no, excluded=body.excluded, reason=body.reason,
            username=principal.username, role=principal.role.value,
        )
    except exclusions.ReviewRefused as e:
        raise ApiError(409, "conflict", str(e), {"appeal_no": body.appeal_no}) from e
    if saved is None:
        raise not_found("appeal", body.appeal_no)
    await session.commit()
    return ReviewOut(**saved.__dict__)


@router.get("/assessment/exclusions", response_model=ReviewPage, responses=CSV_RESPONSES)
async def list_reviews(
    session: SessionDep,
    fmt: FormatDep = "json",
    appeal_no: Annotated[str | None, Query(max_length=32)] = None,
    period: Annotated[str | None, Query(max_length=10, description="reviews made in YYYY-MM, YYYY-Www or YYYY")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    principal: Principal = require(*READERS, Role.OPERATOR),
):
    """The audit of exclusion reviews, newest first (a district supervisor's: the district's
    appeals)."""
    scope = appeal_scope(principal, by_unit=False)
    since = until = None
    if period is not None:
        try:
            since, until = Period.parse(period).bounds()
        except PeriodError as e:
            raise ApiError(422, "invalid_period", str(e), {"field": "period"}) from e
    conn = await session.connection()
    total, items = await exclusions.reviews(
        conn, appeal_no=appeal_no, district=scope.district, since=since, until=until, limit=limit, offset=offset
    )
    if fmt == "csv":
        return csv_response([i.__dict__ for i in items], list(ReviewOut.model_fields), "exclusions")
    return ReviewPage(total=total, limit=limit, offset=offset, items=[ReviewOut(**i.__dict__) for i in items])


# --- frozen months -----------------------------------------------------------------------------


def _month(text: str) -> Period:
    try:
        p = Period.parse(text)
    except PeriodError as e:
        raise ApiError(422, "invalid_period", str(e), {"field": "month"}) from e
    if p.grain != "month":
        raise ApiError(422, "invalid_period", "a month is YYYY-MM", {"field": "month"})
    return p


def _run(row: Any) -> MonthRun:
    return MonthRun(month=row.month.strftime("%Y-%m"), frozen_at=row.frozen_at, frozen_by=row.frozen_by,
                    appeals=row.appeals, settings=row.settings)


@router.get("/assessment/months", response_model=list[MonthRun])
async def frozen_month_list(
    session: SessionDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    _: Principal = require(*READERS),
):
    """Months the monthly assessment has frozen: their figures are read as captured then."""
    return [_run(r) for r in await rates.runs(await session.connection(), year=year)]


@router.post(
    "/assessment/months/{month}/freeze",
    response_model=FreezeOut,
    responses=responses(
        "conflict",
        "forbidden",
        conflict="the month is frozen already, or still open (it can be frozen once it has ended)",
        forbidden="an analyst or supervisor freezing a month again (only an administrator may)",
    ),
)
async def freeze_month(
    month: str,
    session: WriteSessionDep,
    settings: SettingsDep,
    body: FreezeIn | None = None,
    principal: Principal = require(Role.ADMINISTRATOR, Role.SUPERVISOR),
):
    """Freeze a month that is over (the schedule does this on the 1st). `refreeze` replaces what
    was captured, for a correction: administrators only."""
    period = _month(month)
    refreeze = body.refreeze if body else False
    if refreeze and principal.role is not Role.ADMINISTRATOR:
        raise ApiError(403, "forbidden", "only an administrator may freeze a month again")
    conn = await session.connection()
    try:
        _, now = await rates.freeze(
            conn, period, by=principal.username, weights=Weights.from_settings(settings),
            now=datetime.now(CHINA_TZ), refreeze=refreeze,
        )
    except rates.FreezeError as e:
        raise ApiError(409, "conflict", str(e), {"month": month}) from e
    row = await rates.run_of(conn, period.start)
    await session.commit()
    return FreezeOut(**_run(row).model_dump(), frozen_now=now)

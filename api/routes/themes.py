"""One problem a month (每月一题): the proposed candidates, the supervisor's pick of the month's
theme and its 2–3 problems (each a governance task), and the year's list with their progress."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from analytics.hotspots import propose_candidates
from analytics.periods import Period, PeriodError
from api.auth import Principal, require
from api.csv import csv_response
from api.deps import DirectoryDep, ReadsDep, SessionDep, SettingsDep, TemporalDep, WriteSessionDep
from api.error_codes import responses
from api.errors import ApiError, not_found
from api.governance import (
    CSV,
    READERS,
    PeriodOut,
    ProblemIn,
    TaskOut,
    draft_from,
    period_out,
    present,
    start_tasks,
)
from api.periods import FormatDep
from api.scope import AppealScope, appeal_scope
from db import governance as store
from domain import governance as rules
from domain.calendar import CHINA_TZ
from domain.governance import TaskSource, TaskStatus
from domain.messages import TEXT
from domain.types import Role

router = APIRouter(
    tags=["governance"],
    responses=responses("not_found", "invalid_period", not_found="no theme is set for this month"),
)

MONTH = r"^\d{4}-\d{2}$"


class CandidateOut(BaseModel):
    rank: int
    category: str
    district: str | None
    count: int
    previous: int
    change: int
    change_pct: float | None
    reasons: list[str] = Field(description="largest, rising, or both")
    examples: list[str]
    category_name_zh: str | None = None
    district_name_zh: str | None = None


class Candidates(BaseModel):
    period: PeriodOut
    source: str = Field(description="stored: as the monthly analysis proposed them; live: computed now")
    proposed_at: datetime | None
    candidates: list[CandidateOut]


class ThemeCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "month": "2027-01",
                    "title": "背街小巷照明与环境",
                    "description": "每月一题：路灯不亮、垃圾堆积反复出现的胡同和小区",
                    "problems": [
                        {
                            "title": "方家胡同路灯反复不亮",
                            "category": "MUNI.STREETLIGHT",
                            "district": "110101",
                            "street": "110101-ANDINGMEN",
                            "owner_unit": "BJ-LIGHTING",
                        },
                        {
                            "title": "朝外小区门口垃圾堆积",
                            "category": "CITY.GARBAGE",
                            "district": "110105",
                            "street": "110105-CHAOWAI",
                            "owner_unit": "110105-CHAOWAI",
                        },
                    ],
                }
            ]
        }
    )

    month: str = Field(pattern=MONTH, description="YYYY-MM")
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=TEXT)
    problems: list[ProblemIn] = Field(min_length=2, max_length=3)


class ProblemOut(BaseModel):
    position: int
    title: str
    task: TaskOut


class ThemeOut(BaseModel):
    month: str
    title: str
    description: str | None
    chosen_by: str
    chosen_at: datetime
    problems: list[ProblemOut]


class YearOut(BaseModel):
    year: int
    period: PeriodOut
    themes: list[ThemeOut]
    problems: int = Field(description="the year's problems (Beijing: 27 in 2021, 17 in 2022 ...)")
    closed: int
    active: int
    cancelled: int


def _month_period(text: str, field: str = "month") -> Period:
    try:
        first = rules.parse_month(text)
        month = Period.month(first.year, first.month)
        month.previous()  # candidates are compared with the month before: it must exist too
        return month
    except (ValueError, PeriodError) as e:
        raise ApiError(422, "invalid_period", str(e), {"field": field}) from e


async def _month_dep(
    period: Annotated[str | None, Query(max_length=10, description="YYYY-MM; default: last month")] = None,
) -> Period:
    if period is None:
        last = datetime.now(CHINA_TZ).date().replace(day=1) - timedelta(days=1)
        return Period.month(last.year, last.month)
    return _month_period(period, "period")


CANDIDATE_COLUMNS = ["rank", "category", "category_name_zh", "district", "district_name_zh", "count", "previous",
                     "change", "change_pct", "reasons", "examples"]


@router.get("/governance/themes/candidates", response_model=Candidates, responses=CSV)
async def theme_candidates(
    session: SessionDep,
    period: Annotated[Period, Depends(_month_dep)],
    principal: Principal = require(*READERS),
    fmt: FormatDep = "json",
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
):
    """Candidate themes for a month: the largest and the fastest-rising problems (category ×
    district) with their counts against the month before and example appeals. A closed month
    answers with what the monthly analysis stored; otherwise they are computed now. A district
    supervisor sees the district's candidates only, as in /analytics."""
    scope = appeal_scope(principal, by_unit=False)
    stored = await store.stored_candidates(session=session, month=period.start)
    if stored:
        source, at = "stored", max(c.proposed_at for c in stored)
        items = [
            CandidateOut(rank=c.rank, category=c.category_code, district=c.district_code, count=c.count,
                         previous=c.previous, change=c.change, change_pct=c.change_pct, reasons=c.reasons,
                         examples=c.examples, category_name_zh=c.detail.get("category_name_zh"),
                         district_name_zh=c.detail.get("district_name_zh"))
            for c in stored[:limit]
        ]
    else:
        source, at = "live", None
        items = [
            CandidateOut(rank=i, category=c["category"], district=c.get("district"), count=c["count"],
                         previous=c["previous"], change=c["change"], change_pct=c.get("change_pct"),
                         reasons=list(c.get("reasons", [])), examples=list(c.get("examples", [])),
                         category_name_zh=c.get("category_name_zh"), district_name_zh=c.get("district_name_zh"))
            for i, c in enumerate(await propose_candidates(session, period, limit), start=1)
        ]
    items = [i for i in items if scope.shows(i.district)]
    if fmt == "csv":
        return csv_response([i.model_dump() for i in items], CANDIDATE_COLUMNS, f"theme-candidates-{period.label}")
    return Candidates(period=period_out(period), source=source, proposed_at=at, candidates=items)


def _theme_out(theme, problems: list, scope: AppealScope, rounds: dict[int, list] | None = None) -> ThemeOut:
    """The month's theme is the city's, shown to every reader; a problem's evidence (appeal
    numbers, its rounds' new appeals too) only where the caller may see those appeals. With
    `rounds` (task id → inspections), each task has its inspection rounds."""
    label = f"{theme.month:%Y-%m}"

    def task(t) -> TaskOut:
        out = present(t, rounds.get(t.id, []) if rounds is not None else None, label)
        if scope.shows(t.district_code):
            return out
        hidden = [i.model_copy(update={"appeal_nos": []}) for i in out.inspections] if out.inspections else out.inspections
        return out.model_copy(update={"evidence": [], "inspections": hidden})

    return ThemeOut(
        month=label, title=theme.title, description=theme.description, chosen_by=theme.chosen_by,
        chosen_at=theme.chosen_at,
        problems=[ProblemOut(position=p.position, title=p.title, task=task(t)) for p, t in problems],
    )


@router.post("/governance/themes", status_code=201, response_model=ThemeOut,
             responses=responses(
                 "conflict", "forbidden",
                 conflict="the month has its theme already",
                 forbidden="the month's theme is the city's: a municipal supervisor picks it",
             ))
async def pick_theme(
    body: ThemeCreate,
    reads: ReadsDep,
    tx: WriteSessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    directory: DirectoryDep,
    principal: Principal = require(Role.SUPERVISOR),
):
    """每月一题: the municipal supervision picks the month's theme and its 2–3 problems; each
    problem becomes a governance task owned by its unit, and its progress is that task's."""
    if principal.district:
        raise ApiError(403, "forbidden", "the month's theme is the city's: a municipal supervisor picks it")
    period = _month_period(body.month)
    known = await directory.get()
    async with reads() as session:  # given back before the workflows are started
        drafts = [
            await draft_from(p, TaskSource.MONTHLY_PROBLEM, principal, known, session, f"problems.{i}.", body.month)
            for i, p in enumerate(body.problems)
        ]
        if await store.get_theme(session=session, month=period.start) is not None:
            raise ApiError(409, "conflict", f"{body.month} has its theme already", {"month": body.month})
    try:
        theme = await store.add_theme(session=tx, month=period.start, title=body.title.strip(),
                                      description=body.description, chosen_by=principal.username)
        rows = []
        for position, (problem, draft) in enumerate(zip(body.problems, drafts), start=1):
            row = await store.add_task(session=tx, draft=draft)
            await store.add_problem(session=tx, month=period.start, position=position,
                                    title=problem.title.strip(), task_id=row.id)
            rows.append((position, problem.title.strip(), row))
        await tx.commit()
    except IntegrityError as e:  # another supervisor was quicker
        raise ApiError(409, "conflict", f"{body.month} has its theme already", {"month": body.month}) from e
    await start_tasks(temporal, settings, [r for _, _, r in rows], body.month)
    return ThemeOut(
        month=body.month, title=theme.title, description=theme.description, chosen_by=theme.chosen_by,
        chosen_at=theme.chosen_at,
        problems=[ProblemOut(position=pos, title=title, task=present(row, [], body.month)) for pos, title, row in rows],
    )


THEME_COLUMNS = ["month", "theme", "position", "problem", "task_id", "category", "district", "owner_unit",
                 "status", "inspection_count", "clean_streak", "quiet_since", "closed_at"]


@router.get("/governance/themes", response_model=YearOut, responses=CSV)
async def year_of_themes(
    session: SessionDep,
    principal: Principal = require(*READERS),
    fmt: FormatDep = "json",
    year: Annotated[int | None, Query(ge=1990, le=2099, description="default: this year")] = None,
    rounds: Annotated[bool, Query(description="each task with its inspection rounds (JSON only)")] = False,
):
    """The year's list of monthly problems with the progress of each (like Beijing's 27 problems
    of 2021): how many there were, how many are solved (closed), still being inspected or
    cancelled; with `rounds=true`, each problem's task with its inspection rounds, as
    `GET /governance/tasks/{id}` shows them."""
    year = year or datetime.now(CHINA_TZ).year
    period = Period.parse(str(year))
    scope = appeal_scope(principal, by_unit=False)
    found = await store.themes_between(session=session, first=period.start, end=period.end)
    inspections = None
    if rounds and fmt != "csv":
        inspections = await store.inspections_of(session=session, task_ids=[t.id for _, ps in found for _, t in ps])
    themes = [_theme_out(t, ps, scope, inspections) for t, ps in found]
    tasks = [p.task for t in themes for p in t.problems]
    if fmt == "csv":
        rows = [
            {"month": t.month, "theme": t.title, "position": p.position, "problem": p.title, "task_id": p.task.id,
             "category": p.task.category, "district": p.task.district, "owner_unit": p.task.owner_unit,
             "status": p.task.status, "inspection_count": p.task.inspection_count,
             "clean_streak": p.task.clean_streak, "quiet_since": p.task.quiet_since, "closed_at": p.task.closed_at}
            for t in themes for p in t.problems
        ]
        return csv_response(rows, THEME_COLUMNS, f"monthly-problems-{year}")
    return YearOut(
        year=year, period=period_out(period), themes=themes, problems=len(tasks),
        closed=sum(t.status == TaskStatus.CLOSED.value for t in tasks),
        active=sum(t.status in (TaskStatus.ACTIVE.value, store.STARTING) for t in tasks),
        cancelled=sum(t.status == TaskStatus.CANCELLED.value for t in tasks),
    )


@router.get("/governance/themes/{month}", response_model=ThemeOut)
async def get_theme(
    month: Annotated[str, Path(pattern=MONTH, description="YYYY-MM")],
    session: SessionDep,
    principal: Principal = require(*READERS),
):
    """One month's theme, its problems and their tasks."""
    period = _month_period(month)
    found = await store.themes_between(session=session, first=period.start, end=period.end)
    if not found:
        raise not_found("theme of", month)
    return _theme_out(*found[0], appeal_scope(principal, by_unit=False))


"""Governance tasks, their inspections and the monthly themes in PostgreSQL: writing a task (and
a month's problems) before their workflows start, and reading the projection.

Keyword-only functions taking a session or an engine, as `db.appeals`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import Appeal, GovernanceInspection, GovernanceTask, MonthlyProblem, MonthlyTheme, ThemeCandidate
from db.session import session_factory
from domain.governance import GovernanceTaskInput, GovernanceTerms, TaskSource, workflow_id
from domain.messages import Actor
from domain.types import Role

#: The row's status until the workflow's first projection.
STARTING = "starting"


@dataclass(frozen=True)
class TaskDraft:
    """A governance task as a supervisor asks for it."""

    title: str
    category: str
    owner_unit: str
    created_by: Actor
    terms: GovernanceTerms
    source: TaskSource = TaskSource.MANUAL
    description: str | None = None
    district: str | None = None
    street: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    radius_m: int | None = None
    evidence: list[str] = field(default_factory=list)
    month: str | None = None


async def add_task(*, session: AsyncSession, draft: TaskDraft) -> GovernanceTask:
    """Add the task's row (flushed, not committed: the caller's transaction decides)."""
    row = GovernanceTask(
        workflow_id="",  # known once the id is
        title=draft.title,
        description=draft.description,
        source=draft.source.value,
        category_code=draft.category,
        district_code=draft.district,
        street_code=draft.street,
        location_address=draft.address,
        latitude=draft.latitude,
        longitude=draft.longitude,
        radius_m=draft.radius_m,
        owner_unit_code=draft.owner_unit,
        evidence=draft.evidence,
        interval_days=draft.terms.interval_days,
        quiet_days=draft.terms.quiet_days,
        clean_inspections=draft.terms.clean_inspections,
        created_by=draft.created_by.user,
        status=STARTING,
    )
    session.add(row)
    await session.flush()
    row.workflow_id = workflow_id(row.id)
    await session.flush()
    await session.refresh(row)  # created_at, from the database's clock
    return row


def task_input(row: GovernanceTask, created_by: Actor | None = None, month: str | None = None) -> GovernanceTaskInput:
    """What the task's workflow starts with (the place's address and the text stay here)."""
    return GovernanceTaskInput(
        task_id=row.id,
        category=row.category_code,
        district=row.district_code,
        street=row.street_code,
        owner_unit=row.owner_unit_code,
        source=TaskSource(row.source),
        month=month,
        terms=GovernanceTerms(
            interval_days=row.interval_days, quiet_days=row.quiet_days, clean_inspections=row.clean_inspections
        ),
        created_at=row.created_at,
        created_by=created_by or Actor(user=row.created_by, role=Role.SUPERVISOR),
    )


async def unstarted_tasks(*, engine: AsyncEngine, older_than: datetime, limit: int = 100) -> list[GovernanceTask]:
    """Tasks whose workflow never projected anything: the start may have been lost."""
    async with session_factory(engine)() as session:
        stmt = (
            select(GovernanceTask)
            .where(GovernanceTask.seq == 0, col(GovernanceTask.created_at) < older_than)
            .order_by(GovernanceTask.id)
            .limit(limit)
        )
        return list((await session.exec(stmt)).all())


async def month_of_task(*, session: AsyncSession, task_id: int) -> str | None:
    month = (await session.exec(select(MonthlyProblem.month).where(MonthlyProblem.task_id == task_id))).first()
    return f"{month:%Y-%m}" if month else None


async def months_of_tasks(*, session: AsyncSession, task_ids: list[int]) -> dict[int, str]:
    """task id → YYYY-MM, for the tasks that are one of a month's problems."""
    if not task_ids:
        return {}
    rows = await session.exec(
        select(MonthlyProblem.task_id, MonthlyProblem.month).where(col(MonthlyProblem.task_id).in_(task_ids))
    )
    return {task_id: f"{month:%Y-%m}" for task_id, month in rows.all()}


async def get_task(*, session: AsyncSession, task_id: int) -> GovernanceTask | None:
    return await session.get(GovernanceTask, task_id)


async def inspections_of(*, session: AsyncSession, task_ids: list[int]) -> dict[int, list[GovernanceInspection]]:
    out: dict[int, list[GovernanceInspection]] = {i: [] for i in task_ids}
    if not task_ids:
        return out
    stmt = (
        select(GovernanceInspection)
        .where(col(GovernanceInspection.task_id).in_(task_ids))
        .order_by(GovernanceInspection.task_id, GovernanceInspection.round)
    )
    for row in (await session.exec(stmt)).all():
        out[row.task_id].append(row)
    return out


@dataclass(frozen=True)
class TaskFilter:
    status: str | None = None
    unit: str | None = None
    district: str | None = None
    category: str | None = None
    source: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None  # exclusive


async def search_tasks(
    *, session: AsyncSession, f: TaskFilter, limit: int, offset: int
) -> tuple[list[GovernanceTask], int]:
    conditions = []
    if f.status:
        conditions.append(GovernanceTask.status == f.status)
    if f.unit:
        conditions.append(GovernanceTask.owner_unit_code == f.unit)
    if f.district:
        conditions.append(GovernanceTask.district_code == f.district)
    if f.category:
        conditions.append(
            or_(
                GovernanceTask.category_code == f.category,
                col(GovernanceTask.category_code).startswith(f.category + "."),
            )
        )
    if f.source:
        conditions.append(GovernanceTask.source == f.source)
    if f.created_from:
        conditions.append(col(GovernanceTask.created_at) >= f.created_from)
    if f.created_to:
        conditions.append(col(GovernanceTask.created_at) < f.created_to)
    stmt = select(GovernanceTask).where(*conditions)
    total = (await session.exec(select(func.count()).select_from(stmt.subquery()))).one()
    rows = await session.exec(stmt.order_by(col(GovernanceTask.id).desc()).offset(offset).limit(limit))
    return list(rows.all()), total


# --- one problem a month ----------------------------------------------------------------------


async def add_theme(
    *, session: AsyncSession, month: date, title: str, description: str | None, chosen_by: str
) -> MonthlyTheme:
    theme = MonthlyTheme(month=month, title=title, description=description, chosen_by=chosen_by)
    session.add(theme)
    await session.flush()
    return theme


async def add_problem(*, session: AsyncSession, month: date, position: int, title: str, task_id: int) -> None:
    session.add(MonthlyProblem(month=month, position=position, title=title, task_id=task_id))
    await session.flush()


async def get_theme(*, session: AsyncSession, month: date) -> MonthlyTheme | None:
    return await session.get(MonthlyTheme, month)


async def themes_between(
    *, session: AsyncSession, first: date, end: date
) -> list[tuple[MonthlyTheme, list[tuple[MonthlyProblem, GovernanceTask]]]]:
    """The themes of the months in [first, end), each with its problems and their tasks."""
    themes = (
        await session.exec(
            select(MonthlyTheme)
            .where(col(MonthlyTheme.month) >= first, col(MonthlyTheme.month) < end)
            .order_by(MonthlyTheme.month)
        )
    ).all()
    if not themes:
        return []
    rows = (
        await session.exec(
            select(MonthlyProblem, GovernanceTask)
            .join(GovernanceTask, GovernanceTask.id == MonthlyProblem.task_id)
            .where(col(MonthlyProblem.month).in_([t.month for t in themes]))
            .order_by(MonthlyProblem.month, MonthlyProblem.position)
        )
    ).all()
    problems: dict[date, list] = {t.month: [] for t in themes}
    for problem, task in rows:
        problems[problem.month].append((problem, task))
    return [(t, problems[t.month]) for t in themes]


async def stored_candidates(*, session: AsyncSession, month: date) -> list[ThemeCandidate]:
    stmt = select(ThemeCandidate).where(ThemeCandidate.month == month).order_by(ThemeCandidate.rank)
    return list((await session.exec(stmt)).all())


async def existing_appeals(*, session: AsyncSession, appeal_nos: list[str]) -> set[str]:
    if not appeal_nos:
        return set()
    rows = await session.exec(select(Appeal.appeal_no).where(col(Appeal.appeal_no).in_(appeal_nos)))
    return set(rows.all())


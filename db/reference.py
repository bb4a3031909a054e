"""Reading the reference data: units, catalogue, routing, policies, calendar.

Keyword-only functions taking a session, so the API and the activities share one way in.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import CalendarDay, Category, RoutingRule, TimeLimitPolicy, Unit
from domain.calendar import WorkCalendar
from domain.routing import Route, Rule, category_lineage, choose_unit
from domain.types import UnitKind


async def list_units(
    *,
    session: AsyncSession,
    kind: UnitKind | None = None,
    district: str | None = None,
    parent: str | None = None,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Unit], int]:
    stmt = select(Unit)
    if kind is not None:
        stmt = stmt.where(Unit.kind == kind)
    if district is not None:
        stmt = stmt.where(Unit.district_code == district)
    if parent is not None:
        stmt = stmt.where(Unit.parent_code == parent)
    if q:
        pattern = f"%{q}%"
        stmt = stmt.where(
            or_(col(Unit.name_zh).ilike(pattern), col(Unit.name_en).ilike(pattern), col(Unit.code).ilike(pattern))
        )
    total = (await session.exec(select(func.count()).select_from(stmt.subquery()))).one()
    rows = (await session.exec(stmt.order_by(Unit.code).offset(offset).limit(limit))).all()
    return list(rows), total


async def get_unit(*, session: AsyncSession, code: str) -> Unit | None:
    return await session.get(Unit, code)


async def list_categories(*, session: AsyncSession) -> list[Category]:
    return list((await session.exec(select(Category).order_by(Category.code))).all())


async def route(
    *, session: AsyncSession, category: str, district: str | None, street: str | None
) -> Route:
    """The unit an appeal goes to by the dispatch catalogue (district government as backstop)."""
    parents = dict((await session.exec(select(Category.code, Category.parent_code))).all())
    lineage = category_lineage(category, parents)
    rules = (
        await session.exec(select(RoutingRule).where(col(RoutingRule.category_code).in_(lineage)))
    ).all()
    backstops = dict(
        (
            await session.exec(
                select(Unit.district_code, Unit.code).where(
                    Unit.kind == UnitKind.DISTRICT_GOVERNMENT, Unit.active
                )
            )
        ).all()
    )
    return choose_unit(
        lineage,
        [
            Rule(
                category=r.category_code,
                unit=r.unit_code,
                district=r.district_code,
                street=r.street_code,
                to_local_street=r.to_local_street,
            )
            for r in rules
        ],
        district=district,
        street=street,
        backstops=backstops,
    )


async def list_policies(*, session: AsyncSession) -> list[TimeLimitPolicy]:
    stmt = select(TimeLimitPolicy).order_by(TimeLimitPolicy.urgency, TimeLimitPolicy.appeal_type)
    return list((await session.exec(stmt)).all())


async def calendar_days(
    *, session: AsyncSession, start: date | None = None, end: date | None = None
) -> list[CalendarDay]:
    stmt = select(CalendarDay)
    if start is not None:
        stmt = stmt.where(CalendarDay.day >= start)
    if end is not None:
        stmt = stmt.where(CalendarDay.day <= end)
    return list((await session.exec(stmt.order_by(CalendarDay.day))).all())


async def work_calendar(*, session: AsyncSession) -> WorkCalendar:
    return WorkCalendar.from_entries((d.day, d.kind) for d in await calendar_days(session=session))

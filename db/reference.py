"""Reading the reference data: units, catalogue, routing, policies, calendar.

Keyword-only functions taking a session, so the API and the activities share one way in.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import CalendarDay, Category, District, RoutingRule, TimeLimitPolicy, Unit
from db.session import session_factory
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


# --- an in-memory snapshot for the hot paths (intake checks, routing) ------------------------


@dataclass(frozen=True)
class UnitFacts:
    kind: UnitKind
    district: str | None
    active: bool
    name_zh: str = ""  # shown next to the code in answers that name units


@dataclass(frozen=True)
class Directory:
    """Units, categories and routing rules as of one moment, for checks that run on every
    intake and dispatch."""

    units: dict[str, UnitFacts]
    categories: dict[str, Category]
    rules: list[Rule]
    backstops: dict[str, str]
    districts: dict[str, District] = field(default_factory=dict)  # by code, in code order

    def route(self, *, category: str, district: str | None, street: str | None) -> Route:
        parents = {code: c.parent_code for code, c in self.categories.items()}
        lineage = category_lineage(category, parents)
        wanted = set(lineage)
        return choose_unit(
            lineage,
            [r for r in self.rules if r.category in wanted],
            district=district,
            street=street,
            backstops=self.backstops,
        )


async def load_directory(*, session: AsyncSession) -> Directory:
    units = (await session.exec(select(Unit))).all()
    rules = (await session.exec(select(RoutingRule))).all()
    return Directory(
        units={u.code: UnitFacts(u.kind, u.district_code, u.active, u.name_zh) for u in units},
        categories={c.code: c for c in await list_categories(session=session)},
        rules=[
            Rule(r.category_code, r.unit_code, r.district_code, r.street_code, r.to_local_street) for r in rules
        ],
        backstops={
            u.district_code: u.code for u in units if u.kind == UnitKind.DISTRICT_GOVERNMENT and u.active
        },
        districts={d.code: d for d in (await session.exec(select(District).order_by(District.code))).all()},
    )


class DirectoryCache:
    """Reloads the directory at most every `ttl` seconds: reference data changes rarely, and a
    change (`python -m seed.load`, an administrator's edit) is seen within a minute."""

    def __init__(self, engine: AsyncEngine, ttl: float = 60.0) -> None:
        self.engine, self.ttl = engine, ttl
        self._value: Directory | None = None
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> Directory:
        if self._value is not None and time.monotonic() - self._loaded_at < self.ttl:
            return self._value
        async with self._lock:
            if self._value is None or time.monotonic() - self._loaded_at >= self.ttl:
                async with session_factory(self.engine)() as session:
                    self._value = await load_directory(session=session)
                self._loaded_at = time.monotonic()
        return self._value

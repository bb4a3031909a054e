"""The reference data as the generator sees it, read from the database `db.migrate` filled: units
and streets, the catalogue, routing through the same `Directory` the workflow's activity uses, and
the time-limit terms the workflow loads (policies and the whole holiday calendar)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import select

from db.models import CalendarDay, Category, District, TimeLimitPolicy, Unit
from db.reference import Directory, load_directory
from db.session import make_engine, session_factory
from domain.messages import PolicyTerms, Terms
from domain.routing import NoRoute, Rule, category_lineage, choose_unit
from domain.types import AppealType, DayKind, UnitKind
from settings import Settings


@dataclass(frozen=True)
class Place:
    """A street or township, with its district."""

    code: str
    name: str  # 望京街道
    short: str  # 望京
    district: str
    district_name: str  # 朝阳区
    kind: UnitKind


@dataclass
class World:
    directory: Directory
    districts: dict[str, str]  # code → 朝阳区
    streets: dict[str, list[Place]]  # district → its streets and townships
    units: dict[str, Unit]
    categories: dict[str, Category]
    leaves: list[str]  # categories without children
    terms: dict[AppealType, Terms]
    _routes: dict[tuple[str, str | None, str | None], str | None] = field(default_factory=dict)
    _lineages: dict[str, tuple[list[str], list[Rule]]] = field(default_factory=dict)
    _parents: dict[str, str | None] = field(default_factory=dict)

    def route(self, category: str, district: str | None, street: str | None) -> str | None:
        """The unit the catalogue dispatches to (None: the operator must name one): what
        `Directory.route` answers, with each category's lineage and rules worked out once."""
        key = (category, district, street)
        if key not in self._routes:
            lineage, rules = self._lineage(category)
            try:
                self._routes[key] = choose_unit(
                    lineage, rules, district=district, street=street, backstops=self.directory.backstops
                ).unit
            except NoRoute:
                self._routes[key] = None
        return self._routes[key]

    def _lineage(self, category: str) -> tuple[list[str], list[Rule]]:
        found = self._lineages.get(category)
        if found is None:
            if not self._parents:
                self._parents.update({code: c.parent_code for code, c in self.directory.categories.items()})
            lineage = category_lineage(category, self._parents)
            wanted = set(lineage)
            found = self._lineages[category] = (lineage, [r for r in self.directory.rules if r.category in wanted])
        return found

    def district_units(self, district: str, kinds: tuple[UnitKind, ...]) -> list[str]:
        return sorted(u.code for u in self.units.values() if u.district_code == district and u.kind in kinds and u.active)


def _short(name: str) -> str:
    for suffix in ("街道", "地区", "镇", "乡"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


async def load_world(database_url: str, settings: Settings) -> World:
    engine = make_engine(settings.model_copy(update={"database_url": database_url}), pool_size=1, max_overflow=0)
    try:
        async with session_factory(engine)() as session:
            directory = await load_directory(session=session)
            districts = {d.code: d.name_zh for d in (await session.exec(select(District))).all()}
            units = {u.code: u for u in (await session.exec(select(Unit))).all()}
            categories = {c.code: c for c in (await session.exec(select(Category))).all()}
            policies = (await session.exec(select(TimeLimitPolicy))).all()
            days = (await session.exec(select(CalendarDay))).all()
    finally:
        await engine.dispose()
    if not units or not categories or not policies:
        raise RuntimeError("no reference data: run `python -m db.migrate` on this database first")
    streets: dict[str, list[Place]] = {}
    for u in sorted(units.values(), key=lambda u: u.code):
        if u.kind in (UnitKind.STREET, UnitKind.TOWNSHIP) and u.active and u.district_code:
            streets.setdefault(u.district_code, []).append(
                Place(u.code, u.name_zh, _short(u.name_zh), u.district_code, districts[u.district_code], u.kind)
            )
    parents = {c.parent_code for c in categories.values()}
    holidays = sorted(d.day for d in days if d.kind == DayKind.HOLIDAY)
    workdays = sorted(d.day for d in days if d.kind == DayKind.WORKDAY)
    terms = {
        t: Terms(
            policies=[PolicyTerms.model_validate(p, from_attributes=True) for p in policies if p.appeal_type == t],
            holidays=holidays,
            workdays=workdays,
            workday_end_hour=settings.workday_end_hour,
            reminder_at_fraction=settings.reminder_at_fraction,
            max_rehandles=settings.max_rehandles,
        )
        for t in AppealType
    }
    return World(
        directory=directory,
        districts=districts,
        streets=streets,
        units=units,
        categories=categories,
        leaves=sorted(c for c in categories if c not in parents),
        terms=terms,
    )

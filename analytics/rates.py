"""The three rates (三率) as DOMAIN.md defines them, over the valid return visits of a period.

An appeal counts in the period in which it closed (Beijing days), for the unit that held it then:

- *closed*: every appeal a unit held that closed with a return visit due (resolved, unresolved,
  or closed as not evaluated);
- *excluded*: found unreasonable on review (`assessment_exclusion`): out of the base;
- *not evaluated*: no valid return visit: out of the base, shown beside it;
- *base* = closed − excluded − not evaluated;
- response rate = responded ÷ base, where *responded* is what the citizen said at the (last
  round's) return visit when asked whether the unit got in touch (yes / no), and, where the
  citizen was not asked, the unit's own record of contact within the (last round's) contact
  limit: (said yes + (not asked and recorded in time)) ÷ base. So a unit that recorded its
  contact in time but whose citizen says "no" has not responded;
- resolution rate = resolved ÷ base — only the outcome `resolved` counts, so an appeal closed
  unresolved (after its re-handlings) never does;
- satisfaction rate = (satisfied + factor × basically satisfied) ÷ base;
- composite = the weighted sum (weights and factor from settings).

A month frozen by the monthly assessment (`assessment_run`) is read from what was captured then
(`assessment_rollup`, `assessment_fact`), so its figures never move; every other day is read
live from the appeal rows. Both go through the same definitions below.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from analytics.periods import Period
from domain.types import UnitKind
from settings import Settings

#: The outcomes that had a return visit due; the rest (not accepted, transferred...) never count.
ASSESSED_OUTCOMES = ("resolved", "unresolved", "not_evaluated")


class Dimension(StrEnum):
    UNIT = "unit"
    STREET = "street"
    DISTRICT = "district"
    CATEGORY = "category"
    MONTH = "month"


class UnitClass(StrEnum):
    """Units are ranked against their peers only: streets with streets, departments with
    departments."""

    STREET = "street"  # streets and townships (街乡镇)
    MUNICIPAL_DEPARTMENT = "municipal_department"
    DISTRICT_DEPARTMENT = "district_department"
    DISTRICT_GOVERNMENT = "district_government"
    PUBLIC_SERVICE = "public_service"  # utilities and public-affairs organisations


UNIT_CLASS = {
    UnitKind.STREET: UnitClass.STREET,
    UnitKind.TOWNSHIP: UnitClass.STREET,
    UnitKind.MUNICIPAL_DEPARTMENT: UnitClass.MUNICIPAL_DEPARTMENT,
    UnitKind.DISTRICT_DEPARTMENT: UnitClass.DISTRICT_DEPARTMENT,
    UnitKind.DISTRICT_GOVERNMENT: UnitClass.DISTRICT_GOVERNMENT,
    UnitKind.PUBLIC_SERVICE_ENTERPRISE: UnitClass.PUBLIC_SERVICE,
    UnitKind.PUBLIC_AFFAIRS_ORG: UnitClass.PUBLIC_SERVICE,
}


class Measure(StrEnum):
    """What a drill-down lists: the appeals behind one number."""

    CLOSED = "closed"
    EXCLUDED = "excluded"
    NOT_EVALUATED = "not_evaluated"
    BASE = "base"
    RESPONDED = "responded"  # what the response rate counts
    NOT_RESPONDED = "not_responded"
    CONTACTED_IN_TIME = "contacted_in_time"  # the unit's own record, whatever the citizen said
    CONTACTED_LATE = "contacted_late"
    RESOLVED = "resolved"
    UNRESOLVED = "unresolved"
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    UNSATISFIED = "unsatisfied"


@dataclass(frozen=True)
class Weights:
    response: float = 0.1
    resolution: float = 0.5
    satisfaction: float = 0.4
    basically_satisfied: float = 0.9  # the factor a "basically satisfied" counts for

    @classmethod
    def from_settings(cls, settings: Settings) -> Weights:
        return cls(
            settings.weight_response,
            settings.weight_resolution,
            settings.weight_satisfaction,
            settings.basically_satisfied_factor,
        )

    def to_json(self) -> dict[str, float]:
        return asdict(self)


@dataclass
class Counts:
    closed: int = 0
    excluded: int = 0
    not_evaluated: int = 0
    base: int = 0
    contacted_in_time: int = 0  # the unit's own record of contact within the limit
    responded: int = 0  # the response rate's numerator: the citizen's answer, else the unit's record
    resolved: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def to_json(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class Rates:
    response: float | None
    resolution: float | None
    satisfaction: float | None
    composite: float | None

    @classmethod
    def of(cls, c: Counts, w: Weights) -> Rates:
        if c.base == 0:
            return cls(None, None, None, None)
        response = c.responded / c.base
        resolution = c.resolved / c.base
        satisfaction = (c.satisfied + w.basically_satisfied * c.basically_satisfied) / c.base
        composite = w.response * response + w.resolution * resolution + w.satisfaction * satisfaction
        return cls(response, resolution, satisfaction, composite)

    def to_json(self) -> dict[str, float | None]:
        return {k: (None if v is None else round(v, 6)) for k, v in asdict(self).items()}


# --- the counts, from live rows and from frozen months ----------------------------------------

_COUNT_NAMES = [f.name for f in fields(Counts)]

#: Who answered for the response: the citizen at the return visit, or the unit's own record.
CITIZEN, UNIT_RECORD = "citizen", "unit_record"


def _citizen_answered(t: Any) -> Any:
    return t.c.citizen_contacted.in_(("yes", "no"))


def _responded(t: Any) -> Any:
    """Did the unit respond, as the response rate counts it: the citizen's yes or no where they
    were asked, the unit's own record of contact within the limit otherwise (None: neither)."""
    return sa.case((_citizen_answered(t), t.c.citizen_contacted == "yes"), else_=t.c.contacted_in_time)


def _response_source(t: Any) -> Any:
    return sa.case((_citizen_answered(t), sa.literal(CITIZEN)), else_=sa.literal(UNIT_RECORD))


def _live_sums(t: Any) -> list[Any]:
    """The Counts of live appeal (or captured fact) rows, by the definitions above."""
    kept = sa.and_(~t.c.excluded, t.c.outcome != "not_evaluated")
    return [
        sa.func.count(),
        sa.func.count().filter(t.c.excluded),
        sa.func.count().filter(~t.c.excluded, t.c.outcome == "not_evaluated"),
        sa.func.count().filter(kept),
        sa.func.count().filter(kept, t.c.contacted_in_time.is_(True)),
        sa.func.count().filter(kept, _responded(t).is_(True)),
        sa.func.count().filter(kept, t.c.outcome == "resolved"),
        sa.func.count().filter(kept, t.c.satisfaction == "satisfied"),
        sa.func.count().filter(kept, t.c.satisfaction == "basically_satisfied"),
    ]


_appeal = sa.table(
    "appeal",
    *(
        sa.column(c)
        for c in ("appeal_no", "handling_unit_code", "district_code", "street_code", "category_code", "closed_at",
                  "contacted_in_time", "citizen_contacted", "outcome", "satisfaction", "excluded")
    ),
)
_fact = sa.table(
    "assessment_fact",
    *(
        sa.column(c)
        for c in ("month", "appeal_no", "unit_code", "district_code", "street_code", "category_code", "closed_at",
                  "contacted_in_time", "citizen_contacted", "outcome", "satisfaction", "excluded")
    ),
)
_rollup = sa.table(
    "assessment_rollup",
    *(sa.column(c) for c in ["month", "unit_code", "district_code", "street_code", "category_code", *_COUNT_NAMES]),
)


@dataclass(frozen=True)
class Scope:
    """Filters on the appeals counted (all optional)."""

    unit: str | None = None
    units: tuple[str, ...] | None = None  # e.g. every unit of a class
    district: str | None = None
    street: str | None = None
    category: str | None = None

    def where(self, unit_col: Any, t: Any) -> list[Any]:
        out = []
        if self.unit is not None:
            out.append(unit_col == self.unit)
        if self.units is not None:
            out.append(unit_col.in_(self.units))
        if self.district is not None:
            out.append(t.c.district_code == self.district)
        if self.street is not None:
            out.append(t.c.street_code == self.street)
        if self.category is not None:
            out.append(t.c.category_code == self.category)
        return out


def _key(dim: Dimension, t: Any, unit_col: Any) -> Any:
    return {
        Dimension.UNIT: unit_col,
        Dimension.STREET: t.c.street_code,
        Dimension.DISTRICT: t.c.district_code,
        Dimension.CATEGORY: t.c.category_code,
    }[dim]


def _month_of(col: Any) -> Any:
    """The Beijing month an instant falls in, as its first day."""
    return sa.cast(sa.func.date_trunc("month", sa.func.timezone("Asia/Shanghai", col)), sa.Date)


async def frozen_months(conn: AsyncConnection, period: Period) -> list[date]:
    """The whole months of the period that the monthly assessment has frozen."""
    wanted = [m.start for m in period.months()]
    if not wanted:
        return []
    rows = await conn.execute(sa.text("SELECT month FROM assessment_run WHERE month = ANY(:m)"), {"m": wanted})
    return sorted(r[0] for r in rows)


def _live_ranges(period: Period, frozen: Iterable[date]) -> list[tuple[datetime, datetime]]:
    """The instants of the period not covered by frozen months, merged into ranges."""
    cuts = [Period.month(m.year, m.month) for m in sorted(frozen)]
    ranges, cursor = [], period.start
    for month in cuts:
        if cursor < month.start:
            ranges.append(Period(cursor, month.start).bounds())
        cursor = month.end
    if cursor < period.end:
        ranges.append(Period(cursor, period.end).bounds())
    return ranges


async def counts_by(
    conn: AsyncConnection, period: Period, dim: Dimension | None, scope: Scope = Scope()
) -> dict[Any, Counts]:
    """Counts per value of `dim` (or one total under the key None)."""
    frozen = await frozen_months(conn, period)
    out: dict[Any, Counts] = {}

    def add(rows: Iterable[Any]) -> None:
        for key, *values in rows:
            out[key] = out.get(key, Counts()) + Counts(*values)

    ranges = _live_ranges(period, frozen)
    if ranges:
        t = _appeal
        unit_col = t.c.handling_unit_code
        key = sa.null() if dim is None else (_month_of(t.c.closed_at) if dim is Dimension.MONTH else _key(dim, t, unit_col))
        stmt = (
            sa.select(key.label("k"), *_live_sums(t))
            .where(
                sa.or_(*(sa.and_(t.c.closed_at >= a, t.c.closed_at < b) for a, b in ranges)),
                unit_col.is_not(None),
                t.c.outcome.in_(ASSESSED_OUTCOMES),
                *scope.where(unit_col, t),
            )
            .group_by(sa.text("1"))
        )
        add(await conn.execute(stmt))
    if frozen:
        t = _rollup
        unit_col = t.c.unit_code
        key = sa.null() if dim is None else (t.c.month if dim is Dimension.MONTH else _key(dim, t, unit_col))
        stmt = (
            sa.select(key.label("k"), *(sa.func.coalesce(sa.func.sum(t.c[n]), 0) for n in _COUNT_NAMES))
            .where(t.c.month.in_(frozen), *scope.where(unit_col, t))
            .group_by(sa.text("1"))
        )
        add(await conn.execute(stmt))
    return out


async def drilldown(
    conn: AsyncConnection,
    period: Period,
    measure: Measure,
    scope: Scope,
    *,
    limit: int,
    offset: int,
) -> tuple[int, list[dict[str, Any]]]:
    """The appeals behind one figure: (how many, one page of them by closing time)."""
    frozen = await frozen_months(conn, period)
    parts = []
    ranges = _live_ranges(period, frozen)
    if ranges:
        t = _appeal
        parts.append(
            _drill_select(t, t.c.handling_unit_code, measure, scope, sa.literal(False).label("frozen")).where(
                sa.or_(*(sa.and_(t.c.closed_at >= a, t.c.closed_at < b) for a, b in ranges)),
                t.c.handling_unit_code.is_not(None),
                t.c.outcome.in_(ASSESSED_OUTCOMES),
            )
        )
    if frozen:
        t = _fact
        parts.append(
            _drill_select(t, t.c.unit_code, measure, scope, sa.literal(True).label("frozen")).where(
                t.c.month.in_(frozen)
            )
        )
    if not parts:
        return 0, []
    union = sa.union_all(*parts).subquery()
    total = await conn.scalar(sa.select(sa.func.count()).select_from(union))
    rows = await conn.execute(
        sa.select(union).order_by(union.c.closed_at, union.c.appeal_no).limit(limit).offset(offset)
    )
    return total or 0, [dict(r._mapping) for r in rows]


def _drill_select(t: Any, unit_col: Any, measure: Measure, scope: Scope, frozen: Any) -> sa.Select:
    kept = sa.and_(~t.c.excluded, t.c.outcome != "not_evaluated")
    condition = {
        Measure.CLOSED: sa.true(),
        Measure.EXCLUDED: t.c.excluded,
        Measure.NOT_EVALUATED: sa.and_(~t.c.excluded, t.c.outcome == "not_evaluated"),
        Measure.BASE: kept,
        Measure.RESPONDED: sa.and_(kept, _responded(t).is_(True)),
        Measure.NOT_RESPONDED: sa.and_(kept, _responded(t).is_not(True)),
        Measure.CONTACTED_IN_TIME: sa.and_(kept, t.c.contacted_in_time.is_(True)),
        Measure.CONTACTED_LATE: sa.and_(kept, t.c.contacted_in_time.is_not(True)),
        Measure.RESOLVED: sa.and_(kept, t.c.outcome == "resolved"),
        Measure.UNRESOLVED: sa.and_(kept, t.c.outcome != "resolved"),
        Measure.SATISFIED: sa.and_(kept, t.c.satisfaction == "satisfied"),
        Measure.BASICALLY_SATISFIED: sa.and_(kept, t.c.satisfaction == "basically_satisfied"),
        Measure.UNSATISFIED: sa.and_(kept, sa.func.coalesce(t.c.satisfaction, "") == "unsatisfied"),
    }[measure]
    return sa.select(
        t.c.appeal_no,
        unit_col.label("unit"),
        t.c.district_code.label("district"),
        t.c.street_code.label("street"),
        t.c.category_code.label("category"),
        t.c.closed_at,
        t.c.contacted_in_time,
        t.c.citizen_contacted,
        _responded(t).label("responded"),
        _response_source(t).label("response_source"),
        t.c.outcome,
        t.c.satisfaction,
        t.c.excluded,
        frozen,
    ).where(condition, *scope.where(unit_col, t))


# --- rankings ----------------------------------------------------------------------------------


@dataclass
class Ranked:
    unit: str
    counts: Counts
    rates: Rates
    rank: int | None  # None: no base in the period, so not ranked


def rank(counts: dict[str, Counts], weights: Weights, min_base: int = 1) -> list[Ranked]:
    """Units by composite score, best first; equal scores share a rank (1, 2, 2, 4...). Units
    below `min_base` are listed after, unranked."""
    scored = [Ranked(u, c, Rates.of(c, weights), None) for u, c in counts.items()]
    eligible = sorted(
        (r for r in scored if r.counts.base >= min_base and r.rates.composite is not None),
        key=lambda r: (-round(r.rates.composite, 9), -r.counts.base, r.unit),
    )
    for i, r in enumerate(eligible):
        same = i > 0 and round(eligible[i - 1].rates.composite, 9) == round(r.rates.composite, 9)
        r.rank = eligible[i - 1].rank if same else i + 1
    rest = sorted((r for r in scored if r.rank is None), key=lambda r: r.unit)
    return eligible + rest


# --- freezing a closed month ---------------------------------------------------------------------


class FreezeError(ValueError):
    """The month cannot be frozen (not over yet); the message says why."""


async def freeze(
    conn: AsyncConnection, month: Period, *, by: str, weights: Weights, now: datetime, refreeze: bool = False
) -> tuple[int, bool]:
    """Capture the month's appeals as they count now, and their counts per unit × place × category.
    Returns (appeals captured, whether this call froze it). A frozen month stays as it is unless
    `refreeze` (an administrator correcting it) is asked for."""
    if month.grain != "month":
        raise FreezeError("only whole months are frozen")
    if month.bounds()[1] > now:
        raise FreezeError(f"{month.label} is not over yet")
    # one freezer per month at a time; the second waits and then finds it frozen
    await conn.execute(sa.text("SELECT pg_advisory_xact_lock(1230345, :k)"), {"k": month.start.year * 100 + month.start.month})
    existing = await conn.scalar(sa.text("SELECT appeals FROM assessment_run WHERE month = :m FOR UPDATE"), {"m": month.start})
    if existing is not None and not refreeze:
        return existing, False
    if existing is not None:
        for table in ("assessment_rollup", "assessment_fact", "assessment_run"):
            await conn.execute(sa.text(f"DELETE FROM {table} WHERE month = :m"), {"m": month.start})
    await conn.execute(
        sa.text("INSERT INTO assessment_run (month, frozen_by, appeals, settings) VALUES (:m, :by, 0, CAST(:s AS jsonb))"),
        {"m": month.start, "by": by, "s": _json({"weights": weights.to_json()})},
    )
    a, b = month.bounds()
    t = _appeal
    captured = sa.select(
        sa.literal(month.start, sa.Date),
        t.c.appeal_no, t.c.handling_unit_code, t.c.district_code, t.c.street_code, t.c.category_code,
        t.c.closed_at, t.c.contacted_in_time, t.c.citizen_contacted, t.c.outcome, t.c.satisfaction, t.c.excluded,
    ).where(
        t.c.closed_at >= a, t.c.closed_at < b, t.c.handling_unit_code.is_not(None), t.c.outcome.in_(ASSESSED_OUTCOMES)
    )
    f = _fact
    result = await conn.execute(sa.insert(f).from_select([c.name for c in f.columns], captured))
    cell = [f.c.month, f.c.unit_code, f.c.district_code, f.c.street_code, f.c.category_code]
    await conn.execute(
        sa.insert(_rollup).from_select(
            [c.name for c in _rollup.columns],
            sa.select(*cell, *_live_sums(f)).where(f.c.month == month.start).group_by(*cell),
        )
    )
    await conn.execute(
        sa.text("UPDATE assessment_run SET appeals = :n WHERE month = :m"), {"n": result.rowcount, "m": month.start}
    )
    return result.rowcount, True


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


# --- lookups for the assessment's answers ------------------------------------------------------


async def names(conn: AsyncConnection, dim: Dimension) -> dict[str, tuple[str, str, str | None]]:
    """code → (name_zh, name_en, unit kind) for the dimension's reference table."""
    if dim in (Dimension.UNIT, Dimension.STREET):
        rows = await conn.execute(sa.text("SELECT code, name_zh, name_en, kind::text FROM unit"))
    elif dim is Dimension.DISTRICT:
        rows = await conn.execute(sa.text("SELECT code, name_zh, name_en, NULL FROM district"))
    elif dim is Dimension.CATEGORY:
        rows = await conn.execute(sa.text("SELECT code, name_zh, name_en, NULL FROM category"))
    else:
        return {}
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


async def units_of(conn: AsyncConnection, unit_class: UnitClass, district: str | None) -> tuple[str, ...]:
    """The units of this class (in this district, if one is given)."""
    kinds = [k.value for k, c in UNIT_CLASS.items() if c is unit_class]
    sql = "SELECT code FROM unit WHERE kind::text = ANY(:k)"
    params: dict[str, Any] = {"k": kinds}
    if district is not None:
        sql += " AND district_code = :d"
        params["d"] = district
    return tuple(r[0] for r in await conn.execute(sa.text(sql), params))


_RUNS = "SELECT month, frozen_at, frozen_by, appeals, settings FROM assessment_run"


async def runs(conn: AsyncConnection, *, year: int | None = None) -> list[Any]:
    """The frozen months (of this year, if one is given), the last first."""
    sql, params = _RUNS, {}
    if year is not None:
        sql += " WHERE extract(year FROM month) = :y"
        params["y"] = year
    return list(await conn.execute(sa.text(sql + " ORDER BY month DESC"), params))


async def run_of(conn: AsyncConnection, month: date) -> Any:
    """One frozen month's run (it must exist)."""
    return (await conn.execute(sa.text(_RUNS + " WHERE month = :m"), {"m": month})).one()

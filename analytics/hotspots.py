"""High-frequency problems (高频问题): how many appeals of each category came in at each place
over a period, against the period before; the problems rising fastest; and the candidates for
"one problem a month" (每月一题).

Counts are of appeals *received* in the period (Beijing days), every appeal counted once under
the category it was filed with and its place (district or street). Category, place and time of
receipt never change after intake, so a closed period's figures never move. The queries read
the covering index `ix_appeal_hotspot` (received_at → category, district, street, number), so a
month is an index-only range scan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from analytics.periods import Period

Place = Literal["district", "street"]
Bucket = Literal["week", "month"]
CategoryLevel = Literal["leaf", "theme"]

#: Beijing has kept one offset since 1991; periods are Beijing days.
TZ = "Asia/Shanghai"

_PLACE_COLUMN = {"district": "district_code", "street": "street_code"}
_CATEGORY_EXPR = {"leaf": "category_code", "theme": "split_part(category_code, '.', 1)"}


@dataclass(frozen=True)
class Filters:
    """Narrowing of every count: a category (with its sub-categories), a district, a street.
    `district="none"` asks for the appeals with no district."""

    category: str | None = None
    district: str | None = None
    street: str | None = None
    subcategories: bool = True  # False: the category exactly as filed

    def sql(self, params: dict[str, Any], alias: str = "") -> str:
        """` AND ...` conditions on category_code, district_code and street_code (of `alias`)."""
        a = f"{alias}." if alias else ""
        where = []
        if self.category is not None:
            params["f_category"] = self.category
            narrower = f" OR starts_with({a}category_code, :f_category || '.')" if self.subcategories else ""
            where.append(f"({a}category_code = :f_category{narrower})")
        if self.district == "none":
            where.append(f"{a}district_code IS NULL")
        elif self.district is not None:
            params["f_district"] = self.district
            where.append(f"{a}district_code = :f_district")
        if self.street == "none":
            where.append(f"{a}street_code IS NULL")
        elif self.street is not None:
            params["f_street"] = self.street
            where.append(f"{a}street_code = :f_street")
        return "".join(f" AND {w}" for w in where)


@dataclass
class Cell:
    """One category at one place: appeals in the period and in the one before."""

    category: str
    place: str | None
    count: int
    previous: int
    examples: list[str] = field(default_factory=list)

    @property
    def change(self) -> int:
        return self.count - self.previous

    @property
    def change_pct(self) -> float | None:
        return round(self.change / self.previous, 4) if self.previous else None


@dataclass
class CellPage:
    cells: list[Cell]
    total_cells: int
    total: int
    total_previous: int


async def as_connection(session: AsyncSession | AsyncConnection) -> AsyncConnection:
    """The connection under a session (an ORM or SQLModel one), or the connection itself."""
    return session if isinstance(session, AsyncConnection) else await session.connection()


def both_periods(period: Period) -> dict[str, Any]:
    """One range scan covers the period and the one before (they always meet)."""
    before = period.previous()
    p_start, _ = before.bounds()
    start, end = period.bounds()
    return {"p_start": p_start, "start": start, "end": end}


_ORDERS = {
    "count": "n DESC, (n - before) DESC",
    "rising": "(n - before) DESC, n DESC",
}


async def cells(
    session: AsyncSession | AsyncConnection,
    period: Period,
    *,
    place: Place = "district",
    category_level: CategoryLevel = "leaf",
    filters: Filters = Filters(),
    order: Literal["count", "rising"] = "count",
    min_count: int = 0,
    rising_only: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> CellPage:
    """Counts per category × place, in the period and the period before, sorted and paged in
    the database; the totals cover every cell, not only the page."""
    conn = await as_connection(session)
    params = both_periods(period) | {"limit": limit, "offset": offset, "min_count": min_count}
    cat, col = _CATEGORY_EXPR[category_level], _PLACE_COLUMN[place]
    keep = "n >= :min_count AND n > before" if rising_only else "n >= :min_count AND (n > 0 OR before > 0)"
    rows = (
        await conn.execute(
            sa.text(
                f"""
                WITH cell AS (
                    SELECT {cat} AS category, {col} AS place,
                           count(*) FILTER (WHERE received_at >= :start) AS n,
                           count(*) FILTER (WHERE received_at < :start) AS before
                    FROM appeal
                    WHERE received_at >= :p_start AND received_at < :end{filters.sql(params)}
                    GROUP BY 1, 2
                ), totals AS (
                    SELECT coalesce(sum(n), 0) AS total, coalesce(sum(before), 0) AS total_before FROM cell
                ), kept AS (
                    SELECT * FROM cell WHERE {keep}
                )
                SELECT k.category, k.place, k.n, k.before,
                       (SELECT count(*) FROM kept) AS cells, t.total, t.total_before
                FROM totals t LEFT JOIN LATERAL (
                    SELECT * FROM kept ORDER BY {_ORDERS[order]}, category, place NULLS LAST
                    LIMIT :limit OFFSET :offset
                ) k ON true
                """
            ),
            params,
        )
    ).all()
    first = rows[0]  # always one row, with the totals, even past the last page
    page = [Cell(r.category, r.place, r.n, r.before) for r in rows if r.category is not None]
    return CellPage(page, first.cells, int(first.total), int(first.total_before))


def _on_cell(category_level: CategoryLevel, place: Place) -> str:
    """Joins appeal `a` to the page's cells `k(c, p)` ("" standing for no place)."""
    cat = _CATEGORY_EXPR[category_level].replace("category_code", "a.category_code")
    return f"{cat} = k.c AND coalesce(a.{_PLACE_COLUMN[place]}, '') = k.p"


def _cell_keys(page: Sequence[Cell]) -> dict[str, Any]:
    return {"k_category": [c.category for c in page], "k_place": [c.place or "" for c in page]}


async def add_examples(
    session: AsyncSession | AsyncConnection,
    period: Period,
    page: Sequence[Cell],
    *,
    place: Place = "district",
    category_level: CategoryLevel = "leaf",
    per_cell: int = 3,
) -> None:
    """The latest `per_cell` appeal numbers of the period behind each cell."""
    if not page:
        return
    conn = await as_connection(session)
    start, end = period.bounds()
    rows = await conn.execute(
        sa.text(
            f"""
            SELECT category, place, appeal_no FROM (
                SELECT k.c AS category, k.p AS place, a.appeal_no,
                       row_number() OVER (PARTITION BY k.c, k.p ORDER BY a.received_at DESC, a.appeal_no DESC) AS r
                FROM appeal a
                JOIN unnest(CAST(:k_category AS text[]), CAST(:k_place AS text[])) AS k(c, p)
                  ON {_on_cell(category_level, place)}
                WHERE a.received_at >= :start AND a.received_at < :end
            ) x WHERE r <= :per
            """
        ),
        {"start": start, "end": end, "per": per_cell} | _cell_keys(page),
    )
    found: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        found.setdefault((r.category, r.place), []).append(r.appeal_no)
    for c in page:
        c.examples = found.get((c.category, c.place or ""), [])


async def series(
    session: AsyncSession | AsyncConnection,
    period: Period,
    page: Sequence[Cell],
    *,
    bucket: Bucket,
    place: Place = "district",
    category_level: CategoryLevel = "leaf",
) -> dict[tuple[str, str | None], dict[date, int]]:
    """Counts of the page's cells per week (ISO, from Monday) or calendar month of the period."""
    if not page:
        return {}
    conn = await as_connection(session)
    start, end = period.bounds()
    rows = await conn.execute(
        sa.text(
            f"""
            SELECT k.c AS category, k.p AS place,
                   date_trunc(:bucket, a.received_at AT TIME ZONE '{TZ}')::date AS bucket, count(*) AS n
            FROM appeal a
            JOIN unnest(CAST(:k_category AS text[]), CAST(:k_place AS text[])) AS k(c, p)
              ON {_on_cell(category_level, place)}
            WHERE a.received_at >= :start AND a.received_at < :end
            GROUP BY 1, 2, 3
            """
        ),
        {"start": start, "end": end, "bucket": bucket} | _cell_keys(page),
    )
    out: dict[tuple[str, str | None], dict[date, int]] = {}
    for r in rows:
        out.setdefault((r.category, r.place or None), {})[r.bucket] = r.n
    return out


# --- drill-down ------------------------------------------------------------------------------


async def drilldown(
    session: AsyncSession | AsyncConnection,
    period: Period,
    *,
    filters: Filters = Filters(),
    topic: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """The appeals received in the period with these filters (and this topic), the latest
    first: how many, and a page of them."""
    conn = await as_connection(session)
    start, end = period.bounds()
    params: dict[str, Any] = {"start": start, "end": end, "limit": limit, "offset": offset}
    if topic is None:
        source = f"FROM appeal x WHERE x.received_at >= :start AND x.received_at < :end{filters.sql(params, 'x')}"
    else:
        params["topic"] = topic
        source = ("FROM appeal_topic x WHERE x.topic = :topic AND x.received_at >= :start AND x.received_at < :end"
                  + filters.sql(params, "x"))
    total = await conn.scalar(sa.text(f"SELECT count(*) {source}"), params)
    rows = await conn.execute(
        sa.text(
            f"""
            SELECT a.appeal_no, a.received_at, a.category_code AS category, a.district_code AS district,
                   a.street_code AS street, a.status, a.outcome, a.closed_at
            FROM (SELECT x.appeal_no, x.received_at {source}
                  ORDER BY x.received_at DESC, x.appeal_no DESC LIMIT :limit OFFSET :offset) page
            JOIN appeal a USING (appeal_no)
            ORDER BY page.received_at DESC, page.appeal_no DESC
            """
        ),
        params,
    )
    return total, [dict(r._mapping) for r in rows]


# --- names -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Name:
    code: str | None
    name_zh: str
    name_en: str

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "name_zh": self.name_zh, "name_en": self.name_en}


NOWHERE = Name(None, "未定位", "no place given")


async def names(
    session: AsyncSession | AsyncConnection,
    *,
    categories: Sequence[str] = (),
    districts: Sequence[str | None] = (),
    units: Sequence[str | None] = (),
) -> dict[tuple[str, str | None], Name]:
    """Display names keyed by ("category" | "district" | "unit", code); None is "no place"."""
    conn = await as_connection(session)
    out: dict[tuple[str, str | None], Name] = {("district", None): NOWHERE, ("unit", None): NOWHERE}
    for kind, table, codes in (("category", "category", categories), ("district", "district", districts),
                               ("unit", "unit", units)):
        wanted = sorted({c for c in codes if c is not None})
        if not wanted:
            continue
        rows = await conn.execute(
            sa.text(f"SELECT code, name_zh, name_en FROM {table} WHERE code = ANY(CAST(:codes AS text[]))"),
            {"codes": wanted},
        )
        for r in rows:
            out[(kind, r.code)] = Name(r.code, r.name_zh, r.name_en)
        for code in wanted:  # a code no longer in the directory still shows, as itself
            out.setdefault((kind, code), Name(code, code, code))
    return out


# --- one problem a month (每月一题) ---------------------------------------------------------


async def propose_candidates(session: AsyncSession, period: Period, limit: int = 10) -> list[dict]:
    """Candidate problems for the month's theme: the largest and the fastest-rising category ×
    district of the period, taken in turn (largest first), each once.

    Each candidate is a plain dict (it crosses into Temporal): `category`, `category_name_zh`,
    `category_name_en`, `district` (None: no district given), `district_name_zh`,
    `district_name_en`, `count`, `previous`, `change`, `change_pct` (None when there were none
    before), `examples` (up to 3 appeal numbers of the period) and `reasons` ("largest",
    "rising" or both). A rising problem needs at least 3 appeals in the period, so that one or
    two calls do not make a trend.
    """
    if limit <= 0:
        return []
    largest = (await cells(session, period, order="count", min_count=1, limit=limit)).cells
    rising = (await cells(session, period, order="rising", min_count=3, rising_only=True, limit=limit)).cells
    chosen: dict[tuple[str, str | None], tuple[Cell, list[str]]] = {}
    for i in range(limit):
        for reason, ranked in (("largest", largest), ("rising", rising)):
            if i < len(ranked):
                c = ranked[i]
                key = (c.category, c.place)
                if key in chosen:
                    chosen[key][1].append(reason)
                elif len(chosen) < limit:
                    chosen[key] = (c, [reason])
    picked = [c for c, _ in chosen.values()]
    await add_examples(session, period, picked)
    named = await names(session, categories=[c.category for c in picked], districts=[c.place for c in picked])
    out = []
    for c, reasons in chosen.values():
        category, district = named[("category", c.category)], named[("district", c.place)]
        out.append(
            {
                "category": c.category,
                "category_name_zh": category.name_zh,
                "category_name_en": category.name_en,
                "district": c.place,
                "district_name_zh": district.name_zh,
                "district_name_en": district.name_en,
                "count": c.count,
                "previous": c.previous,
                "change": c.change,
                "change_pct": c.change_pct,
                "examples": c.examples,
                "reasons": reasons,
            }
        )
    return out

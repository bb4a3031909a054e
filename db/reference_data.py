"""The reference data (seed/data/*.yaml and the time-limit policy from settings) into its tables:
`db.migrate` loads it after migrating, `python -m seed.load` loads it alone.

Idempotent: every row is an upsert that only writes when something differs, so loading twice
changes nothing, and editing a YAML file and loading again updates exactly the rows edited.
Rows that disappeared from the files are left alone (appeals may still point at them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import SQLModel

from db.models import CalendarDay, Category, District, RoutingRule, TimeLimitPolicy, Unit
from domain.types import AppealType, LimitUnit, UnitKind, Urgency
from settings import PROJECT_ROOT, Settings, get_settings

DATA_DIR = Path(PROJECT_ROOT) / "seed" / "data"


def read(name: str) -> list[dict[str, Any]]:
    with open(DATA_DIR / f"{name}.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f) or []


def parents_first(rows: Sequence[dict[str, Any]], key: str, parent: str) -> list[dict[str, Any]]:
    """Order rows so that every row comes after the row it points at."""
    by_key = {r[key]: r for r in rows}
    ordered: list[dict[str, Any]] = []
    done: set[str] = set()

    def visit(row: dict[str, Any], path: tuple[str, ...] = ()) -> None:
        if row[key] in done:
            return
        if row[key] in path:
            raise ValueError(f"cycle in {key}: {' -> '.join(path)}")
        up = row.get(parent)
        if up is not None and up in by_key:
            visit(by_key[up], (*path, row[key]))
        done.add(row[key])
        ordered.append(row)

    for row in rows:
        visit(row)
    return ordered


def policy_rows(settings: Settings) -> list[dict[str, Any]]:
    """The time-limit policy of DOMAIN.md, from the settings' defaults: one row per urgency ×
    appeal type. Contact within 24 hours, or sooner when the whole limit is shorter."""
    completion = {
        Urgency.EMERGENCY: (settings.emergency_limit_hours, LimitUnit.HOURS),
        Urgency.UTILITY: (settings.utility_limit_hours, LimitUnit.HOURS),
        Urgency.ORDINARY: (settings.ordinary_limit_days, LimitUnit.DAYS),
        Urgency.COMPLEX: (settings.complex_limit_days, LimitUnit.DAYS),
    }
    rows = []
    for urgency, (amount, unit) in completion.items():
        hours = amount if unit is LimitUnit.HOURS else amount * 24
        for appeal_type in AppealType:
            rows.append(
                dict(
                    urgency=urgency,
                    appeal_type=appeal_type,
                    contact_limit=min(24, hours),
                    contact_limit_unit=LimitUnit.HOURS,
                    completion_limit=amount,
                    completion_limit_unit=unit,
                    objection_window=settings.objection_window_working_days,
                    objection_window_unit=LimitUnit.WORKING_DAYS,
                    return_visit_window=settings.return_visit_window_working_days,
                    return_visit_window_unit=LimitUnit.WORKING_DAYS,
                )
            )
    return rows


def routing_rows(rules: Iterable[dict[str, Any]], districts: Sequence[str]) -> list[dict[str, Any]]:
    """Expand the YAML rule shapes into table rows (see seed/data/routing.yaml). A rule naming
    one district overrides what a `district_department` rule expands to there."""
    rows: dict[tuple, dict[str, Any]] = {}
    for rule in rules:
        base = dict(category_code=rule["category"], street_code=None, to_local_street=False)
        if rule.get("local_street"):
            row = base | dict(district_code=None, unit_code=None, to_local_street=True)
            rows[(rule["category"], None)] = row
        elif abbr := rule.get("district_department"):
            for d in districts:
                row = base | dict(district_code=d, unit_code=f"{d}-{abbr}")
                rows.setdefault((rule["category"], d), row)
        else:
            row = base | dict(district_code=rule.get("district"), unit_code=rule["unit"])
            rows[(rule["category"], rule.get("district"))] = row
    return list(rows.values())


async def upsert(
    conn: AsyncConnection,
    model: type[SQLModel],
    rows: Sequence[dict[str, Any]],
    conflict: Sequence[str] | None = None,
) -> int:
    """INSERT … ON CONFLICT DO UPDATE, writing only rows that differ. Returns rows written."""
    if not rows:
        return 0
    table = model.__table__  # type: ignore[attr-defined]
    keys = list(conflict or [c.name for c in table.primary_key.columns])
    written = 0
    for chunk_start in range(0, len(rows), 500):
        chunk = rows[chunk_start : chunk_start + 500]
        stmt = insert(table).values(list(chunk))
        columns = [c for c in chunk[0] if c not in keys]
        if columns:
            stmt = stmt.on_conflict_do_update(
                index_elements=keys,
                set_={c: stmt.excluded[c] for c in columns},
                where=sa.tuple_(*(table.c[c] for c in columns)).is_distinct_from(
                    sa.tuple_(*(stmt.excluded[c] for c in columns))
                ),
            )
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=keys)
        result = await conn.execute(stmt.returning(sa.literal(1)))
        written += len(result.all())
    return written


async def load_reference_data(engine: AsyncEngine, settings: Settings | None = None) -> dict[str, int]:
    """Load everything in one transaction. Returns how many rows each table had written."""
    settings = settings or get_settings()
    districts = read("districts")
    units = read("units")
    categories = read("categories")
    counts: dict[str, int] = {}
    async with engine.begin() as conn:
        counts["districts"] = await upsert(conn, District, districts)
        counts["units"] = await upsert(
            conn,
            Unit,
            [
                dict(
                    code=u["code"],
                    name_zh=u["name_zh"],
                    name_en=u["name_en"],
                    kind=UnitKind(u["kind"]),
                    parent_code=u.get("parent"),
                    district_code=u.get("district"),
                    active=u.get("active", True),
                )
                for u in parents_first(units, "code", "parent")
            ],
        )
        counts["categories"] = await upsert(
            conn,
            Category,
            [
                dict(
                    code=c["code"],
                    parent_code=c.get("parent"),
                    name_zh=c["name_zh"],
                    name_en=c["name_en"],
                    theme=c.get("theme"),
                    pain_point=bool(c.get("pain_point", False)),
                    default_urgency=Urgency(c.get("urgency", Urgency.ORDINARY)),
                )
                for c in parents_first(categories, "code", "parent")
            ],
        )
        counts["routing_rules"] = await upsert(
            conn,
            RoutingRule,
            routing_rows(read("routing"), [d["code"] for d in districts]),
            conflict=["category_code", "district_code", "street_code"],
        )
        counts["time_limit_policies"] = await upsert(conn, TimeLimitPolicy, policy_rows(settings))
        counts["calendar_days"] = await upsert(
            conn,
            CalendarDay,
            [
                dict(day=_as_date(e["date"]), kind=e["kind"], name=e["name"])
                for e in read("calendar")
            ],
        )
    return counts


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)

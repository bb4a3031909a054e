"""Parts in PostgreSQL: a unit's inbox of co-handling parts (协办) and whistles (吹哨报到), read
from the `appeal_part` projection, the nearest unmet limit first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import Appeal, AppealPart
from domain.messages import OPEN_PARTS

OPEN = tuple(s.value for s in OPEN_PARTS)


@dataclass(frozen=True)
class PartFilter:
    statuses: tuple[str, ...] = OPEN
    unit: str | None = None
    district: str | None = None  # of the appeal
    kind: str | None = None
    overdue: bool | None = None
    appeal_no: str | None = None


@dataclass(frozen=True)
class PartRow:
    part: AppealPart
    lead_unit: str | None  # the appeal's handling unit
    next_due: datetime | None  # the nearest limit not met yet, while the part is open


def next_due() -> sa.ColumnElement:
    """The limit a part waits on: reporting in while a summoned department has not, then the
    part's own limit; none once the part is done or closed."""
    p = AppealPart.__table__.c
    still_open = p.status.in_(OPEN)
    return sa.case(
        (sa.and_(still_open, p.report_in_due.is_not(None), p.accepted_at.is_(None)), p.report_in_due),
        (still_open, p.due),
        else_=sa.null(),
    )


async def inbox(*, session: AsyncSession, f: PartFilter, limit: int, offset: int) -> tuple[list[PartRow], int]:
    conditions = [col(AppealPart.status).in_(f.statuses)]
    if f.unit:
        conditions.append(AppealPart.unit_code == f.unit)
    if f.district:
        conditions.append(Appeal.district_code == f.district)
    if f.kind:
        conditions.append(AppealPart.kind == f.kind)
    if f.overdue is not None:
        conditions.append(AppealPart.overdue == f.overdue)
    if f.appeal_no:
        conditions.append(AppealPart.appeal_no == f.appeal_no)
    on_appeal = col(Appeal.appeal_no) == col(AppealPart.appeal_no)
    counted = select(func.count()).select_from(AppealPart).join(Appeal, on_appeal).where(*conditions)
    total = (await session.exec(counted)).one()
    due = next_due().label("next_due")
    stmt = (
        select(AppealPart, col(Appeal.handling_unit_code), due)
        .join(Appeal, on_appeal)
        .where(*conditions)
        .order_by(sa.nulls_last(due.asc()), col(AppealPart.requested_at), col(AppealPart.appeal_no),
                  col(AppealPart.kind), col(AppealPart.unit_code))
        .offset(offset)
        .limit(limit)
    )
    rows = await session.exec(stmt)
    return [PartRow(part, lead, when) for part, lead, when in rows.all()], total

"""A database of its own per test module (figures are compared with hand-worked numbers, so no
other test's appeals may be in it), and a way to write projected appeal rows directly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest_asyncio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.migrate import migrate
from db.models import Appeal, AppealEvent, AppealPart
from db.session import make_engine
from domain.messages import (
    AppealStatus,
    AppealView,
    CitizenContacted,
    Outcome,
    PartKind,
    PartStatus,
    PartView,
    Satisfaction,
    part_key,
    part_workflow_id,
)
from domain.types import AppealType, Channel, Urgency
from tests.conftest import settings_for


@pytest_asyncio.fixture(scope="module")
async def own_db(pg_server) -> str:
    url = await pg_server.create_database("jiesu_analytics")
    engine = make_engine(settings_for(url))
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
    return url


@pytest_asyncio.fixture(scope="module")
async def own_engine(own_db) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(settings_for(own_db))
    yield engine
    await engine.dispose()


async def add_appeal(
    conn: AsyncConnection,
    appeal_no: str,
    *,
    unit: str | None,
    category: str,
    district: str | None,
    street: str | None,
    received_at: datetime,
    closed_at: datetime | None = None,
    outcome: str | None = None,
    satisfaction: str | None = None,
    contacted_in_time: bool | None = None,
    citizen_contacted: str | None = None,
    excluded: bool = False,
    status: str | None = None,
    address: str | None = None,
    content: str = "测试诉求",
    latitude: float | None = None,
    longitude: float | None = None,
) -> None:
    """One appeal row as the projection leaves it (only the columns analytics read matter)."""
    values: dict[str, Any] = dict(
        appeal_no=appeal_no,
        workflow_id=f"appeal-{appeal_no}",
        status=status or ("closed" if closed_at else "accepted"),
        channel="phone",
        appeal_type="complaint",
        category_code=category,
        urgency="ordinary",
        district_code=district,
        street_code=street,
        location_address=address,
        latitude=latitude,
        longitude=longitude,
        content=content,
        handling_unit_code=unit,
        received_at=received_at,
        closed_at=closed_at,
        outcome=outcome,
        resolved=(outcome == "resolved") if outcome in ("resolved", "unresolved") else None,
        satisfaction=satisfaction,
        contacted_in_time=contacted_in_time,
        citizen_contacted=citizen_contacted,
        excluded=excluded,
        overdue=False,
        supervised=False,
        rehandle_count=0,
        seq=1,
    )
    # the workflow's view as the projection stores it, so every reader of the row (the appeal
    # list and detail too) sees a consistent appeal
    values["state"] = AppealView(
        appeal_no=appeal_no,
        appeal_type=AppealType.COMPLAINT,
        category=category,
        urgency=Urgency.ORDINARY,
        channel=Channel.PHONE,
        district=district,
        street=street,
        received_at=received_at,
        status=AppealStatus(values["status"]),
        handling_unit=unit,
        units=[unit] if unit else [],
        resolved=values["resolved"],
        satisfaction=Satisfaction(satisfaction) if satisfaction else None,
        citizen_contacted=CitizenContacted(citizen_contacted) if citizen_contacted else None,
        outcome=Outcome(outcome) if outcome else None,
        closed_at=closed_at,
        seq=1,
    ).model_dump(mode="json")
    await conn.execute(sa.insert(Appeal.__table__).values(values))


async def add_part(
    conn: AsyncConnection,
    appeal_no: str,
    unit: str,
    *,
    requested_at: datetime,
    due: datetime,
    report_in_due: datetime | None = None,
    status: str = "requested",
    accepted_at: datetime | None = None,
    done_at: datetime | None = None,
    rating: int | None = None,
    kind: str = "whistle",
    in_state: bool = True,
) -> None:
    """One part of an appeal as the projection leaves it: the `appeal_part` row, and (unless
    `in_state` is false) the part in the appeal's stored view, where its report-in limit is."""
    part = PartView(
        kind=PartKind(kind), unit=unit, workflow_id=part_workflow_id(appeal_no, kind, unit), task="测试任务",
        status=PartStatus(status), requested_at=requested_at, due=due, report_in_due=report_in_due,
        accepted_at=accepted_at, done_at=done_at, rating=rating,
    )
    row = part.model_dump(include={"kind", "workflow_id", "task", "status", "requested_at", "due", "accepted_at",
                                   "done_at", "overdue", "rating"})
    await conn.execute(sa.insert(AppealPart.__table__).values(row | {"appeal_no": appeal_no, "unit_code": unit}))
    if in_state:
        await conn.execute(
            sa.text("UPDATE appeal SET state = jsonb_set(state, ARRAY['parts', :key], CAST(:part AS jsonb)) "
                    "WHERE appeal_no = :no"),
            {"key": part_key(kind, unit), "part": part.model_dump_json(), "no": appeal_no},
        )


async def add_event(
    conn: AsyncConnection, appeal_no: str, seq: int, kind: str, *, unit: str | None, detail: dict, at: datetime
) -> None:
    """One timeline event, as the projection writes it."""
    await conn.execute(sa.insert(AppealEvent.__table__).values(
        idem_key=f"{appeal_no}:{seq}", appeal_no=appeal_no, seq=seq, kind=kind, unit_code=unit, detail=detail,
        occurred_at=at,
    ))

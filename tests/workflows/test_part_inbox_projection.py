"""What a unit's inbox reads is projected: a whistle's report-in limit, a missed limit and the
round reach `appeal_part`, and the inbox (`db.parts`, as GET /parts shows it) puts a department
that missed reporting in first, saying so. On the time-skipping server."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from api.routes.inbox import present
from db import parts as store
from db.reference import DirectoryCache
from db.session import session_factory
from domain import collaboration as more
from domain.messages import PartAcceptInput, PartKind
from tests.workflows.conftest import staff
from tests.workflows.test_many_hands import YAYUNCUN, accepted_by, part_handle
from workflows.appeal import AppealWorkflow
from workflows.cohandling import CoHandlingWorkflow

ON_TIME, LATE = "110105-CGW", "110105-ZJW"


async def inbox_of(engine, appeal_no):
    async with session_factory(engine)() as session:
        rows, _ = await store.inbox(session=session, f=store.PartFilter(appeal_no=appeal_no), limit=10, offset=0)
    directory = await DirectoryCache(engine).get()
    return [present(r, directory) for r in rows]


async def eventually(check, timeout=10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := await check()):
        assert asyncio.get_running_loop().time() < deadline, "condition not met"
        await asyncio.sleep(0.1)
    return result


async def test_a_department_that_missed_reporting_in_comes_first_and_is_shown_missed(run, ts_env, engine):
    handle = await accepted_by(run, YAYUNCUN, category="MUNI.DEADENDROAD", street=YAYUNCUN, district="110105")
    await handle.execute_update(
        AppealWorkflow.request_parts,
        more.PartsRequestInput(actor=staff(YAYUNCUN), kind=PartKind.WHISTLE, units=[ON_TIME, LATE],
                               task="open the road", limit_working_days=10, report_in_hours=24),
    )
    no = handle.id.removeprefix("appeal-")
    await part_handle(run, handle, PartKind.WHISTLE, ON_TIME).execute_update(
        CoHandlingWorkflow.accept, PartAcceptInput(actor=staff(ON_TIME), plan="permits"))
    await ts_env.sleep(timedelta(hours=25))

    async def late_is_missed():
        parts = await inbox_of(engine, no)
        return parts if parts and parts[0].limits["report_in"].state == "missed" else None

    late, on_time = await eventually(late_is_missed)
    assert (late.unit.code, late.overdue, late.next_due) == (LATE, True, late.limits["report_in"].due)
    assert late.actions == {"report-in": f"/appeals/{no}/whistle/{LATE}/report-in",
                            "decline": f"/appeals/{no}/whistle/{LATE}/decline"}
    assert on_time.unit.code == ON_TIME and on_time.limits["report_in"].state == "met_in_time"
    assert on_time.next_due == on_time.limits["done"].due and not on_time.overdue
    # reported in late: met, but the limit stays missed
    await part_handle(run, handle, PartKind.WHISTLE, LATE).execute_update(
        CoHandlingWorkflow.accept, PartAcceptInput(actor=staff(LATE), plan="late, but here"))

    async def reported_in():
        parts = {p.unit.code: p for p in await inbox_of(engine, no)}
        return parts if parts[LATE].limits["report_in"].met_at is not None else None

    parts = await eventually(reported_in)
    assert parts[LATE].limits["report_in"].state == "missed" and parts[LATE].next_due == parts[LATE].limits["done"].due


async def test_a_unit_asked_again_shows_its_round(run, engine):
    handle = await accepted_by(run, "BJ-LIGHTING")
    ask = more.PartsRequestInput(actor=staff("BJ-LIGHTING"), units=["BJ-POWER"], task="power")
    await handle.execute_update(AppealWorkflow.request_parts, ask)
    await handle.execute_update(
        AppealWorkflow.close_part, more.PartCloseRequestInput(actor=staff("BJ-LIGHTING"), unit="BJ-POWER", reason="wrong")
    )
    await handle.execute_update(AppealWorkflow.request_parts, ask)
    (part,) = await eventually(lambda: inbox_of(engine, handle.id.removeprefix("appeal-")))
    assert (part.unit.code, part.round, part.kind) == ("BJ-POWER", 2, PartKind.CO_HANDLING)
    assert "report_in" not in part.limits and part.limits["done"].state == "running"

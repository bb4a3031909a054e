"""An administrator's Request Cancellation in the Temporal UI (or `temporal workflow cancel`) on
the real dev server: the appeal, a part or a governance task closes as any close does — row,
timeline, parts, schedule — instead of ending with PostgreSQL still saying "dispatched"."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError

from domain import collaboration as more
from domain.governance import TaskStatus, schedule_id
from domain.messages import AppealStatus, Outcome, PartKind, PartStatus
from tests.workflows.conftest import staff, until
from tests.workflows.test_governance import _schedule_gone, dev_gov, rows, task_id  # noqa: F401 (fixture)
from tests.workflows.test_governance import until as until_task
from tests.workflows.test_many_hands import accepted_by, part_handle
from tests.workflows.test_parts_dev_server import dev_run  # noqa: F401 (fixture)
from workflows.appeal import AppealWorkflow


async def appeal_rows(engine, appeal_no: str) -> tuple[dict, list[dict], list[dict]]:
    async with engine.connect() as conn:
        row = (await conn.execute(sa.text("SELECT * FROM appeal WHERE appeal_no = :n"), {"n": appeal_no})).mappings().one()
        events = (
            await conn.execute(sa.text("SELECT * FROM appeal_event WHERE appeal_no = :n ORDER BY seq"), {"n": appeal_no})
        ).mappings().all()
        parts = (
            await conn.execute(sa.text("SELECT * FROM appeal_part WHERE appeal_no = :n"), {"n": appeal_no})
        ).mappings().all()
    return dict(row), [dict(e) for e in events], [dict(p) for p in parts]


async def ended(handle) -> WorkflowExecutionStatus:
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    return (await handle.describe()).status


async def test_cancelling_an_appeal_closes_it_with_its_parts(dev_run, engine):
    handle = await accepted_by(dev_run, "BJ-LIGHTING")
    await handle.execute_update(
        AppealWorkflow.request_parts, more.PartsRequestInput(actor=staff("BJ-LIGHTING"), units=["BJ-POWER"], task="t")
    )
    await handle.cancel(reason="entered twice by mistake")
    assert await ended(handle) is WorkflowExecutionStatus.CANCELED

    no = handle.id.removeprefix("appeal-")
    row, events, parts = await appeal_rows(engine, no)
    assert (row["status"], row["outcome"]) == ("closed", Outcome.CANCELLED_BY_ADMINISTRATOR.value)
    assert row["closed_at"] is not None
    cancelled = next(e for e in events if e["kind"] == "cancelled")
    assert cancelled["detail"] == {"by": more.BY_TEMPORAL, "reason": "entered twice by mistake"}
    assert [e["kind"] for e in events][-3:] == ["part_closed", "cancelled", "closed"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))  # no gap, no duplicate
    assert [(p["unit_code"], p["status"]) for p in parts] == [("BJ-POWER", PartStatus.CLOSED.value)]
    part = part_handle(dev_run, handle, PartKind.CO_HANDLING, "BJ-POWER")
    for _ in range(100):  # the parent-close policy cancels the part's workflow too
        if (await part.describe()).status is WorkflowExecutionStatus.CANCELED:
            break
        await asyncio.sleep(0.1)
    assert (await part.describe()).status is WorkflowExecutionStatus.CANCELED


async def test_cancelling_an_appeal_without_a_reason_says_an_administrator_did(dev_run, engine):
    handle = await dev_run.start(unit="BJ-LIGHTING")
    await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    await handle.cancel()
    await ended(handle)
    row, events, _ = await appeal_rows(engine, handle.id.removeprefix("appeal-"))
    assert row["status"] == "closed"
    assert events[-2]["kind"] == "cancelled"
    assert events[-2]["detail"] == {"by": more.BY_TEMPORAL, "reason": None}


async def test_cancelling_a_part_tells_its_appeal_it_closed(dev_run, engine):
    handle = await accepted_by(dev_run, "BJ-LIGHTING")
    await handle.execute_update(
        AppealWorkflow.request_parts, more.PartsRequestInput(actor=staff("BJ-LIGHTING"), units=["BJ-POWER"], task="t")
    )
    part = part_handle(dev_run, handle, PartKind.CO_HANDLING, "BJ-POWER")
    await part.cancel(reason="asked of the wrong unit")
    assert await ended(part) is WorkflowExecutionStatus.CANCELED
    view = await until(handle, lambda v: v.parts["co_handling:BJ-POWER"].status is PartStatus.CLOSED)
    assert view.parts["co_handling:BJ-POWER"].closed_reason == "cancelled by an administrator: asked of the wrong unit"
    assert view.status is AppealStatus.CONTACTED  # the appeal goes on; the lead may ask again
    _, events, parts = await appeal_rows(engine, handle.id.removeprefix("appeal-"))
    assert events[-1]["kind"] == "part_closed"
    assert events[-1]["detail"]["by"] == "an administrator (Temporal)"
    assert parts[0]["status"] == "closed"


async def test_cancelling_a_governance_task_ends_it_and_its_schedule(dev_gov):
    handle = await dev_gov.task()
    sid = schedule_id(task_id(handle))
    await until_task(handle, lambda v: True)
    for _ in range(100):  # the task's first activity creates the schedule
        if not await _schedule_gone(dev_gov.client, sid):
            break
        await asyncio.sleep(0.1)
    await handle.cancel(reason="opened for the wrong place")
    assert await ended(handle) is WorkflowExecutionStatus.CANCELED
    row, _ = await rows(dev_gov.engine, task_id(handle))
    assert (row["status"], row["closed_by"]) == (TaskStatus.CANCELLED.value, "administrator (Temporal)")
    assert row["close_reason"] == "cancelled by an administrator: opened for the wrong place"
    assert await _schedule_gone(dev_gov.client, sid)

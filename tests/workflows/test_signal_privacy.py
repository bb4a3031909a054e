"""Messages that did not come through the API carry text nobody scrubbed: a signal sent with the
Temporal CLI or UI, an update from the CLI. Free text in them holding a phone or ID number is
refused, a signal's on the timeline as `rejected` with a reason that does not quote it, an
update's by its validator before anything is written."""

from __future__ import annotations

import asyncio
import json

import pytest
import sqlalchemy as sa
from temporalio.client import WorkflowUpdateFailedError

from domain import collaboration as more
from domain.messages import (
    AppealAcceptInput,
    AppealStatus,
    ContactRecordInput,
    PartAcceptInput,
    PartKind,
    PartPhasedReportInput,
    PhasedReportInput,
    part_workflow_id,
)
from tests.workflows.conftest import staff, until
from tests.workflows.test_appeal import history_text
from workflows.appeal import AppealWorkflow
from workflows.cohandling import CoHandlingWorkflow

LIGHTING = "BJ-LIGHTING"
TYPED = "已联系居民，电话１３９ 1234 5678，明日上门"
TRACES = ("１３９", "1234 5678", "13912345678")


async def recorded(engine, appeal_no: str) -> tuple[list[tuple[str, dict]], str]:
    """The appeal's timeline (kind, detail) and, as text, every notification payload."""
    async with engine.connect() as conn:
        events = await conn.execute(
            sa.text("SELECT kind, detail FROM appeal_event WHERE appeal_no = :n ORDER BY seq"), {"n": appeal_no}
        )
        payloads = await conn.execute(
            sa.text("SELECT payload FROM notification_outbox WHERE appeal_no = :n"), {"n": appeal_no}
        )
        return [(k, d) for k, d in events], json.dumps([p for (p,) in payloads], ensure_ascii=False)


async def until_recorded(engine, appeal_no: str, kind: str) -> list[tuple[str, dict]]:
    """The timeline once an event of `kind` is on it (the projection follows the workflow)."""
    for _ in range(200):
        timeline, _ = await recorded(engine, appeal_no)
        if any(k == kind for k, _ in timeline):
            return timeline
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {kind} event: {timeline}")


SIGNALED = "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED"


async def history_split(handle) -> tuple[str, str]:
    """The workflow's history as text (payloads decoded): the signals received, and all else."""
    signals, rest = [], []
    for event in json.loads((await handle.fetch_history()).to_json())["events"]:
        (signals if event["eventType"] == SIGNALED else rest).append(history_text(event))
    return "\n".join(signals), "\n".join(rest)


async def accepted(run):
    handle = await run.start()
    await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    await handle.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=staff(LIGHTING)))
    return handle


async def test_a_signal_with_a_phone_in_its_text_is_refused_and_a_clean_one_applied(run, engine):
    handle = await accepted(run)
    for progress in (TYPED, "已更换 3 盏"):
        await handle.signal(AppealWorkflow.phased_report_signal, PhasedReportInput(actor=staff(LIGHTING), progress=progress))
    no = handle.id.removeprefix("appeal-")
    await until_recorded(engine, no, "phased_report")

    timeline, notices = await recorded(engine, no)
    kinds = [k for k, _ in timeline]
    assert kinds[-2:] == ["rejected", "phased_report"]
    rejected, reported = timeline[-2][1], timeline[-1][1]
    assert rejected["action"] == "phased_report" and rejected["reason"].startswith("progress: ")
    assert "phone or ID number" in rejected["reason"]
    assert reported["progress"] == "已更换 3 盏"
    for trace in TRACES:
        assert trace not in json.dumps(timeline, ensure_ascii=False) and trace not in notices

    # Temporal keeps a signal's input as sent (the WorkflowExecutionSignaled event, written
    # before any workflow code runs); the workflow copies it nowhere: not into the projection,
    # the notifications or the search attributes.
    signals, elsewhere = await history_split(handle)
    assert TYPED in signals
    assert "MUNI.STREETLIGHT" in elsewhere  # the scan reads payloads (base64 in the JSON)
    for trace in TRACES:
        assert trace not in elsewhere


async def test_an_update_with_an_id_number_in_its_text_is_refused_before_it_is_written(run, engine):
    handle = await accepted(run)
    note = "居民身份证 110101 19900307 123X，已电话联系"
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await handle.execute_update(
            AppealWorkflow.record_contact, ContactRecordInput(actor=staff(LIGHTING), note=note)
        )
    assert e.value.cause.details[0]["code"] == "invalid"
    assert e.value.cause.message.startswith("note: ") and "123X" not in e.value.cause.message
    await handle.execute_update(AppealWorkflow.record_contact, ContactRecordInput(actor=staff(LIGHTING), note="已电话联系"))

    history = "\n".join(await history_split(handle))
    assert "已电话联系" in history
    assert "19900307" not in history  # not even the update's input


async def test_a_parts_signal_with_a_phone_is_refused_on_the_appeals_timeline(run, engine):
    lead, unit = "110105-CGW", LIGHTING
    handle = await run.start(unit=lead, category="MUNI.ROAD", street="110105-YAYUNCUN", district="110105")
    await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    await handle.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=staff(lead)))
    await handle.execute_update(AppealWorkflow.record_contact, ContactRecordInput(actor=staff(lead)))
    await handle.execute_update(
        AppealWorkflow.request_parts, more.PartsRequestInput(actor=staff(lead), units=[unit], task="lamps along the road")
    )
    no = handle.id.removeprefix("appeal-")
    part_id = part_workflow_id(no, PartKind.CO_HANDLING, unit)
    part = run.client.get_workflow_handle_for(CoHandlingWorkflow.run, part_id)
    await until(part, lambda p: p is not None, query=CoHandlingWorkflow.state)
    await part.execute_update(CoHandlingWorkflow.accept, PartAcceptInput(actor=staff(unit), plan="check the lamps"))
    await part.signal(
        CoHandlingWorkflow.phased_report_signal, PartPhasedReportInput(actor=staff(unit), progress=TYPED)
    )

    timeline = await until_recorded(engine, no, "rejected")
    _, notices = await recorded(engine, no)
    rejected = [d for k, d in timeline if k == "rejected"]
    assert len(rejected) == 1 and rejected[0]["action"] == "part phased_report", timeline
    assert rejected[0]["reason"].startswith("progress: ")
    for trace in TRACES:
        assert trace not in json.dumps(timeline, ensure_ascii=False) and trace not in notices
    _, elsewhere = await history_split(part)
    for trace in TRACES:
        assert trace not in elsewhere

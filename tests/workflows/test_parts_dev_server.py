"""Parts and their appeal on the real dev server, where the parent-close policy is honoured (the
time-skipping server does not honour it): closing an appeal cancels its open parts; a part whose
workflow dies never leaves the appeal stuck; parts survive a worker restart."""

from __future__ import annotations

import asyncio
import uuid

import pytest_asyncio

from domain import collaboration as more
from domain.messages import AppealCompleteInput, AppealStatus, PartAcceptInput, PartKind, PartReportInput, PartStatus
from tests.workflows.conftest import OPERATOR, AppealRun, staff, until
from tests.workflows.test_many_hands import accepted_by, part_handle
from worker import build_worker
from workflows.appeal import AppealWorkflow
from workflows.cohandling import CoHandlingWorkflow


@pytest_asyncio.fixture
async def dev_run(dev_env, engine, settings):
    queue = f"dev-{uuid.uuid4().hex[:8]}"
    async with build_worker(dev_env.client, engine, task_queue=queue, settings=settings):
        yield AppealRun(dev_env.client, engine, queue)


async def status_of(run, handle, unit) -> str:
    desc = await part_handle(run, handle, PartKind.CO_HANDLING, unit).describe()
    return desc.status.name


async def test_closing_the_appeal_cancels_its_open_parts(dev_run):
    handle = await accepted_by(dev_run, "BJ-LIGHTING")
    await handle.execute_update(
        AppealWorkflow.request_parts,
        more.PartsRequestInput(actor=staff("BJ-LIGHTING"), units=["BJ-POWER", "110101-CGW"], task="t"),
    )
    done = part_handle(dev_run, handle, PartKind.CO_HANDLING, "110101-CGW")
    await done.execute_update(CoHandlingWorkflow.accept, PartAcceptInput(actor=staff("110101-CGW")))
    await done.execute_update(CoHandlingWorkflow.report, PartReportInput(actor=staff("110101-CGW"), result="ok"))
    await handle.execute_update(AppealWorkflow.transfer_out, more.TransferOutInput(actor=OPERATOR, hotline="tianjin", reason="r"))
    await handle.result()
    for _ in range(100):
        if await status_of(dev_run, handle, "BJ-POWER") == "CANCELED":
            break
        await asyncio.sleep(0.1)
    assert await status_of(dev_run, handle, "BJ-POWER") == "CANCELED"  # REQUEST_CANCEL: parts never outlive the appeal
    assert await status_of(dev_run, handle, "110101-CGW") == "COMPLETED"


async def test_a_part_whose_workflow_dies_never_leaves_the_appeal_stuck(dev_run, engine):
    handle = await accepted_by(dev_run, "BJ-LIGHTING")
    await handle.execute_update(
        AppealWorkflow.request_parts, more.PartsRequestInput(actor=staff("BJ-LIGHTING"), units=["BJ-POWER"], task="power")
    )
    await part_handle(dev_run, handle, PartKind.CO_HANDLING, "BJ-POWER").terminate("stopped by an administrator")
    await until(handle, lambda v: v.parts["co_handling:BJ-POWER"].status is PartStatus.FAILED)
    await handle.execute_update(
        AppealWorkflow.close_part,
        more.PartCloseRequestInput(actor=staff("BJ-LIGHTING"), unit="BJ-POWER", reason="its workflow was stopped"),
    )
    view = await handle.execute_update(AppealWorkflow.complete, AppealCompleteInput(actor=staff("BJ-LIGHTING"), result="ok"))
    assert view.status is AppealStatus.AWAITING_EVALUATION


async def test_parts_survive_a_worker_restart(dev_env, engine, settings):
    queue = f"dev-{uuid.uuid4().hex[:8]}"
    run = AppealRun(dev_env.client, engine, queue)
    async with build_worker(dev_env.client, engine, task_queue=queue, settings=settings):
        handle = await accepted_by(run, "BJ-LIGHTING")
        await handle.execute_update(
            AppealWorkflow.request_parts, more.PartsRequestInput(actor=staff("BJ-LIGHTING"), units=["BJ-POWER"], task="t")
        )
    # the worker is gone; a new one picks up both the appeal and its part
    async with build_worker(dev_env.client, engine, task_queue=queue, settings=settings):
        part = part_handle(run, handle, PartKind.CO_HANDLING, "BJ-POWER")
        await part.execute_update(CoHandlingWorkflow.accept, PartAcceptInput(actor=staff("BJ-POWER")))
        await part.execute_update(CoHandlingWorkflow.report, PartReportInput(actor=staff("BJ-POWER"), result="power back"))
        view = await until(handle, lambda v: v.parts["co_handling:BJ-POWER"].status is PartStatus.DONE)
        assert view.status is AppealStatus.CONTACTED
        await handle.terminate("test finished")

"""Running appeal workflows on the time-skipping server against the real (test) PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from db import appeals as store
from domain.messages import Actor, AppealInput, AppealView, IntakeDecision
from domain.types import AppealType, Channel, Role, Urgency
from infra.appeals import start_appeal_workflow, workflow_id
from worker import build_worker
from workflows.appeal import AppealWorkflow

OPERATOR = Actor(user="op-wang", role=Role.OPERATOR)
PHONE = "13812345678"
NAME = "刘先生"
ADDRESS = "方家胡同 12 号"


def staff(unit: str, user: str = "staff") -> Actor:
    return Actor(user=user, role=Role.UNIT_STAFF, unit=unit)


async def record_intake(engine: AsyncEngine, **overrides) -> AppealInput:
    """Record an intake the way the API does (row + citizen contact); return the workflow input."""
    received_at = datetime.now(UTC)
    fields = dict(
        channel=Channel.PHONE,
        appeal_type=AppealType.COMPLAINT,
        category="MUNI.STREETLIGHT",
        urgency=Urgency.ORDINARY,
        district="110101",
        street="110101-ANDINGMEN",
        received_at=received_at,
        decision=IntakeDecision.DISPATCH,
        operator=OPERATOR,
    ) | overrides
    row, _ = await store.record_intake(
        engine=engine,
        build_input=lambda no: AppealInput(appeal_no=no, **fields),
        details=store.IntakeDetails(
            content="胡同路灯昏暗，晚上看不清路",
            location_address=ADDRESS,
            latitude=39.95,
            longitude=116.41,
            attachments=[],
            contact=store.ContactDetails(name=NAME, phone=PHONE, address=ADDRESS),
        ),
        received_at=received_at,
        idempotency_key=uuid.uuid4().hex,
        request_fingerprint="test",
    )
    return store.intake_input(row)


@dataclass
class AppealRun:
    """Intake + workflow of one appeal, the way the API does it."""

    client: Client
    engine: AsyncEngine
    task_queue: str
    handles: list[WorkflowHandle] = field(default_factory=list)

    async def start(self, **overrides) -> WorkflowHandle:
        inp = await record_intake(self.engine, **overrides)
        handle = await start_appeal_workflow(self.client, self.task_queue, inp)
        self.handles.append(handle)
        await until(handle, lambda v: v is not None and v.seq > 0)
        return handle


async def until(
    handle: WorkflowHandle, predicate: Callable[[AppealView | None], bool], timeout: float = 10, query=None
) -> AppealView:
    """Query the workflow until the predicate holds (timers fire asynchronously)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        view = await handle.query(query or AppealWorkflow.state)
        if predicate(view):
            return view
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met; last state: {view}")
        await asyncio.sleep(0.05)


async def search_attributes(handle: WorkflowHandle) -> dict:
    """The workflow's search attributes as stored. (The time-skipping server keeps an unset
    Datetime as a null the SDK's describe() cannot parse, so this reads the raw answer.)"""
    from temporalio.api.common.v1 import WorkflowExecution
    from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
    from temporalio.converter import PayloadConverter

    client = handle._client
    raw = await client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(namespace=client.namespace, execution=WorkflowExecution(workflow_id=handle.id))
    )
    fields = raw.workflow_execution_info.search_attributes.indexed_fields
    converter = PayloadConverter.default
    return {k: converter.from_payloads([v])[0] for k, v in fields.items()}


@pytest_asyncio.fixture
async def run(ts_env, engine, settings, task_queue) -> AsyncIterator[AppealRun]:
    async with build_worker(ts_env.client, engine, task_queue=task_queue, settings=settings):
        appeal_run = AppealRun(ts_env.client, engine, task_queue)
        yield appeal_run
        # the shared time-skipping server cannot skip time while a workflow without a worker
        # waits for its task: end what this test left running
        for handle in appeal_run.handles:
            try:  # parts first: the time-skipping server does not honour the parent-close policy
                view = await handle.query(AppealWorkflow.state)
                ids = [p.workflow_id for p in view.parts.values()] if view else []
            except RPCError:
                ids = []
            for workflow_id in [*ids, handle.id]:
                try:
                    await appeal_run.client.get_workflow_handle(workflow_id).terminate("test finished")
                except RPCError:
                    pass  # already closed


__all__ = ["OPERATOR", "staff", "until", "workflow_id"]

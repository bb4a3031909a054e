"""Starting appeal workflows (client side): from the intake route, and from the reconciler that
starts the ones whose start was lost (a crash between the database write and the start)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from db import appeals as store
from domain import display
from domain.messages import AppealInput, AppealStatus, AppealView
from workflows import search_attributes as sa
from workflows.appeal import AppealWorkflow

log = logging.getLogger("jiesu.intake")


def workflow_id(appeal_no: str) -> str:
    return f"appeal-{appeal_no}"


def _start_options(task_queue: str, inp: AppealInput) -> dict:
    """How an appeal's workflow starts: once (a second start reaches the running one,
    USE_EXISTING, and a closed one is never started again, REJECT_DUPLICATE), with the search
    attributes and the summary administrators see in the Temporal UI: category, unit and place
    by their Chinese names where the intake knew them (codes otherwise), see `domain.display`."""
    attrs = [
        SearchAttributePair(sa.APPEAL_STATUS, AppealStatus.RECEIVED.value),
        SearchAttributePair(sa.CATEGORY, inp.category),
        SearchAttributePair(sa.APPEAL_TYPE, inp.appeal_type.value),
        SearchAttributePair(sa.URGENCY, inp.urgency.value),
        SearchAttributePair(sa.OVERDUE, False),
        SearchAttributePair(sa.IN_STATUS_SINCE, inp.received_at),
    ]
    attrs += [SearchAttributePair(sa.DISTRICT, inp.district)] if inp.district else []
    attrs += [SearchAttributePair(sa.STREET, inp.street)] if inp.street else []
    return dict(
        id=workflow_id(inp.appeal_no),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        search_attributes=TypedSearchAttributes(attrs),
        static_summary=display.intake_summary(inp),
        static_details=display.intake_details(inp),
    )


async def start_appeal_workflow(client: Client, task_queue: str, inp: AppealInput) -> WorkflowHandle | None:
    """Start the appeal's workflow. Returns None if it has already run to its end."""
    try:
        return await client.start_workflow(AppealWorkflow.run, inp, **_start_options(task_queue, inp))
    except WorkflowAlreadyStartedError:
        return None


async def start_appeal_with_view(
    client: Client, task_queue: str, inp: AppealInput, *, rpc_timeout: timedelta = timedelta(seconds=10)
) -> AppealView | None:
    """Start the appeal's workflow and get back, in the same call, where intake left the order.
    Returns None if it has already run to its end."""
    operation = WithStartWorkflowOperation(AppealWorkflow.run, inp, **_start_options(task_queue, inp))
    try:
        return await client.execute_update_with_start_workflow(
            AppealWorkflow.intake_view, start_workflow_operation=operation, rpc_timeout=rpc_timeout
        )
    except WorkflowAlreadyStartedError:
        return None
    finally:
        _read_start_failure(operation)


def _read_start_failure(operation: WithStartWorkflowOperation) -> None:
    """When the start fails, the SDK also sets that error on the operation's own future (what
    `operation.workflow_handle()` would return). Nobody awaits it here: read it, or asyncio
    logs "Future exception was never retrieved" when the future is collected."""
    handle = operation._workflow_handle  # the SDK offers no other way to look without waiting
    if handle.done() and not handle.cancelled():
        handle.exception()


async def resume_unstarted(engine: AsyncEngine, client: Client, task_queue: str, *, grace: timedelta) -> list[str]:
    """Start the workflows of intakes recorded more than `grace` ago that never projected
    anything. Safe to run anywhere, any number of times. Returns the appeal numbers started."""
    started = []
    for row in await store.unstarted(engine=engine, older_than=datetime.now(UTC) - grace):
        inp = store.intake_input(row)
        if inp is None:
            continue
        if await start_appeal_workflow(client, task_queue, inp) is not None:
            started.append(row.appeal_no)
    if started:
        log.warning("started %d appeal workflows whose start had been lost: %s", len(started), started)
    return started

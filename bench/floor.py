"""The bare Temporal floor: a workflow that does nothing but take the same messages an appeal
takes, with no database and no HTTP. An appeal is started together with its first update (the
intake's view, `execute_update_with_start_workflow`) and then takes four more (accept, contact,
complete, evaluation); the floor does the same. `python -m bench.floor` runs its worker."""

from __future__ import annotations

import asyncio
import signal
import uuid

from temporalio import workflow
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

TASK_QUEUE = "bench-floor"
STEPS = ("intake", "accept", "contact", "complete", "evaluate")


@workflow.defn
class FloorWorkflow:
    def __init__(self) -> None:
        self.done: list[str] = []

    @workflow.run
    async def run(self) -> list[str]:
        await workflow.wait_condition(lambda: len(self.done) == len(STEPS))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.done

    @workflow.update
    async def step(self, name: str) -> int:
        self.done.append(name)
        return len(self.done)

    @step.validator
    def _v_step(self, name: str) -> None:
        if name not in STEPS or name in self.done:
            raise ValueError(f"unexpected step {name}")


async def drive(client: Client, task_queue: str = TASK_QUEUE) -> str:
    """One floor workflow taken through its messages, as the benchmark sends an appeal's:
    started with the first update, then the rest one by one. Returns its workflow id."""
    start = WithStartWorkflowOperation(
        FloorWorkflow.run,
        id=f"floor-{uuid.uuid4().hex}",
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    await client.execute_update_with_start_workflow(FloorWorkflow.step, STEPS[0], start_workflow_operation=start)
    handle = await start.workflow_handle()
    for step in STEPS[1:]:
        await handle.execute_update(FloorWorkflow.step, step)
    return handle.id


async def main() -> None:
    from infra.temporal import connect

    client = await connect()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Worker(client, task_queue=TASK_QUEUE, workflows=[FloorWorkflow]):
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())

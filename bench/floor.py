"""The bare Temporal floor: a workflow that does nothing but take the same messages an appeal
takes (a start and four updates), with no database and no HTTP. `python -m bench.floor` runs its
worker."""

from __future__ import annotations

import asyncio
import signal

from temporalio import workflow
from temporalio.worker import Worker

TASK_QUEUE = "bench-floor"
STEPS = ("accept", "contact", "complete", "evaluate")


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

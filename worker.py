"""The Temporal worker: `python worker.py`. Runs every workflow and activity of jiesu on the
settings' task queue until SIGINT/SIGTERM, then drains and exits."""

from __future__ import annotations

import asyncio
import logging
import signal

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.health import HealthActivities
from db.session import make_engine
from infra.temporal import connect
from settings import Settings, get_settings
from workflows.health import HealthCheckWorkflow

WORKFLOWS = [HealthCheckWorkflow]


def activities_for(engine: AsyncEngine) -> list:
    health = HealthActivities(engine)
    return [health.check_database]


def build_worker(client: Client, engine: AsyncEngine, *, task_queue: str) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=activities_for(engine),
    )


async def run(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    engine = make_engine(settings)
    client = await connect(settings)
    worker = build_worker(client, engine, task_queue=settings.temporal_task_queue)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    logging.info("worker polling task queue %r", settings.temporal_task_queue)
    async with worker:
        await stop.wait()
    await engine.dispose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    asyncio.run(run())

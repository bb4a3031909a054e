"""The Temporal worker: `python worker.py`. Runs every workflow and activity of jiesu on the
settings' task queue until SIGINT/SIGTERM, then drains and exits."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from prometheus_client import start_http_server
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.appeals import AppealActivities
from activities.assessment import AssessmentActivities
from activities.governance import GovernanceActivities
from activities.health import HealthActivities
from db.session import make_engine
from infra import logging as logs
from infra import tracing
from infra.appeals import resume_unstarted
from infra.governance import resume_unstarted_tasks
from infra.metrics import RECONCILE_ROUNDS
from infra.orphans import record_ended_workflows
from infra.sandbox import SandboxRunner
from infra.schedules import ensure_schedules
from infra.temporal import connect
from notify.relay import run_relay
from notify.senders import sender_from_settings
from settings import Settings, get_settings
from workflows.analysis import MonthlyAnalysisWorkflow
from workflows.appeal import AppealWorkflow
from workflows.cohandling import CoHandlingWorkflow
from workflows.governance import GovernanceInspectionWorkflow, GovernanceTaskWorkflow
from workflows.health import HealthCheckWorkflow

WORKFLOWS = [
    AppealWorkflow,
    CoHandlingWorkflow,
    HealthCheckWorkflow,
    GovernanceTaskWorkflow,
    GovernanceInspectionWorkflow,
    MonthlyAnalysisWorkflow,
]

#: How long an intake may sit without its workflow before the reconciler starts it: longer than
#: the intake's own attempt (its 10 s wait, or its retries against a Temporal going down).
INTAKE_GRACE = timedelta(seconds=30)
#: How often the reconciler looks, and how soon it looks again after a round failed (PostgreSQL
#: or Temporal away). A lost start is made within GRACE + EVERY = 45 s, and once both answer
#: again within RETRY = 5 s: "within a minute", as docs/appeal-life.md says.
RECONCILE_EVERY = timedelta(seconds=15)
RECONCILE_RETRY = timedelta(seconds=5)

#: One round's step: (engine, client, task queue, grace=) -> what it started
Resume = Callable[..., Awaitable[list]]


def activities_for(engine: AsyncEngine, settings: Settings) -> list:
    health = HealthActivities(engine)
    appeals = AppealActivities(engine, settings)
    governance = GovernanceActivities(engine, settings)
    assessment = AssessmentActivities(engine, settings)
    return [
        health.check_database, appeals.load_terms, appeals.route_appeal, appeals.project_appeal,
        appeals.record_timeline,
        governance.check_place, governance.project_task, governance.schedule_inspections,
        governance.remove_inspection_schedule, governance.propose_themes, assessment.freeze_month,
    ]


def build_worker(
    client: Client, engine: AsyncEngine, *, task_queue: str, settings: Settings | None = None
) -> Worker:
    settings = settings or get_settings()
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=activities_for(engine, settings),
        workflow_runner=SandboxRunner() if settings.workflow_sandbox else UnsandboxedWorkflowRunner(),
        max_concurrent_workflow_tasks=settings.worker_workflow_task_slots,
    )


async def flag_ended_workflows(engine: AsyncEngine, client: Client, task_queue: str, *, grace: timedelta) -> list:
    """A round's third step: open appeals whose workflow ended without closing them."""
    return await record_ended_workflows(engine, client)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


async def reconcile_intakes(
    engine: AsyncEngine,
    client: Client,
    task_queue: str,
    stop: asyncio.Event,
    *,
    steps: Sequence[Resume] = (resume_unstarted, resume_unstarted_tasks, flag_ended_workflows),
    pause: Callable[[asyncio.Event, float], Awaitable[None]] = _pause,
) -> None:
    """Every RECONCILE_EVERY, start the workflows of intakes (and governance tasks) whose start
    was lost, and flag the open appeals whose workflow ended (terminated, failed) for
    supervisors; after a failed round, try again in RECONCILE_RETRY. (`steps` and `pause` are the
    rounds' work and their wait, replaced in tests.)"""
    while not stop.is_set():
        wait = RECONCILE_EVERY
        try:
            for resume in steps:
                await resume(engine, client, task_queue, grace=INTAKE_GRACE)
            RECONCILE_ROUNDS.labels("ok").inc()
        except Exception:  # PostgreSQL or Temporal away for a moment: look again soon
            RECONCILE_ROUNDS.labels("failed").inc()
            logging.exception("intake reconciliation failed; trying again in %ss", RECONCILE_RETRY.seconds)
            wait = RECONCILE_RETRY
        await pause(stop, wait.total_seconds())


def serve_metrics(settings: Settings) -> None:
    """The worker's own metrics (reconciler rounds, process) on METRICS_HOST:METRICS_PORT; a
    taken port costs the metrics, not the worker."""
    if settings.metrics_port is None:
        return
    try:
        start_http_server(settings.metrics_port, addr=settings.metrics_host)
    except OSError as e:
        logging.error("worker metrics are off: %s:%s: %s", settings.metrics_host, settings.metrics_port, e)


async def run(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    # All the worker's database work is retried (activities, the relay and reconciler loops).
    engine = make_engine(settings)
    serve_metrics(settings)
    traces = tracing.from_settings(settings, "worker")
    client = await connect(settings, metrics_port=settings.temporal_metrics_port, tracing=traces)
    try:
        logging.info("schedules: %s", await ensure_schedules(client, settings))
    except Exception:  # the worker still serves; the next start (or `make dev`) tries again
        logging.exception("could not ensure the schedules")
    worker = build_worker(client, engine, task_queue=settings.temporal_task_queue, settings=settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    logging.info("worker polling task queue %r", settings.temporal_task_queue)
    async with worker, sender_from_settings(settings) as sender:
        await asyncio.gather(
            reconcile_intakes(engine, client, settings.temporal_task_queue, stop),
            run_relay(engine, sender, stop),
        )
    await engine.dispose()


if __name__ == "__main__":
    logs.configure("worker")
    try:
        import uvloop
    except ImportError:  # not on this platform
        asyncio.run(run())
    else:
        uvloop.run(run())

"""Record histories of the governance workflows for the replay tests:
`python -m tests.histories.record_governance [names] [--suffix _v2]`.

Runs governance tasks and the monthly analysis on the time-skipping server (with an embedded
PostgreSQL) the way `tests/workflows/test_governance.py` does — the Schedule's action driven by
hand, the Schedule API and the assessment's freeze as stand-ins — and writes each history to
tests/histories/<name>.json. Re-record only to add cases: the point of the files is that they
were made by older code.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from db.migrate import migrate
from db.session import make_engine
from devstack.ports import free_port
from devstack.postgres import EmbeddedPostgres
from domain.governance import (
    GovernanceTerms,
    InspectionTrigger,
    MonthlyAnalysisInput,
    TaskCancelInput,
    TaskReassignInput,
)
from domain.messages import Actor
from domain.types import Role
from infra.temporal import register_search_attributes, venv_bin
from tests.conftest import settings_for
from tests.workflows.test_governance import LIGHTING, SUPERVISOR, Calls, Gov, found, governance_worker, settle, task_id
from workflows.analysis import MonthlyAnalysisWorkflow
from workflows.converter import DATA_CONVERTER
from workflows.governance import GovernanceInspectionWorkflow, GovernanceTaskWorkflow

HERE = Path(__file__).parent
DAY = timedelta(days=1)


async def governance_closed_after_recurrence(gov: Gov):
    """Clean, recurred (an appeal at the place), then clean rounds over the quiet period."""
    h = await gov.task(terms=GovernanceTerms(interval_days=7, quiet_days=14, clean_inspections=2))
    await gov.inspect(h, after=7 * DAY)
    v = await h.execute_update(GovernanceTaskWorkflow.record_finding, found(False, "lamps lit"))
    await gov.appeal_at(v.inspections[0].at + 2 * DAY)
    await gov.inspect(h, after=7 * DAY)
    await h.execute_update(GovernanceTaskWorkflow.record_finding, found(True, "two lamps out again"))
    for _ in range(2):
        await gov.inspect(h, after=7 * DAY)
        await h.execute_update(GovernanceTaskWorkflow.record_finding, found(False, "all lit"))
    await h.result()
    return h


async def governance_finding_awaited_in_flight(gov: Gov):
    """A round left unconfirmed, a refused signal, and a round waiting for the unit's finding."""
    h = await gov.task()
    await gov.inspect(h, after=14 * DAY)
    await gov.inspect(h, after=14 * DAY)
    await h.signal(GovernanceTaskWorkflow.record_finding_signal, found(False, actor=SUPERVISOR))
    await h.signal(GovernanceTaskWorkflow.record_finding_signal, found(False, "checked", actor=LIGHTING))
    await gov.inspect(h, after=14 * DAY)
    return h


async def governance_cancelled(gov: Gov):
    h = await gov.task()
    await gov.inspect(h, after=14 * DAY)
    await h.execute_update(GovernanceTaskWorkflow.cancel, TaskCancelInput(actor=SUPERVISOR, reason="merged"))
    await h.result()
    return h


async def governance_reassigned_in_flight(gov: Gov):
    """Handed to the water group with a round open: the old owner's signal is refused, the new
    owner's finding taken, and the next round waits for it."""
    water = Actor(user="wang", role=Role.UNIT_STAFF, unit="BJ-WATER")
    h = await gov.task()
    await gov.inspect(h, after=14 * DAY)
    await h.execute_update(
        GovernanceTaskWorkflow.reassign, TaskReassignInput(actor=SUPERVISOR, unit="BJ-WATER", reason="pumping station")
    )
    await h.signal(GovernanceTaskWorkflow.record_finding_signal, found(False, "checked", actor=LIGHTING))
    await h.execute_update(GovernanceTaskWorkflow.record_finding, found(False, "lamps replaced", actor=water))
    await gov.inspect(h, after=14 * DAY)
    return h


async def governance_inspection_trigger(gov: Gov):
    h = await gov.task()
    trigger = gov.client.get_workflow_handle(f"{h.id}-inspection-2026-11-22T00:00:00Z")
    await gov.client.execute_workflow(
        GovernanceInspectionWorkflow.run, InspectionTrigger(task_id=task_id(h)), id=trigger.id,
        task_queue=gov.task_queue,
    )
    return trigger


async def monthly_analysis_finished(gov: Gov):
    h = await gov.client.start_workflow(
        MonthlyAnalysisWorkflow.run, MonthlyAnalysisInput(), id=f"monthly-analysis-{uuid.uuid4().hex[:6]}",
        task_queue=gov.task_queue,
    )
    await h.result()
    return h


SCENARIOS = [
    governance_closed_after_recurrence,
    governance_finding_awaited_in_flight,
    governance_cancelled,
    governance_reassigned_in_flight,
    governance_inspection_trigger,
    monthly_analysis_finished,
]


async def main(names: list[str], suffix: str) -> None:
    pg = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="jiesu-record-")), free_port())
    pg.start()
    try:
        await pg.ensure_database("jiesu")
        settings = settings_for(pg.url("jiesu"))
        engine = make_engine(settings)
        await migrate(engine)
        env = await WorkflowEnvironment.start_time_skipping(
            data_converter=DATA_CONVERTER, test_server_existing_path=venv_bin("temporal-test-server")
        )
        await register_search_attributes(env.client, env.client.namespace)
        try:
            calls = Calls()
            async with governance_worker(env.client, engine, settings, "record", calls):
                gov = Gov(env, env.client, engine, "record", calls)
                for scenario in SCENARIOS:
                    if names and scenario.__name__ not in names:
                        continue
                    handles = await scenario(gov)
                    for i, handle in enumerate(handles if isinstance(handles, list) else [handles]):
                        history = await handle.fetch_history()
                        path = HERE / f"{scenario.__name__}{'_task' * bool(i)}{suffix}.json"
                        path.write_text(history.to_json())
                        print(f"recorded {path.name} ({len(history.events)} events)")
                await settle(gov.handles)
        finally:
            await env.shutdown()
            await engine.dispose()
    finally:
        pg.destroy()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="scenarios to record (default: all)")
    parser.add_argument("--suffix", default="", help="added to the file names, to keep older recordings")
    args = parser.parse_args()
    asyncio.run(main(args.names, args.suffix))

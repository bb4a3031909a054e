"""Appeals whose workflow ended while they were open: found, flagged, restarted or closed.

An administrator's Terminate in the Temporal UI (or a run that failed or timed out) ends the
workflow without it seeing anything, so the appeal row would keep saying "dispatched" with
nothing behind it to remind or escalate. The worker's reconciler (`record_ended_workflows`) asks
Temporal's visibility for appeal runs that ended so, flags the row (`workflow_ended`), writes a
`workflow_ended` event on the timeline, and `GET /supervision` lists it. Staff then restart it,
carrying on from the state last projected, or close it with a reason:

    python -m infra.orphans list
    python -m infra.orphans restart BJ-20261203-000042 --by admin-zhang
    python -m infra.orphans restart BJ-20261203-000042 --by admin-zhang --close "entered twice"
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryReverseRequest
from temporalio.client import Client, WorkflowExecutionDescription, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from db import appeals as store
from db.session import session_factory
from domain.messages import Actor, AppealInput, AppealResumeInput, AppealView
from domain.privacy import scrub
from domain.types import Role
from infra.appeals import _start_options, workflow_id
from workflows.appeal import AppealWorkflow

log = logging.getLogger("jiesu.orphans")

#: How an appeal's run may end without the appeal closing (Completed always closes it).
ENDED = {
    WorkflowExecutionStatus.TERMINATED: "terminated",
    WorkflowExecutionStatus.FAILED: "failed",
    WorkflowExecutionStatus.TIMED_OUT: "timed_out",
    WorkflowExecutionStatus.CANCELED: "canceled",  # cancelled before the appeal existed, or by an older worker
}

#: How far back each round looks: a worker away for less than this misses nothing.
LOOKBACK = timedelta(days=7)


class CannotRestart(Exception):
    """The appeal is unknown, closed, or its workflow is running."""


async def record_ended_workflows(engine: AsyncEngine, client: Client, *, lookback: timedelta = LOOKBACK) -> list[str]:
    """Flag the open appeals whose workflow ended (recently) without closing them. Safe to run
    anywhere, any number of times. Returns the appeal numbers flagged this time."""
    since = (datetime.now(UTC) - lookback).isoformat(timespec="seconds")
    query = (
        "WorkflowType = 'AppealWorkflow' AND ExecutionStatus IN ('Terminated', 'Failed', 'TimedOut', 'Canceled') "
        f"AND CloseTime > '{since}'"
    )
    numbers = {wf.id.removeprefix("appeal-") async for wf in client.list_workflows(query)}
    flagged = []
    for no in await store.open_unflagged(engine=engine, appeal_nos=sorted(numbers)):
        # the latest run decides: a restarted appeal has a running one after the ended one
        desc = await client.get_workflow_handle(workflow_id(no)).describe()
        how = ENDED.get(desc.status)
        if how is None:
            continue
        detail = {"run_id": desc.run_id} | await _how_it_ended(client, desc)
        if await store.mark_workflow_ended(engine=engine, appeal_no=no, how=how, at=desc.close_time, detail=detail):
            flagged.append(no)
    if flagged:
        log.warning("appeals open with their workflow ended (see GET /supervision): %s", flagged)
    return flagged


async def _how_it_ended(client: Client, desc: WorkflowExecutionDescription) -> dict:
    """Who terminated it and why, or the failure's message: the run's last event says."""
    resp = await client.workflow_service.get_workflow_execution_history_reverse(
        GetWorkflowExecutionHistoryReverseRequest(
            namespace=client.namespace,
            execution=WorkflowExecution(workflow_id=desc.id, run_id=desc.run_id),
            maximum_page_size=1,
        )
    )
    if not resp.history.events:
        return {}
    last = resp.history.events[0]
    if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
        a = last.workflow_execution_terminated_event_attributes
        return {"reason": scrub(a.reason) or None, "identity": a.identity or None}
    if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        return {"reason": scrub(last.workflow_execution_failed_event_attributes.failure.message)[:300] or None}
    return {}


async def restart_appeal(
    engine: AsyncEngine, client: Client, task_queue: str, appeal_no: str, *, by: str, close_reason: str | None = None
) -> WorkflowHandle:
    """Start a new run for an open appeal whose workflow has ended: it carries on from the view
    last projected (open parts, whose workflows ended with the old run, are marked failed), or,
    with `close_reason`, closes the appeal at once (outcome cancelled_by_administrator)."""
    async with session_factory(engine)() as session:
        row = await store.get(session=session, appeal_no=appeal_no)
    if row is None:
        raise CannotRestart(f"unknown appeal {appeal_no}")
    if row.status == "closed":
        raise CannotRestart(f"{appeal_no} is closed already")
    try:
        desc = await client.get_workflow_handle(workflow_id(appeal_no)).describe()
        if desc.status is WorkflowExecutionStatus.RUNNING:
            raise CannotRestart(f"the workflow of {appeal_no} is running: nothing to restart")
    except RPCError as e:
        if e.status != RPCStatusCode.NOT_FOUND:
            raise
    inp = store.intake_input(row)  # never projected: start it as the intake would
    if inp is None:
        inp = _resumption(AppealView.model_validate(row.state), by, close_reason)
    elif close_reason is not None:
        raise CannotRestart(f"{appeal_no} never started: restart it first, then close it")
    options = _start_options(task_queue, inp) | dict(
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,  # the earlier run has ended
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,  # never two runs at once
    )
    try:
        return await client.start_workflow(AppealWorkflow.run, inp, **options)
    except WorkflowAlreadyStartedError:
        raise CannotRestart(f"the workflow of {appeal_no} was started meanwhile") from None


def _resumption(view: AppealView, by: str, close_reason: str | None) -> AppealInput:
    return AppealInput(
        appeal_no=view.appeal_no,
        channel=view.channel,
        appeal_type=view.appeal_type,
        category=view.category,
        urgency=view.urgency,
        district=view.district,
        street=view.street,
        received_at=view.received_at,
        operator=Actor(user=by, role=Role.ADMINISTRATOR),
        resumed=AppealResumeInput(view=view, by=by, close_reason=scrub(close_reason) if close_reason else None),
    )


# --- the command line ----------------------------------------------------------------------------


async def _main(argv: list[str] | None = None) -> int:
    from db.session import make_engine
    from infra.temporal import connect
    from settings import get_settings

    parser = argparse.ArgumentParser(prog="python -m infra.orphans", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="find (and flag) open appeals whose workflow ended; list the flagged ones")
    restart = sub.add_parser("restart", help="start a new run for one, carrying on or closing it")
    restart.add_argument("appeal_no")
    restart.add_argument("--by", required=True, help="your username, recorded on the timeline")
    restart.add_argument("--close", metavar="REASON", help="close the appeal with this reason instead")
    args = parser.parse_args(argv)

    settings = get_settings()
    engine, client = make_engine(settings), await connect(settings)
    try:
        if args.command == "list":
            await record_ended_workflows(engine, client)
            async with engine.connect() as conn:
                rows = await conn.exec_driver_sql(
                    "SELECT appeal_no, status, workflow_ended, handling_unit_code FROM appeal "
                    "WHERE workflow_ended IS NOT NULL ORDER BY appeal_no"
                )
                for no, status, how, unit in rows:
                    print(f"{no}\t{status}\t{how}\t{unit or '-'}")
            return 0
        try:
            handle = await restart_appeal(
                engine, client, settings.temporal_task_queue, args.appeal_no, by=args.by, close_reason=args.close
            )
        except CannotRestart as e:
            print(f"not restarted: {e}")
            return 1
        print(f"started {handle.id} run {handle.result_run_id}")
        return 0
    finally:
        await engine.dispose()


if __name__ == "__main__":
    raise SystemExit(asyncio.run(_main()))

"""Starting governance task workflows (client side): from the API, and from the worker's
reconciler for tasks whose start was lost (written to PostgreSQL, then Temporal was away)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from db import governance as store
from db.session import session_factory
from domain.governance import GovernanceTaskInput, workflow_id
from workflows import search_attributes as sa
from workflows.governance import GovernanceTaskWorkflow

log = logging.getLogger("jiesu.governance")


def _start_options(task_queue: str, inp: GovernanceTaskInput) -> dict:
    """Once per task (a second start reaches the running one; an ended one is never started
    again), with the search attributes and the summary administrators see."""
    place = " / ".join(p for p in (inp.district, inp.street) if p) or "city-wide"
    attrs = [
        SearchAttributePair(sa.HANDLING_UNIT, inp.owner_unit),
        SearchAttributePair(sa.CATEGORY, inp.category),
        SearchAttributePair(sa.OVERDUE, False),
    ]
    attrs += [SearchAttributePair(sa.DISTRICT, inp.district)] if inp.district else []
    attrs += [SearchAttributePair(sa.STREET, inp.street)] if inp.street else []
    t = inp.terms
    return dict(
        id=workflow_id(inp.task_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        search_attributes=TypedSearchAttributes(attrs),
        static_summary=(
            f"governance task {inp.task_id} · {inp.category} · {place} · owner {inp.owner_unit} · "
            f"every {t.interval_days} d"
        ),
        static_details=(
            f"**Governance task** {inp.task_id} ({inp.source.value}{' ' + inp.month if inp.month else ''})  \n"
            f"**Category** {inp.category}  \n**Place** {place}  \n**Owner** {inp.owner_unit}  \n"
            f"**Inspections** every {t.interval_days} days · **closes** after {t.quiet_days} quiet days "
            f"and {t.clean_inspections} clean inspections in a row"
        ),
    )


async def start_task_workflow(client: Client, task_queue: str, inp: GovernanceTaskInput) -> WorkflowHandle | None:
    """Start the task's workflow. None if it has already run to its end."""
    try:
        return await client.start_workflow(GovernanceTaskWorkflow.run, inp, **_start_options(task_queue, inp))
    except WorkflowAlreadyStartedError:
        return None


async def resume_unstarted_tasks(
    engine: AsyncEngine, client: Client, task_queue: str, *, grace: timedelta
) -> list[int]:
    """Start the workflows of tasks written more than `grace` ago that never projected anything.
    Safe to run anywhere, any number of times. Returns the task ids started."""
    started = []
    for row in await store.unstarted_tasks(engine=engine, older_than=datetime.now(UTC) - grace):
        async with session_factory(engine)() as session:
            month = await store.month_of_task(session=session, task_id=row.id)
        if await start_task_workflow(client, task_queue, store.task_input(row, month=month)) is not None:
            started.append(row.id)
    if started:
        log.warning("started %d governance task workflows whose start had been lost: %s", len(started), started)
    return started

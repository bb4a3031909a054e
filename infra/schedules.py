"""The project's Temporal Schedules (client side).

- `monthly-analysis`: at 02:00 Beijing time on the 1st of every month, MonthlyAnalysisWorkflow for
  the month just closed (its three rates frozen, its themes proposed). Overlap SKIP; a firing
  missed while the cluster was down still runs within a week.
- `governance-<id>-inspections`: one per governance task, created and deleted by the task's own
  workflow (see `activities.governance`); the API only triggers an extra inspection.

`ensure_schedules` is idempotent: the dev launcher and every worker start call it.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from domain.governance import MonthlyAnalysisInput, schedule_id
from settings import Settings
from workflows.analysis import MonthlyAnalysisWorkflow

MONTHLY_ANALYSIS = "monthly-analysis"


def monthly_analysis_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            MonthlyAnalysisWorkflow.run,
            MonthlyAnalysisInput(),  # the month is the one just closed when it runs
            id=MONTHLY_ANALYSIS,  # the Schedule appends the firing time
            task_queue=settings.temporal_task_queue,
            execution_timeout=timedelta(hours=12),
            static_summary="monthly analysis: freeze the month just closed, propose its themes",
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(day_of_month=[ScheduleRange(1)], hour=[ScheduleRange(2)], minute=[ScheduleRange(0)])
            ],
            time_zone_name=settings.timezone,
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=7)),
        state=ScheduleState(note="the three rates of the month just closed frozen; one problem a month proposed"),
    )


async def ensure_schedules(client: Client, settings: Settings) -> dict[str, str]:
    """Create the project's standing schedules, or bring an existing one to the current
    definition (keeping an administrator's pause). Returns id → created | updated."""
    done = {}
    for sid, desired in ((MONTHLY_ANALYSIS, monthly_analysis_schedule(settings)),):
        try:
            await client.create_schedule(sid, desired)
            done[sid] = "created"
        except ScheduleAlreadyRunningError:

            def _update(current: ScheduleUpdateInput, desired: Schedule = desired) -> ScheduleUpdate:
                desired.state = current.description.schedule.state  # paused or not, notes
                return ScheduleUpdate(schedule=desired)

            await client.get_schedule_handle(sid).update(_update)
            done[sid] = "updated"
    return done


async def trigger_inspection(client: Client, task_id: int) -> None:
    """An inspection now, on top of the regular ones (the task's Schedule fires once more)."""
    await client.get_schedule_handle(schedule_id(task_id)).trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL)

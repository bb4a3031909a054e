"""GovernanceTaskWorkflow: one governance task (主动治理、未诉先办), id `governance-<task id>`;
and GovernanceInspectionWorkflow, what the task's Temporal Schedule starts at each inspection.

The task's Schedule (`governance-<id>-inspections`, created by the task's first activity, deleted
when it ends) fires every `interval_days`; its action starts a small workflow that signals the
task `inspection_due`. The task then opens a round, runs the data check (new appeals at the
place since the last round) and waits for the owner unit's on-site finding, an Update with a
validator and a Signal twin as on the appeal. The rules — what a clean round is, when the quiet
period restarts, when the problem has stayed away long enough — are `domain.governance`'s.
Every change is projected to PostgreSQL (task row and inspection rows) in order.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from activities.governance import (
        GovernanceActivities,
        GovernanceProjectionInput,
        InspectionScheduleInput,
        PlaceCheckInput,
    )
    from domain import governance as rules
    from domain.core import Refused
    from domain.governance import (
        FindingRecordInput,
        GovernanceTaskInput,
        GovernanceTaskView,
        Inspection,
        InspectionDue,
        InspectionTrigger,
        RoundOutcome,
        TaskCancelInput,
        TaskReassignInput,
        TaskStatus,
    )
    from domain.privacy import refuse_phone_or_id
    from workflows import search_attributes as sa
    from workflows.common import DB_RETRY, projection_refused, refusal, signal_twin, upsert_changed

#: Tasks that end as cancelled when an administrator cancels the workflow (older runs just ended).
CANCEL_WHEN_CANCELLED = "cancel-task-when-cancelled"


def refuse_unscrubbed(cmd: BaseModel) -> None:
    """Refused if the free text of `cmd` holds a phone or ID number: only the API scrubs, and a
    signal or update may come from elsewhere (the Temporal CLI or UI). The reason names the
    fields, not their text."""
    try:
        refuse_phone_or_id(cmd)
    except Refused as e:
        raise refusal(e) from None


@workflow.defn
class GovernanceTaskWorkflow:
    @workflow.init
    def __init__(self, inp: GovernanceTaskInput) -> None:
        self.view = rules.open_task(inp)
        self.due: list[InspectionDue] = []
        self._triggers: list[str] = []  # the latest scheduled runs seen (a repeat is ignored)
        self._changed: dict[int, Inspection] = {}  # rounds changed since the last projection
        self._projecting = asyncio.Lock()  # projections go out one at a time, in seq order
        self._attrs: dict[str, object] = {}
        self._projection_failed = False  # PostgreSQL refused the last projection

    @workflow.run
    async def run(self, inp: GovernanceTaskInput) -> GovernanceTaskView:
        """Create the inspection Schedule, then open a round each time it fires, until the
        problem has stayed away for the agreed period or a supervisor cancels the task. An
        administrator's Request Cancellation ends it as a supervisor's cancellation does."""
        try:
            await self._inspect_until_ended(inp)
        except asyncio.CancelledError:
            # only a cancellation the server delivered, never an inner task's (a replay would not see it)
            if (self.view.status is not TaskStatus.ACTIVE or workflow.cancellation_reason() is None
                    or not workflow.patched(CANCEL_WHEN_CANCELLED)):
                raise
            rules.cancelled_by_administrator(self.view, workflow.now(), workflow.cancellation_reason())
            for insp in self.view.inspections[-1:]:
                self._changed[insp.round] = insp
            await self._project()
            await self._remove_schedule()
            await workflow.wait_condition(workflow.all_handlers_finished)
            raise  # Temporal shows the run as cancelled, as the administrator asked
        await self._remove_schedule()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.view

    async def _inspect_until_ended(self, inp: GovernanceTaskInput) -> None:
        if inp.carried is None:
            await self._project()
            await workflow.execute_activity_method(
                GovernanceActivities.schedule_inspections,
                InspectionScheduleInput(
                    task_id=inp.task_id, interval_days=inp.terms.interval_days, created_at=inp.created_at
                ),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=DB_RETRY,
                summary=f"schedule an inspection every {inp.terms.interval_days} days",
            )
        self._upsert_search_attributes()
        while self.view.status is TaskStatus.ACTIVE:
            await workflow.wait_condition(lambda: bool(self.due) or self.view.status is not TaskStatus.ACTIVE)
            if self.view.status is not TaskStatus.ACTIVE:
                break
            await self._inspect(self.due.pop(0))
            if workflow.info().is_continue_as_new_suggested() and not self.due:
                await workflow.wait_condition(workflow.all_handlers_finished)
                if self.view.status is TaskStatus.ACTIVE and not self.due:
                    workflow.continue_as_new(inp.model_copy(update={"carried": self.view}))

    async def _remove_schedule(self) -> None:
        await workflow.execute_activity_method(
            GovernanceActivities.remove_inspection_schedule,
            self.view.task_id,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=DB_RETRY,
            summary=f"the task is {self.view.status.value}: delete its inspection schedule",
        )

    async def _inspect(self, due: InspectionDue) -> None:
        """Open a round and run its data check (the unit's finding comes separately)."""
        previous, insp = rules.open_round(self.view, workflow.now())
        if previous is not None:
            self._changed[previous.round] = previous
        self._changed[insp.round] = insp
        await self._project()
        found = await workflow.execute_activity_method(
            GovernanceActivities.check_place,
            PlaceCheckInput(
                task_id=self.view.task_id,
                category=self.view.category,
                district=self.view.district,
                street=self.view.street,
                since=insp.since,
                until=insp.at,
            ),
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=DB_RETRY,
            summary=f"round {insp.round}: new appeals at the place since {insp.since:%Y-%m-%d}",
        )
        if self.view.status is not TaskStatus.ACTIVE:
            return  # cancelled while the check ran
        self._changed[insp.round] = rules.apply_data_check(self.view, insp.round, found.count, found.appeal_nos)
        self._close_if_away()
        await self._project()

    def _close_if_away(self) -> None:
        if rules.stays_away(self.view):
            rules.close(self.view, workflow.now())

    async def _project(self) -> None:
        """Project the task row and the rounds that changed, and keep the search attributes
        current."""
        async with self._projecting:
            self.view.seq += 1
            changed = sorted(self._changed.values(), key=lambda i: i.round)
            self._changed = {}
            cur = self.view.current
            try:
                await workflow.execute_local_activity_method(
                    GovernanceActivities.project_task,
                    GovernanceProjectionInput(
                        view=self.view.model_copy(update={"inspections": []}),
                        rounds=len(self.view.inspections),
                        last_inspection_at=cur.at if cur else None,
                        inspections=changed,
                    ),  # encoded now, when scheduled
                    start_to_close_timeout=timedelta(seconds=10),
                    retry_policy=DB_RETRY,
                    summary=f"record the task ({self.view.status.value}, {len(self.view.inspections)} rounds)",
                )
                self._projection_failed = False
            except FailureError as e:
                if projection_refused(e) is None:
                    raise
                # the task runs on; the rounds go out again with the next projection, which
                # catches the row up once PostgreSQL takes it
                workflow.logger.error("governance task %s: PostgreSQL refused the projection: %s",
                                      self.view.task_id, e)
                for insp in changed:
                    self._changed.setdefault(insp.round, insp)
                self._projection_failed = True
        self._upsert_search_attributes()

    def _upsert_search_attributes(self) -> None:
        v = self.view
        last_closed = v.inspections[-2] if len(v.inspections) > 1 else None
        wanted: dict[SearchAttributeKey[Any], Any] = {
            sa.HANDLING_UNIT: v.owner_unit,
            sa.CATEGORY: v.category,
            sa.DISTRICT: v.district,
            sa.STREET: v.street,
            # the owner unit's on-site finding is what it owes next
            sa.REPLY_DEADLINE: v.finding_due,
            # the unit let a round pass without looking on site
            sa.OVERDUE: last_closed is not None and last_closed.outcome is RoundOutcome.UNCONFIRMED,
        }
        upsert_changed(self._attrs, wanted, self._projection_failed)

    # --- queries ---------------------------------------------------------------------------
    @workflow.query(description="治理任务状态: the governance task as its workflow holds it; read-only")
    def state(self) -> GovernanceTaskView:
        return self.view

    # --- from the Schedule ---------------------------------------------------------------------
    @workflow.signal(description="sent by the task's Schedule (or the API's inspect-now): open an inspection round")
    def inspection_due(self, due: InspectionDue) -> None:
        """The Schedule fired (or a supervisor asked for an inspection now): open a round."""
        if self.view.status is not TaskStatus.ACTIVE or due.trigger in self._triggers:
            return
        self._triggers = [*self._triggers[-9:], due.trigger]
        self.due.append(due)

    # --- one path for every staff action (`domain.governance.ACTIONS`) ----------------------
    def _validate(self, action: str, cmd: BaseModel) -> None:
        refuse_unscrubbed(cmd)  # validators do not run on replay
        try:
            rules.check(self.view, action, cmd, workflow.now())
        except Refused as e:
            raise refusal(e) from None

    def _apply(self, action: str, cmd: BaseModel) -> Any:
        try:
            return rules.apply(self.view, action, cmd, workflow.now())
        except Refused as e:
            raise refusal(e) from None

    async def _signalled(self, action: str, cmd: BaseModel, what: str) -> None:
        """The Signal twin: the same action, refused only into the log (nobody waits)."""
        try:
            if workflow.patched("refuse-personal-data-in-signals"):
                refuse_unscrubbed(cmd)
            await getattr(self, action)(cmd)
        except ApplicationError as e:
            workflow.logger.warning("%s refused: %s", what, e.message)

    # --- the owner unit's on-site finding: Update with validator, and Signal twin -----------
    @workflow.update(description="现场核查: the owner unit reports whether the problem is still there")
    async def record_finding(self, cmd: FindingRecordInput) -> GovernanceTaskView:
        """现场核查: the owner unit reports whether the problem is there. Found there, the quiet
        period starts again; found gone with no new appeal, the round is clean, and enough clean
        rounds over the agreed period close the task."""
        insp = self._apply("record_finding", cmd)
        self._changed[insp.round] = insp
        self._close_if_away()
        await self._project()
        return self.view

    @record_finding.validator
    def _v_record_finding(self, cmd: FindingRecordInput) -> None:
        self._validate("record_finding", cmd)

    @workflow.signal(description=signal_twin("现场核查", refused="only logged"))
    async def record_finding_signal(self, cmd: FindingRecordInput) -> None:
        await self._signalled("record_finding", cmd, "on-site finding")

    # --- a supervisor's cancellation: Update with validator, and Signal twin -----------------
    @workflow.update(
        description="终止任务: a supervisor ends the task before the problem is confirmed gone, with the reason"
    )
    async def cancel(self, cmd: TaskCancelInput) -> GovernanceTaskView:
        """A supervisor ends the task before the problem is confirmed gone, with the reason
        (merged into another task, outside any unit's powers ...). The schedule is deleted."""
        self._apply("cancel", cmd)
        for insp in self.view.inspections[-1:]:
            self._changed[insp.round] = insp
        await self._project()
        return self.view

    @cancel.validator
    def _v_cancel(self, cmd: TaskCancelInput) -> None:
        self._validate("cancel", cmd)

    @workflow.signal(description=signal_twin("终止任务", refused="only logged"))
    async def cancel_signal(self, cmd: TaskCancelInput) -> None:
        await self._signalled("cancel", cmd, "cancellation")

    # --- a supervisor's reassignment: Update with validator, and Signal twin ------------------
    @workflow.update(description="改派: a supervisor hands the task to another unit, with the reason")
    async def reassign(self, cmd: TaskReassignInput) -> GovernanceTaskView:
        """A supervisor hands the task to another unit, with the reason; the open round's on-site
        finding is then the new unit's to give. Both units are notified."""
        self._apply("reassign", cmd)
        for insp in self.view.inspections[-1:]:
            self._changed[insp.round] = insp  # the projection tells the new unit what it owes
        await self._project()
        return self.view

    @reassign.validator
    def _v_reassign(self, cmd: TaskReassignInput) -> None:
        self._validate("reassign", cmd)

    @workflow.signal(description=signal_twin("改派", refused="only logged"))
    async def reassign_signal(self, cmd: TaskReassignInput) -> None:
        await self._signalled("reassign", cmd, "reassignment")


@workflow.defn
class GovernanceInspectionWorkflow:
    """What the task's Schedule starts at each firing: tell the task an inspection is due."""

    @workflow.run
    async def run(self, trigger: InspectionTrigger) -> bool:
        """True if the task took it; False if the task has ended (its schedule is on its way out)."""
        try:
            await workflow.get_external_workflow_handle(rules.workflow_id(trigger.task_id)).signal(
                GovernanceTaskWorkflow.inspection_due, InspectionDue(trigger=workflow.info().workflow_id)
            )
        except FailureError:  # ended (or never existed): nothing to inspect
            return False
        return True

"""CoHandlingWorkflow: one unit's part of an appeal, as a child of its AppealWorkflow, id
`appeal-<no>/co/<unit>` (co-handling, 协办) or `appeal-<no>/whistle/<unit>` (a department
summoned by a street, 吹哨报到).

The part has its own actions and timers; every change is signalled to the appeal, which keeps
the timeline and the projection (the lead unit answers to the citizen). Rules: `domain.parts`.
No postponed annotations, for the reason given in `workflows.appeal`.
"""

import asyncio
from collections.abc import Callable
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    import workflows.search_attributes as attrs
    from domain import display
    from domain import parts as rules
    from domain.core import Alarm, Draft, Refused
    from domain.events import EventKind
    from domain.messages import (
        PartAcceptInput,
        PartActionInput,
        PartChange,
        PartCloseInput,
        PartDeclineInput,
        PartDeclineReviewInput,
        PartInput,
        PartPhasedReportInput,
        PartReportInput,
        PartView,
    )
    from domain.privacy import refuse_phone_or_id
    from workflows.common import refusal, signal_twin, sleep_until_alarm


#: Parts that tell their appeal they closed when an administrator cancels them.
CLOSE_WHEN_CANCELLED = "close-part-when-cancelled"
#: Parts that spread their reminders over up to half an hour after their point (older parts
#: reminded at the point); asked first thing, so a part takes it from its start or never.
SPREAD_REMINDERS = "spread-part-reminders"


@workflow.defn
class CoHandlingWorkflow:
    @workflow.init
    def __init__(self, inp: PartInput) -> None:
        self.inp = inp
        self.part = rules.new_part(inp, workflow.info().workflow_id)
        self.woken = False
        self._status: str | None = None  # the status last upserted, and since when
        self._status_since = workflow.now()
        self._spread_reminders = workflow.patched(SPREAD_REMINDERS)

    @workflow.run
    async def run(self, inp: PartInput) -> PartView:
        """Wait for the unit's actions, remind before each limit, escalate a missed one; end
        when the part is done or closed. An administrator's Request Cancellation closes the part
        and tells the appeal, as a lead's close does."""
        self._upsert_search_attributes()
        try:
            await self._until_settled(inp)
        except asyncio.CancelledError:
            # only a cancellation the server delivered, never an inner task's (a replay would not see it)
            if (not self.part.open or workflow.cancellation_reason() is None
                    or not workflow.patched(CLOSE_WHEN_CANCELLED)):
                raise  # it had ended already
            # (when the appeal's close cancels it, the appeal has closed the part itself and the
            # signal below finds it gone)
            await self._tell_appeal(rules.cancelled(self.part, workflow.cancellation_reason() or None))
            await workflow.wait_condition(workflow.all_handlers_finished)
            raise
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.part

    async def _until_settled(self, inp: PartInput) -> None:
        while self.part.open:
            alarm = rules.next_alarm(self.part, inp.reminder_at_fraction, spread=self._spread_reminders)
            self.woken = False
            if not await sleep_until_alarm(alarm, lambda: self.woken, self._alarm_summary):
                continue  # someone acted first: the next alarm may have changed
            assert alarm is not None  # sleep_until_alarm is True only for an alarm
            for draft in rules.fire(self.part, alarm):
                await self._tell_appeal(draft)

    def _alarm_summary(self, alarm: Alarm) -> str:
        limit, what = alarm.name.split(":")
        return display.alarm_summary(limit, what, alarm.at, self.part.unit)

    # --- one path for every action -------------------------------------------------------
    def _validate(self, action: str, cmd: PartActionInput) -> None:
        self._refuse_if(rules.check, self.part, action, cmd, workflow.now())

    def _admit(self, action: str, cmd: PartActionInput) -> None:
        """An update's validator: no phone or ID number in its text (it may not come from the
        API, which scrubs; validators do not run on replay), and the rules."""
        self._refuse_if(refuse_phone_or_id, cmd)
        self._validate(action, cmd)

    @staticmethod
    def _refuse_if(check: Callable[..., None], *args: Any) -> None:
        try:
            check(*args)
        except Refused as e:
            raise refusal(e) from None

    async def _perform(self, action: str, cmd: PartActionInput) -> PartView:
        self._validate(action, cmd)
        await self._tell_appeal(rules.apply(self.part, action, cmd, workflow.now()))
        return self.part

    async def _signalled(self, action: str, cmd: PartActionInput) -> None:
        try:
            if workflow.patched("refuse-personal-data-in-signals"):
                # only the API scrubs free text, and signals come from elsewhere (CLI, UI)
                self._refuse_if(refuse_phone_or_id, cmd)
            await self._perform(action, cmd)
        except ApplicationError as e:
            await self._tell_appeal(
                Draft(EventKind.REJECTED, cmd.actor, cmd.actor.unit, {"action": f"part {action}", "reason": e.message})
            )

    async def _tell_appeal(self, draft: Draft) -> None:
        self.woken = True
        self._upsert_search_attributes()
        change = PartChange(event=draft.kind, actor=draft.actor, detail=draft.detail, part=self.part)
        parent = workflow.get_external_workflow_handle(self.inp.parent_workflow_id)
        try:
            await parent.signal("part_changed", change)
        except FailureError:
            pass  # the appeal has closed: nothing left to tell it

    def _upsert_search_attributes(self) -> None:
        """Every change sets them all (one upsert per change, as the part has always done): its
        status, unit, limit and lateness, and the appeal's place and classification, so the
        queries that find a late order find its late parts too."""
        status = f"part_{self.part.status.value}"
        if status != self._status:
            self._status, self._status_since = status, workflow.now()
        updates: list[SearchAttributeUpdate[Any]] = [
            attrs.APPEAL_STATUS.value_set(status),
            attrs.HANDLING_UNIT.value_set(self.part.unit),
            attrs.REPLY_DEADLINE.value_set(self.part.report_in_due if self.part.accepted_at is None and self.part.report_in_due else self.part.due),
            attrs.OVERDUE.value_set(self.part.overdue),
            attrs.IN_STATUS_SINCE.value_set(self._status_since),
        ]
        inp = self.inp
        for key, value in (
            (attrs.DISTRICT, inp.district),
            (attrs.STREET, inp.street),
            (attrs.CATEGORY, inp.category),
            (attrs.URGENCY, inp.urgency.value if inp.urgency else None),
        ):
            if value is not None:
                updates.append(key.value_set(value))
        workflow.upsert_search_attributes(updates)
        # what the UI shows as the run's current details (a query's answer, not a command)
        workflow.set_current_details(
            display.part_details(self.part, inp.lead_unit, inp.names, self._status_since, workflow.now())
        )

    @workflow.query(description="协办状态: the part as its workflow holds it; read-only")
    def state(self) -> PartView:
        return self.part

    # --- the unit's actions (Update + Signal twin each) -----------------------------------
    @workflow.update(
        description="接收/报到: the unit takes its part (co-handling) or reports in with its part of the plan (whistle)"
    )
    async def accept(self, cmd: PartAcceptInput) -> PartView:
        """The unit accepts its part (co-handling) or reports in with its part of the plan (whistle)."""
        return await self._perform("accept", cmd)

    @accept.validator
    def _v_accept(self, cmd: PartAcceptInput) -> None:
        self._admit("accept", cmd)

    @workflow.signal(description=signal_twin("接收/报到"))
    async def accept_signal(self, cmd: PartAcceptInput) -> None:
        await self._signalled("accept", cmd)

    @workflow.update(description="阶段性报告: progress on the part; past its limit, with the reason for the delay")
    async def phased_report(self, cmd: PartPhasedReportInput) -> PartView:
        """Progress on the part; past its limit the reason for the delay is required."""
        return await self._perform("phased_report", cmd)

    @phased_report.validator
    def _v_phased_report(self, cmd: PartPhasedReportInput) -> None:
        self._admit("phased_report", cmd)

    @workflow.signal(description=signal_twin("阶段性报告"))
    async def phased_report_signal(self, cmd: PartPhasedReportInput) -> None:
        await self._signalled("phased_report", cmd)

    @workflow.update(description="协办反馈: the part is done, reported to the lead unit")
    async def report(self, cmd: PartReportInput) -> PartView:
        """The part is done, reported to the lead unit."""
        return await self._perform("report", cmd)

    @report.validator
    def _v_report(self, cmd: PartReportInput) -> None:
        self._admit("report", cmd)

    @workflow.signal(description=signal_twin("协办反馈"))
    async def report_signal(self, cmd: PartReportInput) -> None:
        await self._signalled("report", cmd)

    @workflow.update(description="申请退回: the unit declines its part, with the reason")
    async def decline(self, cmd: PartDeclineInput) -> PartView:
        """The unit declines its part with a reason (never the whole appeal's jurisdiction)."""
        return await self._perform("decline", cmd)

    @decline.validator
    def _v_decline(self, cmd: PartDeclineInput) -> None:
        self._admit("decline", cmd)

    @workflow.signal(description=signal_twin("申请退回"))
    async def decline_signal(self, cmd: PartDeclineInput) -> None:
        await self._signalled("decline", cmd)

    @workflow.update(
        description="退回审核: the hotline upholds the decline (the part closes) or rejects it (the unit does it)"
    )
    async def review_decline(self, cmd: PartDeclineReviewInput) -> PartView:
        """The hotline upholds a declined part (closed) or rejects the decline (the unit does it)."""
        return await self._perform("review_decline", cmd)

    @review_decline.validator
    def _v_review_decline(self, cmd: PartDeclineReviewInput) -> None:
        self._admit("review_decline", cmd)

    @workflow.signal(description=signal_twin("退回审核"))
    async def review_decline_signal(self, cmd: PartDeclineReviewInput) -> None:
        await self._signalled("review_decline", cmd)

    @workflow.signal(
        description="sent by the appeal: the lead unit closed the part, with the reason; not for people (use the appeal's close_part)"
    )
    async def close(self, cmd: PartCloseInput) -> None:
        """Sent by the appeal: the lead closes the part with a recorded reason."""
        if self.part.open:
            await self._tell_appeal(rules.apply(self.part, "close", cmd, workflow.now()))

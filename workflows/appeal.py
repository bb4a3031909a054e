"""AppealWorkflow: one work order (工单) from intake to close, id `appeal-<appeal number>`.

The rules live in `domain.appeal`; this class holds the state, runs the time limits as durable
timers, and turns every change into a timeline event projected to PostgreSQL and into the search
attributes administrators filter on. Every staff action is an Update with a validator (the sender
gets the new state or the reason it was refused) and has a Signal twin for senders that must not
block; both go through the same check-and-apply path, and a refused signal is recorded on the
timeline as rejected.

No `from __future__ import annotations` here: the sandbox runs this module afresh for every
workflow run, and the SDK reads each handler's type hints as it does; postponed (string)
annotations would be compiled again at every run, about a third of the module's cost.
"""

import asyncio
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import (
    ApplicationError,
    ChildWorkflowError,
    FailureError,
    WorkflowAlreadyStartedError,
)
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    import workflows.search_attributes as attrs
    from activities.appeals import AppealActivities, NotificationDraft, ProjectionInput, RouteInput
    from domain import appeal as rules
    from domain import collaboration, display
    from domain.core import Alarm, Draft, Refused
    from domain.events import EventKind
    from domain.messages import (
        ActionInput,
        AppealAcceptInput,
        AppealAnswerInput,
        AppealCompleteInput,
        AppealDispatchInput,
        AppealEvaluateInput,
        AppealInput,
        AppealResumeInput,
        AppealStatus,
        AppealView,
        ContactRecordInput,
        ExtensionRequestInput,
        ExtensionReviewInput,
        IntakeDecision,
        ObjectionRaiseInput,
        ObjectionReviewInput,
        PartChange,
        PartCloseInput,
        PartInput,
        PartKind,
        PartStatus,
        PartView,
        PhasedReportInput,
        Terms,
        TimelineEvent,
        part_key,
    )
    from domain.privacy import refuse_phone_or_id
    from workflows.cohandling import CoHandlingWorkflow
    from workflows.common import (
        DB_RETRY,
        activity_failure,
        projection_refused,
        refusal,
        signal_twin,
        sleep_until_alarm,
        upsert_changed,
    )

#: Runs that close the appeal when an administrator cancels the workflow (older runs just ended).
CLOSE_WHEN_CANCELLED = "close-appeal-when-cancelled"
#: Runs where a re-handled order is on time on its fresh limits (older runs kept it overdue).
REHANDLING_ON_TIME = "rehandling-clears-overdue"
#: Runs that ignore a part's echo of a close the appeal made (older runs recorded it twice).
PART_CLOSE_TOLD_ONCE = "part-close-told-once"
#: Runs whose held order's dispatch says who chose the unit (older runs said "operator" for both).
DISPATCH_SAYS_WHO_CHOSE = "dispatch-says-who-chose"
#: Runs where a part's message counts only for the round it is about, and the lead's close goes
#: to the part it closed (older runs let a closed round's late message overwrite the unit's new
#: part, and closed whichever part held the unit's place once the close was recorded).
PART_ROUNDS = "part-messages-name-their-round"
#: Runs whose ReplyDeadline is the earliest running limit not yet met (older runs kept the
#: contact limit until contact, then completion; asked only where the two differ).
EARLIEST_DEADLINE = "reply-deadline-earliest-limit"
#: Runs that re-arm the timer only when the next alarm moved (older runs re-armed it at each change).
KEEP_TIMER = "keep-timer-while-alarm-unchanged"
#: Runs that refuse a signal whose free text holds a phone or ID number (older runs took it).
REFUSE_IN_SIGNALS = "refuse-personal-data-in-signals"
#: Runs that take every patch of TAKEN_AT_START when they start (older runs ask each where it
#: first matters). A patch asked right after a local activity could read as absent on replay:
#: when a query is answered in the workflow task in which the activity ends, the SDK ends that
#: task with the activity's result alone and runs the code after it in a new task; a replay
#: runs that code one task earlier, where the patch's marker is not yet in view, and fails with
#: a nondeterminism error (a new appeal queried before a worker took it, then a worker restart).
PATCHES_AT_START = "patches-taken-at-start"
#: Runs that spread their reminders (advisory) over up to half an hour after their point, by the
#: appeal's number (older runs reminded at the point). Asked once, first thing, so a run takes it
#: from its start or never: a run's alarms stay one rule for its whole life.
SPREAD_REMINDERS = "spread-reminders"
#: The patches a run since PATCHES_AT_START has from its start. Never add to it (runs already
#: started without them would take them mid-run with no marker): ask a later patch before the
#: local activity it would otherwise follow in the same step.
TAKEN_AT_START = frozenset(
    {
        CLOSE_WHEN_CANCELLED,
        REHANDLING_ON_TIME,
        PART_CLOSE_TOLD_ONCE,
        DISPATCH_SAYS_WHO_CHOSE,
        PART_ROUNDS,
        EARLIEST_DEADLINE,
        KEEP_TIMER,
        REFUSE_IN_SIGNALS,
    }
)


def refuse_unscrubbed(cmd: ActionInput) -> None:
    """Refused if the free text of `cmd` holds a phone or ID number: it has not been through the
    API's scrubbing. The reason names the fields, not their text."""
    try:
        refuse_phone_or_id(cmd)
    except Refused as e:
        raise refusal(e) from None


def numbered(view: AppealView, drafts: list[Draft], now: datetime) -> tuple[list[TimelineEvent], list[NotificationDraft]]:
    """The drafts as timeline events, numbered on from the view's last, and the notifications
    they cause."""
    events, notices = [], []
    for d in drafts:
        view.seq += 1
        events.append(TimelineEvent(seq=view.seq, kind=d.kind, at=now, actor=d.actor, unit=d.unit, detail=d.detail))
        for recipient in collaboration.recipients(view, d.kind, d.unit, d.detail):
            notices.append(NotificationDraft(seq=view.seq, recipient=recipient, topic=d.kind, detail=d.detail))
    return events, notices


def _alarm_summary(alarm: Alarm) -> str:
    limit, what = alarm.name.split(":")
    return display.alarm_summary(limit, what, alarm.at)


@workflow.defn
class AppealWorkflow:
    @workflow.init
    def __init__(self, inp: AppealInput) -> None:
        self.view: AppealView | None = None  # set once the terms are loaded
        self.terms: Terms | None = None
        self.woken = False  # the next alarm may have changed: re-arm the timer
        self._armed: Alarm | None = None  # the alarm the current timer waits for
        self.intake_recorded = False
        self._watchers: list[asyncio.Task[None]] = []
        self._told: set[str] = set()  # followers already told how this appeal ended
        self._attrs: dict[str, object] = {}
        self._status_since: datetime | None = None  # when the current status began (InStatusSince)
        self._names = dict(inp.names)  # code → Chinese name, for the current details
        # first, before any handler or local activity (see PATCHES_AT_START)
        self._patches_at_start = workflow.patched(PATCHES_AT_START)
        self._spread_reminders = workflow.patched(SPREAD_REMINDERS)

    def _patched(self, patch: str) -> bool:
        """Whether this run takes `patch`: since PATCHES_AT_START every run has those of
        TAKEN_AT_START from its start; an older run (or a later patch) asks where it matters."""
        return (self._patches_at_start and patch in TAKEN_AT_START) or workflow.patched(patch)

    @property
    def _view(self) -> AppealView:
        """The view, past intake (or resume): every handler but the validators and the query
        waits for it, and the main line sets it before anything else reads it."""
        assert self.view is not None, "read before intake"
        return self.view

    @property
    def _terms(self) -> Terms:
        """The policy, loaded first thing in the run, before intake."""
        assert self.terms is not None, "read before the terms are loaded"
        return self.terms

    # --- main line ---------------------------------------------------------------------
    @workflow.run
    async def run(self, inp: AppealInput) -> AppealView:
        """Intake, dispatch, then sleep until the next reminder or limit while staff act.
        An administrator's Request Cancellation closes the appeal on its timeline."""
        try:
            self.terms = await workflow.execute_local_activity_method(
                AppealActivities.load_terms,
                inp.appeal_type,
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=DB_RETRY,
                summary="load the time-limit policy and working-day calendar",
            )
            if inp.resumed is not None:
                await self._resume(inp.resumed)
            else:
                await self._intake(inp)
            while self._view.status is not AppealStatus.CLOSED:
                await self._sleep_until_next_alarm()
        except asyncio.CancelledError:
            # only a cancellation the server delivered (an administrator's), never an inner task's
            # cancellation, which a replay would not see again
            if (self.view is None or workflow.cancellation_reason() is None
                    or not self._patched(CLOSE_WHEN_CANCELLED)):
                raise
            await self._close_cancelled()
            raise  # Temporal shows the run as cancelled, as the administrator asked
        await self._release_followers(self._closed_reason())
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._view

    async def _intake(self, inp: AppealInput) -> None:
        now = workflow.now()
        view, drafts = rules.open_appeal(inp, now, self._terms)
        if inp.decision is IntakeDecision.DISPATCH:
            unit = inp.unit or await self._route(view)
            if unit is None:
                drafts.append(Draft(EventKind.DISPATCH_NEEDED, None, detail={"reason": "no routing rule applies"}))
            else:
                rules.start_clock(view, unit, now, self._terms)
                drafts.append(rules.intake_dispatched_draft(view, inp))
        self.view = view
        await self._record(drafts)
        self.intake_recorded = True

    async def _resume(self, r: AppealResumeInput) -> None:
        """A new run carries on from the view the ended one projected (or closes it at once)."""
        self.view = r.view
        await self._record(collaboration.resumed(self._view, r.by, workflow.now(), r.close_reason))
        self.intake_recorded = True

    async def _close_cancelled(self) -> None:
        """Request Cancellation (Temporal UI or CLI) is delivered as CancelledError where the run
        waits. The appeal closes as any close does — parts settled, timeline event, outcome,
        duplicates released — so nothing is left dispatched with no workflow behind it. The run
        keeps scheduling activities after catching it (the SDK allows that)."""
        if self._view.status is not AppealStatus.CLOSED:
            reason = workflow.cancellation_reason() or None
            await self._record(collaboration.cancelled_by_administrator(self._view, workflow.now(), reason))
        await self._release_followers(self._closed_reason())
        await workflow.wait_condition(workflow.all_handlers_finished)

    def _closed_reason(self) -> str:
        outcome = self._view.outcome
        assert outcome is not None, "a closed appeal has its outcome"
        return f"the master appeal closed ({outcome.value})"

    async def _sleep_until_next_alarm(self) -> None:
        alarm = self._next_alarm()
        self._armed = alarm
        self.woken = False
        if not await sleep_until_alarm(alarm, lambda: self.woken, _alarm_summary):
            return  # someone acted first: the next alarm may have changed
        assert alarm is not None  # sleep_until_alarm is True only for an alarm
        drafts = rules.fire(self._view, alarm, workflow.now())
        if self._view.status is AppealStatus.CLOSED:
            drafts[-1:-1] = collaboration.settle_parts(self._view, "the appeal closed")
        await self._record(drafts)

    def _next_alarm(self) -> Alarm | None:
        return rules.next_alarm(self._view, self._terms, spread=self._spread_reminders)

    async def _route(self, view: AppealView) -> str | None:
        try:
            return await workflow.execute_local_activity_method(
                AppealActivities.route_appeal,
                RouteInput(category=view.category, district=view.district, street=view.street),
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=DB_RETRY,
                summary="route by the dispatch catalogue",
            )
        except FailureError as e:
            if activity_failure(e, "NoRoute") is None:
                raise
            return None

    # --- one path for every action -------------------------------------------------------
    def _validate(self, action: str, cmd: ActionInput) -> None:
        # an update from outside the API (the Temporal CLI) is refused before its text is written
        # anywhere; the API's own are scrubbed and always pass (validators do not run on replay)
        refuse_unscrubbed(cmd)
        if self.view is None:
            return  # still setting up; the handler waits and checks again
        try:
            collaboration.check(self._view, action, cmd, workflow.now())
        except Refused as e:
            raise refusal(e) from None

    async def _perform(self, action: str, cmd: ActionInput) -> AppealView:
        await workflow.wait_condition(lambda: self.view is not None)
        try:
            collaboration.check(self._view, action, cmd, workflow.now())
            if action == "dispatch":
                assert isinstance(cmd, AppealDispatchInput)  # each action's handler takes its type
                cmd = await self._dispatch_unit(cmd)
        except Refused as e:
            raise refusal(e) from None
        was_overdue = self._view.overdue
        # the part a close is for, held now: while the close is recorded, the unit may be asked
        # again and its new part take the old one's place
        closing = None
        if action == "close_part":
            assert isinstance(cmd, collaboration.PartCloseRequestInput)
            closing = self._view.parts[part_key(cmd.kind, cmd.unit)]
        drafts = collaboration.apply(self._view, action, cmd, workflow.now(), self._terms)
        if action == "evaluate" and was_overdue and not self._view.overdue and not self._patched(REHANDLING_ON_TIME):
            self._view.overdue = True  # as older runs had it: their later upserts depend on it
        await self._record(drafts)
        await self._effects(action, cmd, closing)
        return self._view

    async def _dispatch_unit(self, cmd: AppealDispatchInput) -> AppealDispatchInput:
        """The operator's dispatch with its unit: the one named, or the catalogue's; and, since
        DISPATCH_SAYS_WHO_CHOSE, which of the two it is (only the workflow knows it routed)."""
        routed = cmd.unit is None
        if routed:
            cmd = cmd.model_copy(update={"unit": await self._route(self._view)})
            if cmd.unit is None:
                raise Refused("no routing rule applies: name the unit", "invalid", "unit")
            collaboration.check(self._view, "dispatch", cmd, workflow.now())  # the state may have moved
        if self._patched(DISPATCH_SAYS_WHO_CHOSE):
            return cmd.model_copy(update={"unit_from_catalogue": routed})
        return cmd.model_copy(update={"unit_from_catalogue": None})  # as older runs: "operator"

    async def _effects(self, action: str, cmd: ActionInput, closing: PartView | None = None) -> None:
        """What an action sets going outside this workflow: parts, links, duplicates."""
        if action == "request_parts":
            assert isinstance(cmd, collaboration.PartsRequestInput)  # each action's handler takes its type
            for unit in cmd.units:
                part = self._view.parts[part_key(cmd.kind, unit)]
                if part.open:  # a close_part may have overtaken the start
                    await self._start_part(part.model_copy(), cmd)
        elif action == "close_part":
            assert isinstance(cmd, collaboration.PartCloseRequestInput) and closing is not None  # held by _perform
            part = self._view.parts[part_key(cmd.kind, cmd.unit)]
            if part is not closing and self._patched(PART_ROUNDS):
                part = closing  # the unit was asked again meanwhile: its new part stays open
            await self._signal(part.workflow_id, "close", PartCloseInput(actor=cmd.actor, reason=cmd.reason))
        elif action == "link":
            assert isinstance(cmd, collaboration.LinkInput)
            await self._signal(
                f"appeal-{cmd.master_no}", "follower_linked", collaboration.FollowerLinked(appeal=self._view.appeal_no, kind=cmd.kind)
            )
        elif action == "complete":
            assert isinstance(cmd, AppealCompleteInput)
            for follower in self._view.followers:
                self._told.add(follower)
                await self._signal(
                    f"appeal-{follower}",
                    "master_done",
                    collaboration.MasterDone(master=self._view.appeal_no, result=cmd.result, unit=self._view.handling_unit),
                )

    async def _release_followers(self, reason: str) -> None:
        """Duplicates whose master closes without reporting done go back to the hotline."""
        for follower in self._view.followers:
            if follower not in self._told:
                self._told.add(follower)
                await self._signal(
                    f"appeal-{follower}", "master_released", collaboration.MasterReleased(master=self._view.appeal_no, reason=reason)
                )

    async def _signal(self, workflow_id: str, signal: str, arg: Any) -> bool:
        """Signal another workflow; False if it has already ended."""
        try:
            await workflow.get_external_workflow_handle(workflow_id).signal(signal, arg)
            return True
        except FailureError:  # it has ended (the server answers with a failure, not a crash)
            return False

    async def _start_part(self, part: PartView, cmd: collaboration.PartsRequestInput) -> None:
        assert self._view.handling_unit is not None, "only the handling unit asks for parts (checked)"
        inp = PartInput(
            appeal_no=self._view.appeal_no,
            parent_workflow_id=workflow.info().workflow_id,
            kind=part.kind,
            unit=part.unit,
            lead_unit=self._view.handling_unit,
            task=part.task,
            requested_at=part.requested_at,
            due=part.due,
            report_in_due=part.report_in_due,
            requested_by=cmd.actor,
            reminder_at_fraction=self._terms.reminder_at_fraction,
            district=self._view.district,
            street=self._view.street,
            category=self._view.category,
            urgency=self._view.urgency,
            names=self._names,
        )
        # what the UI's list and the appeal's history name the part by: `BJ-2026… · 协办 国网北京电力
        # (BJ-POWER) · 主办 北京市城市照明管理中心 (BJ-LIGHTING)` (codes where the intake knew no name)
        kind = display.PART_KIND_NAMES.get(part.kind, part.kind.value)
        lead = display.named(self._view.handling_unit, self._names)
        try:
            handle = await workflow.start_child_workflow(
                CoHandlingWorkflow.run,
                inp,
                id=part.workflow_id,
                # a part never outlives its appeal: closing the appeal cancels what is still open
                parent_close_policy=ParentClosePolicy.REQUEST_CANCEL,
                static_summary=f"{self._view.appeal_no} · {kind} {display.named(part.unit, self._names)} · 主办 {lead}",
            )
        except WorkflowAlreadyStartedError:
            self._view.parts[part_key(part.kind, part.unit)].status = PartStatus.FAILED
            await self._record([Draft(EventKind.PART_FAILED, None, part.unit, {"error": "its workflow id is taken"})])
            return
        self._watchers.append(asyncio.create_task(self._watch(part.kind, part.unit, handle)))

    async def _watch(self, kind: PartKind, unit: str, handle: workflow.ChildWorkflowHandle[Any, Any]) -> None:
        """A part's workflow ending badly never leaves the appeal stuck: the part is marked
        failed and the lead may close it or ask again."""
        try:
            await handle
        except ChildWorkflowError as e:
            part = self._view.parts.get(part_key(kind, unit))
            if part is not None and part.workflow_id != handle.id and self._patched(PART_ROUNDS):
                return  # an earlier round's workflow: the unit's part now is another one
            if part is not None and part.open:
                part.status = PartStatus.FAILED
                await self._record([Draft(EventKind.PART_FAILED, None, unit, {"error": str(e.cause or e)[:300]})])

    async def _signalled(self, action: str, cmd: ActionInput) -> None:
        try:
            if self._patched(REFUSE_IN_SIGNALS):
                # only the API scrubs free text, and signals come from elsewhere (CLI, UI)
                await workflow.wait_condition(lambda: self.view is not None)
                refuse_unscrubbed(cmd)
            await self._perform(action, cmd)
        except FailureError as e:
            await self._record([Draft(EventKind.REJECTED, cmd.actor, cmd.actor.unit, {"action": action, "reason": e.message})])

    async def _record(self, drafts: list[Draft]) -> None:
        """Number the events, project them with their notifications, keep the search
        attributes current."""
        view = self._view
        events, notices = numbered(view, drafts, workflow.now())
        self._wake_if_alarm_moved()
        failed, view.projection_failed = view.projection_failed, False  # as this projection would write it
        inp = ProjectionInput(view=view, events=events, notifications=notices)  # encoded now, when scheduled
        try:
            await self._project(inp)
        except FailureError as e:
            cause = projection_refused(e)
            if cause is None:
                raise
            view.projection_failed = True
            await self._record_refusal(events, notices, cause)
        else:
            if failed:
                workflow.logger.info("appeal %s: projected again after a refused projection", view.appeal_no)
        self._upsert_search_attributes()
        # what the UI shows as the run's current details (a query's answer, not a command)
        workflow.set_current_details(display.appeal_details(view, self._names, self._status_since, workflow.now()))

    async def _project(self, inp: ProjectionInput) -> None:
        await workflow.execute_local_activity_method(
            AppealActivities.project_appeal,
            inp,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=DB_RETRY,
            summary="record " + ", ".join(e.kind for e in inp.events),
        )

    async def _record_refusal(
        self, events: list[TimelineEvent], notices: list[NotificationDraft], cause: ApplicationError
    ) -> None:
        """PostgreSQL refused the projection (retrying cannot help): the workflow keeps its
        state and its timers, the timeline gets the events and a `projection_failed` event, the
        row is flagged; the next projection that succeeds catches the row up."""
        view = self._view
        workflow.logger.error("appeal %s: PostgreSQL refused the projection: %s", view.appeal_no, cause.message)
        view.seq += 1
        detail = {"error": cause.message[:300], "events": [e.kind for e in events]}
        events = [*events, TimelineEvent(seq=view.seq, kind=EventKind.PROJECTION_FAILED, at=workflow.now(), detail=detail)]
        try:
            await workflow.execute_local_activity_method(
                AppealActivities.record_timeline,
                ProjectionInput(view=view, events=events, notifications=notices, error=cause.message),
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=DB_RETRY,
                summary="record the timeline only: the projection was refused",
            )
        except FailureError as e:
            if projection_refused(e) is None:
                raise
            # not even the timeline: the search attribute and the log are what is left
            workflow.logger.error("appeal %s: PostgreSQL refused the timeline too: %s", view.appeal_no, e)

    def _wake_if_alarm_moved(self) -> None:
        """Re-arm the timer only when the next alarm is no longer the one it waits for: an
        accept or a phased report leaves the running limits alone, and cancelling and
        restarting the same timer would only lengthen the history."""
        if self._patched(KEEP_TIMER):
            moved = self._view.status is AppealStatus.CLOSED or self._next_alarm() != self._armed
        else:
            moved = True
        self.woken = self.woken or moved

    def _upsert_search_attributes(self) -> None:
        v = self._view
        wanted: dict[SearchAttributeKey[Any], Any] = {
            attrs.APPEAL_STATUS: v.status.value,
            attrs.HANDLING_UNIT: v.handling_unit,
            attrs.DISTRICT: v.district,
            attrs.STREET: v.street,
            attrs.CATEGORY: v.category,
            attrs.APPEAL_TYPE: v.appeal_type.value,
            attrs.URGENCY: v.urgency.value,
            attrs.REPLY_DEADLINE: self._reply_deadline(),
            attrs.OVERDUE: v.overdue,
        }
        if self._attrs.get(attrs.APPEAL_STATUS.name) != v.status.value:
            self._status_since = workflow.now()
        if self._status_since is not None:
            # changes only with the status, so it rides in the status's own upsert
            wanted[attrs.IN_STATUS_SINCE] = self._status_since
        upsert_changed(self._attrs, wanted, v.projection_failed)

    def _reply_deadline(self) -> datetime | None:
        deadline, older = self._view.reply_deadline, self._view.first_reply_deadline
        if deadline == older or self._patched(EARLIEST_DEADLINE):
            return deadline
        return older  # a recorded run's upserts follow the value it had

    # --- queries -------------------------------------------------------------------------
    @workflow.query(description="案件状态: the appeal as its workflow holds it (status, unit, limits, parts); read-only")
    def state(self) -> AppealView | None:
        return self.view

    @workflow.update(
        description="受理结果: the order as intake left it, once recorded in PostgreSQL (sent by the API with the start)"
    )
    async def intake_view(self) -> AppealView:
        """The order as intake left it (dispatched, answered, refused …), once it is recorded in
        PostgreSQL: sent with the start, so the operator sees at once where the order went."""
        await workflow.wait_condition(lambda: self.intake_recorded)
        return self._view

    # --- messages: an Update with its validator, and a Signal twin, per action -------------
    @workflow.update(description="派单: an operator sends a held order to the unit named, or by the dispatch catalogue")
    async def dispatch(self, cmd: AppealDispatchInput) -> AppealView:
        """派单: an operator dispatches a held order, to the unit named or by the catalogue."""
        return await self._perform("dispatch", cmd)

    @dispatch.validator
    def _v_dispatch(self, cmd: AppealDispatchInput) -> None:
        self._validate("dispatch", cmd)

    @workflow.signal(description=signal_twin("派单"))
    async def dispatch_signal(self, cmd: AppealDispatchInput) -> None:
        await self._signalled("dispatch", cmd)

    @workflow.update(description="即时答复: the operator answers a consultation on the spot")
    async def answer(self, cmd: AppealAnswerInput) -> AppealView:
        """即时答复: a consultation the operator answers; the citizen may still evaluate it."""
        return await self._perform("answer", cmd)

    @answer.validator
    def _v_answer(self, cmd: AppealAnswerInput) -> None:
        self._validate("answer", cmd)

    @workflow.signal(description=signal_twin("即时答复"))
    async def answer_signal(self, cmd: AppealAnswerInput) -> None:
        await self._signalled("answer", cmd)

    @workflow.update(description="接单: the unit dispatched to takes the order (首接负责制)")
    async def accept(self, cmd: AppealAcceptInput) -> AppealView:
        """接单: the unit dispatched to takes the order (首接负责制, first-receiver responsibility)."""
        return await self._perform("accept", cmd)

    @accept.validator
    def _v_accept(self, cmd: AppealAcceptInput) -> None:
        self._validate("accept", cmd)

    @workflow.signal(description=signal_twin("接单"))
    async def accept_signal(self, cmd: AppealAcceptInput) -> None:
        await self._signalled("accept", cmd)

    @workflow.update(description="管辖异议: the unit says the order is not its own, within the objection window")
    async def raise_objection(self, cmd: ObjectionRaiseInput) -> AppealView:
        """管辖异议: the unit's only way out of an order, within the objection window."""
        return await self._perform("raise_objection", cmd)

    @raise_objection.validator
    def _v_raise_objection(self, cmd: ObjectionRaiseInput) -> None:
        self._validate("raise_objection", cmd)

    @workflow.signal(description=signal_twin("管辖异议"))
    async def raise_objection_signal(self, cmd: ObjectionRaiseInput) -> None:
        await self._signalled("raise_objection", cmd)

    @workflow.update(
        description="异议审核: the hotline upholds the objection (re-dispatch) or rejects it (the order stays)"
    )
    async def review_objection(self, cmd: ObjectionReviewInput) -> AppealView:
        """The hotline upholds the objection (re-dispatch, clocks restart) or rejects it (the
        order stays with the unit)."""
        return await self._perform("review_objection", cmd)

    @review_objection.validator
    def _v_review_objection(self, cmd: ObjectionReviewInput) -> None:
        self._validate("review_objection", cmd)

    @workflow.signal(description=signal_twin("异议审核"))
    async def review_objection_signal(self, cmd: ObjectionReviewInput) -> None:
        await self._signalled("review_objection", cmd)

    @workflow.update(description="联系诉求人: the unit has contacted the citizen")
    async def record_contact(self, cmd: ContactRecordInput) -> AppealView:
        """联系诉求人: the unit has contacted the citizen (counts toward the response rate)."""
        return await self._perform("record_contact", cmd)

    @record_contact.validator
    def _v_record_contact(self, cmd: ContactRecordInput) -> None:
        self._validate("record_contact", cmd)

    @workflow.signal(description=signal_twin("联系诉求人"))
    async def record_contact_signal(self, cmd: ContactRecordInput) -> None:
        await self._signalled("record_contact", cmd)

    @workflow.update(description="阶段性报告: progress, why it is not finished yet, the expected date")
    async def phased_report(self, cmd: PhasedReportInput) -> AppealView:
        """阶段性报告: progress, the reason it is not finished, and the expected date."""
        return await self._perform("phased_report", cmd)

    @phased_report.validator
    def _v_phased_report(self, cmd: PhasedReportInput) -> None:
        self._validate("phased_report", cmd)

    @workflow.signal(description=signal_twin("阶段性报告"))
    async def phased_report_signal(self, cmd: PhasedReportInput) -> None:
        await self._signalled("phased_report", cmd)

    @workflow.update(description="延期申请: the unit asks for the complex-case limit")
    async def request_extension(self, cmd: ExtensionRequestInput) -> AppealView:
        """A complex case: the unit asks the hotline for the 15-day limit instead of 7."""
        return await self._perform("request_extension", cmd)

    @request_extension.validator
    def _v_request_extension(self, cmd: ExtensionRequestInput) -> None:
        self._validate("request_extension", cmd)

    @workflow.signal(description=signal_twin("延期申请"))
    async def request_extension_signal(self, cmd: ExtensionRequestInput) -> None:
        await self._signalled("request_extension", cmd)

    @workflow.update(description="延期审核: the hotline approves or rejects an extension")
    async def review_extension(self, cmd: ExtensionReviewInput) -> AppealView:
        """The hotline approves (completion limit recomputed from dispatch) or rejects."""
        return await self._perform("review_extension", cmd)

    @review_extension.validator
    def _v_review_extension(self, cmd: ExtensionReviewInput) -> None:
        self._validate("review_extension", cmd)

    @workflow.signal(description=signal_twin("延期审核"))
    async def review_extension_signal(self, cmd: ExtensionReviewInput) -> None:
        await self._signalled("review_extension", cmd)

    @workflow.update(description="办结反馈: the unit reports the result; the return visit starts")
    async def complete(self, cmd: AppealCompleteInput) -> AppealView:
        """办结反馈: the unit reports the result; the return visit starts."""
        return await self._perform("complete", cmd)

    @complete.validator
    def _v_complete(self, cmd: AppealCompleteInput) -> None:
        self._validate("complete", cmd)

    @workflow.signal(description=signal_twin("办结反馈"))
    async def complete_signal(self, cmd: AppealCompleteInput) -> None:
        await self._signalled("complete", cmd)

    @workflow.update(description="回访评价: the citizen's answer at the return visit (resolved? satisfied?)")
    async def evaluate(self, cmd: AppealEvaluateInput) -> AppealView:
        """回访评价: resolved or not, satisfied or not; unresolved goes back for re-handling."""
        return await self._perform("evaluate", cmd)

    @evaluate.validator
    def _v_evaluate(self, cmd: AppealEvaluateInput) -> None:
        self._validate("evaluate", cmd)

    @workflow.signal(description=signal_twin("回访评价"))
    async def evaluate_signal(self, cmd: AppealEvaluateInput) -> None:
        await self._signalled("evaluate", cmd)

    # --- many hands, supervision, transfers, links ------------------------------------------
    @workflow.update(
        description="协办/吹哨: the lead unit asks co-handling units for their part, or a street summons departments"
    )
    async def request_parts(self, cmd: collaboration.PartsRequestInput) -> AppealView:
        """协办 / 吹哨: the lead unit asks co-handling units for their part, or a street summons
        departments; each part runs as a child workflow with its own limit."""
        return await self._perform("request_parts", cmd)

    @request_parts.validator
    def _v_request_parts(self, cmd: collaboration.PartsRequestInput) -> None:
        self._validate("request_parts", cmd)

    @workflow.signal(description=signal_twin("协办/吹哨"))
    async def request_parts_signal(self, cmd: collaboration.PartsRequestInput) -> None:
        await self._signalled("request_parts", cmd)

    @workflow.update(description="关闭协办: the lead unit closes a part that is not done, with the reason")
    async def close_part(self, cmd: collaboration.PartCloseRequestInput) -> AppealView:
        """The lead unit closes a part that is not done, with a recorded reason."""
        return await self._perform("close_part", cmd)

    @close_part.validator
    def _v_close_part(self, cmd: collaboration.PartCloseRequestInput) -> None:
        self._validate("close_part", cmd)

    @workflow.signal(description=signal_twin("关闭协办"))
    async def close_part_signal(self, cmd: collaboration.PartCloseRequestInput) -> None:
        await self._signalled("close_part", cmd)

    @workflow.update(description="报到评价: the street rates a summoned department")
    async def rate_part(self, cmd: collaboration.PartRateInput) -> AppealView:
        """The street rates a summoned department (the dual assessment of 吹哨报到)."""
        return await self._perform("rate_part", cmd)

    @rate_part.validator
    def _v_rate_part(self, cmd: collaboration.PartRateInput) -> None:
        self._validate("rate_part", cmd)

    @workflow.signal(description=signal_twin("报到评价"))
    async def rate_part_signal(self, cmd: collaboration.PartRateInput) -> None:
        await self._signalled("rate_part", cmd)

    @workflow.update(description="督办: a supervisor's note, a new due time, or escalation to municipal supervision")
    async def supervise(self, cmd: collaboration.SuperviseInput) -> AppealView:
        """督办: a supervision note, a new limit, or an escalation to municipal supervision."""
        return await self._perform("supervise", cmd)

    @supervise.validator
    def _v_supervise(self, cmd: collaboration.SuperviseInput) -> None:
        self._validate("supervise", cmd)

    @workflow.signal(description=signal_twin("督办"))
    async def supervise_signal(self, cmd: collaboration.SuperviseInput) -> None:
        await self._signalled("supervise", cmd)

    @workflow.update(description="转办: an appeal about Tianjin or Hebei goes to that hotline and closes here")
    async def transfer_out(self, cmd: collaboration.TransferOutInput) -> AppealView:
        """京津冀: an appeal about Tianjin or Hebei goes to that hotline and closes here."""
        return await self._perform("transfer_out", cmd)

    @transfer_out.validator
    def _v_transfer_out(self, cmd: collaboration.TransferOutInput) -> None:
        self._validate("transfer_out", cmd)

    @workflow.signal(description=signal_twin("转办"))
    async def transfer_out_signal(self, cmd: collaboration.TransferOutInput) -> None:
        await self._signalled("transfer_out", cmd)

    @workflow.update(
        description="并案: this appeal follows a master appeal as its duplicate, or is recorded as related to it"
    )
    async def link(self, cmd: collaboration.LinkInput) -> AppealView:
        """A duplicate follows its master's handling (its citizen still gets a return visit);
        a related appeal is recorded as such on both timelines."""
        return await self._perform("link", cmd)

    @link.validator
    def _v_link(self, cmd: collaboration.LinkInput) -> None:
        self._validate("link", cmd)

    @workflow.signal(description=signal_twin("并案"))
    async def link_signal(self, cmd: collaboration.LinkInput) -> None:
        await self._signalled("link", cmd)

    # --- signals from other workflows ------------------------------------------------------
    @workflow.signal(
        description="sent by a part's workflow (协办/吹哨): its change, for the appeal's timeline; not for people"
    )
    async def part_changed(self, change: PartChange) -> None:
        """A part's workflow reports a change; the appeal keeps the timeline."""
        await workflow.wait_condition(lambda: self.view is not None)
        key = part_key(change.part.kind, change.part.unit)
        known = self._view.parts.get(key)
        part = change.part
        if known is not None and part.workflow_id != known.workflow_id and self._patched(PART_ROUNDS):
            await self._stale_part_message(change, known)
            return
        if known is not None:
            if known.status is PartStatus.CLOSED and part.status is not PartStatus.CLOSED:
                return  # closed here (by the lead or with the appeal); late news changes nothing
            if known.status is PartStatus.CLOSED and change.event == EventKind.PART_CLOSED and self._patched(PART_CLOSE_TOLD_ONCE):
                return  # the part's echo of a close made here: it is on the timeline already
            part = part.model_copy(update={"rating": known.rating, "rating_comment": known.rating_comment})
        self._view.parts[key] = part
        if self._view.status is not AppealStatus.CLOSED:
            await self._record([Draft(change.event, change.actor, part.unit, change.detail)])

    async def _stale_part_message(self, change: PartChange, current: PartView) -> None:
        """A message from an earlier round of the unit's part (the lead closed it and asked the
        unit again before the message came): it changes nothing. Recorded on the timeline, so an
        auditor sees what the old round did late; the echo of the lead's own close is not, that
        close is on the timeline already."""
        old = change.part
        workflow.logger.info(
            "appeal %s: ignored %s from round %s of %s's part (round %s is current)",
            self._view.appeal_no, change.event, old.round, old.unit, current.round,
        )
        if change.event == EventKind.PART_CLOSED or self._view.status is AppealStatus.CLOSED:
            return
        detail = {"event": change.event, "round": old.round, "current_round": current.round}
        await self._record([Draft(EventKind.STALE_PART_MESSAGE, change.actor, old.unit, detail)])

    @workflow.signal(description="sent by a duplicate's workflow: it now follows this appeal; not for people")
    async def follower_linked(self, note: collaboration.FollowerLinked) -> None:
        await workflow.wait_condition(lambda: self.view is not None)
        if note.kind == "duplicate" and self._view.status not in collaboration.TAKES_DUPLICATES:
            # it will not report done (any more): the duplicate must not wait for it
            await self._signal(
                f"appeal-{note.appeal}",
                "master_released",
                collaboration.MasterReleased(master=self._view.appeal_no, reason=f"the master appeal is {self._view.status.value}"),
            )
            return
        if self._view.status is not AppealStatus.CLOSED:
            await self._record(collaboration.follower_linked(self._view, note.appeal, note.kind))

    @workflow.signal(
        description="sent by the master appeal: it ended without reporting done, so this duplicate goes back to the hotline; not for people"
    )
    async def master_released(self, note: collaboration.MasterReleased) -> None:
        await workflow.wait_condition(lambda: self.view is not None)
        await self._record(collaboration.master_released(self._view, note.master, note.reason))

    @workflow.signal(
        description="sent by the master appeal: it reported done, and this duplicate follows; not for people"
    )
    async def master_done(self, note: collaboration.MasterDone) -> None:
        await workflow.wait_condition(lambda: self.view is not None)
        await self._record(collaboration.master_done(self._view, note.master, note.result, note.unit, workflow.now(), self._terms))

"""Governance tasks and the monthly analysis on the time-skipping server, against the real (test)
PostgreSQL; the real Schedules on the dev server.

The time-skipping server does not implement Schedules (CreateSchedule is `unimplemented`), so
there the inspections are driven exactly as the Schedule's action drives them — by starting
GovernanceInspectionWorkflow, which signals the task — and the two activities that talk to the
Schedule API are stand-ins that record their calls. `test_the_real_schedule_*` proves the real
Schedule on the dev server: created with the task, fires (`trigger()`), deleted at closure.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
import pytest_asyncio
import sqlalchemy as sa
from temporalio import activity
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from activities.governance import (
    GovernanceActivities,
    GovernanceProjectionInput,
    InspectionScheduleInput,
    inspection_schedule,
)
from db import governance as store
from db.models import GovernanceTask
from db.session import session_factory, session_scope
from domain.calendar import CHINA_TZ
from domain.governance import (
    FindingRecordInput,
    GovernanceTaskView,
    GovernanceTerms,
    InspectionTrigger,
    MonthlyAnalysisInput,
    RoundOutcome,
    TaskCancelInput,
    TaskSource,
    TaskStatus,
    month_closed_before,
    schedule_id,
)
from domain.messages import Actor
from domain.types import Role
from infra.governance import start_task_workflow
from infra.schedules import MONTHLY_ANALYSIS, ensure_schedules
from tests.workflows.conftest import record_intake, search_attributes
from worker import WORKFLOWS, activities_for
from workflows.analysis import MonthlyAnalysisWorkflow
from workflows.governance import GovernanceInspectionWorkflow, GovernanceTaskWorkflow

SUPERVISOR = Actor(user="sup-li", role=Role.SUPERVISOR)
LIGHTING = Actor(user="chen", role=Role.UNIT_STAFF, unit="BJ-LIGHTING")
STREET = "110101-ANDINGMEN"
PLACE = "方家胡同"
FAKED = {"schedule_inspections", "remove_inspection_schedule", "freeze_month"}


def _name(fn) -> str:
    return activity._Definition.must_from_callable(fn).name


@dataclass
class Calls:
    """What the stand-ins were asked to do."""

    scheduled: list[InspectionScheduleInput] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    frozen: list[str] = field(default_factory=list)
    freeze_fails: bool = False


def stand_ins(calls: Calls) -> list:
    @activity.defn(name="schedule_inspections")
    async def schedule_inspections(inp: InspectionScheduleInput) -> str:
        calls.scheduled.append(inp)
        return schedule_id(inp.task_id)

    @activity.defn(name="remove_inspection_schedule")
    async def remove_inspection_schedule(task_id: int) -> bool:
        calls.removed.append(task_id)
        return True

    @activity.defn(name="freeze_month")
    async def freeze_month(month: str) -> int:
        calls.frozen.append(month)
        if calls.freeze_fails:
            from temporalio.exceptions import ApplicationError

            raise ApplicationError("the assessment tables are locked", non_retryable=True)
        return 42

    return [schedule_inspections, remove_inspection_schedule, freeze_month]


def governance_worker(client: Client, engine, settings, task_queue: str, calls: Calls) -> Worker:
    """The project's workflows and activities, with the Schedule API and the assessment's
    freeze replaced by recorders."""
    real = [a for a in activities_for(engine, settings) if _name(a) not in FAKED]
    return Worker(client, task_queue=task_queue, workflows=WORKFLOWS, activities=real + stand_ins(calls))


@dataclass
class Gov:
    env: object
    client: Client
    engine: object
    task_queue: str
    calls: Calls
    handles: list[WorkflowHandle] = field(default_factory=list)

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def task(self, **over) -> WorkflowHandle:
        """Write a task the way the API does, then start its workflow."""
        terms = over.pop("terms", GovernanceTerms(interval_days=14, quiet_days=60, clean_inspections=3))
        draft = store.TaskDraft(
            title="方家胡同路灯反复不亮",
            category="MUNI.STREETLIGHT",
            owner_unit="BJ-LIGHTING",
            created_by=SUPERVISOR,
            terms=terms,
            source=TaskSource.RECURRING,
            district="110101",
            street=STREET,
            address=PLACE,
            **over,
        )
        async with session_scope(self.engine) as session:
            row = await store.add_task(session=session, draft=draft)
            # the workflow's clock is the time-skipping server's, ahead of the database's
            row.created_at = await self.now()
            session.add(row)
        handle = await start_task_workflow(self.client, self.task_queue, store.task_input(row))
        self.handles.append(handle)
        await until(handle, lambda v: v.seq >= 1)
        return handle

    async def inspect(self, handle: WorkflowHandle, after: timedelta | None = None) -> GovernanceTaskView:
        """What the Schedule does at each firing: start the small workflow that signals the task."""
        if after:
            await self.env.sleep(after)
        before = len((await handle.query(GovernanceTaskWorkflow.state)).inspections)
        took = await self.client.execute_workflow(
            GovernanceInspectionWorkflow.run,
            InspectionTrigger(task_id=task_id(handle)),
            id=f"{handle.id}-inspection-{uuid.uuid4().hex[:6]}",
            task_queue=self.task_queue,
        )
        assert took
        return await until(
            handle, lambda v: len(v.inspections) > before and v.inspections[-1].new_appeals is not None
        )

    async def appeal_at(self, at: datetime, street: str = STREET, category: str = "MUNI.STREETLIGHT",
                        address: str = f"{PLACE} 3 号") -> str:
        """An appeal received at `at` (on the workflow's clock) at the place."""
        inp = await record_intake(self.engine, street=street, category=category)
        async with self.engine.begin() as conn:
            await conn.execute(
                sa.text("UPDATE appeal SET received_at = :at, location_address = :addr WHERE appeal_no = :n"),
                {"at": at, "addr": address, "n": inp.appeal_no},
            )
        return inp.appeal_no


def task_id(handle: WorkflowHandle) -> int:
    return int(handle.id.removeprefix("governance-"))


async def until(handle: WorkflowHandle, predicate, timeout: float = 10) -> GovernanceTaskView:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        view = await handle.query(GovernanceTaskWorkflow.state)
        if predicate(view):
            return view
        assert asyncio.get_running_loop().time() < deadline, f"condition not met; last state: {view}"
        await asyncio.sleep(0.05)


def found(present: bool, note: str = "checked the lamps on site", actor: Actor = LIGHTING, **kw) -> FindingRecordInput:
    return FindingRecordInput(actor=actor, problem_present=present, note=note, **kw)


async def refused(handle, update, cmd) -> tuple[str, str]:
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await handle.execute_update(update, cmd)
    return e.value.cause.details[0]["code"], e.value.cause.message


async def rows(engine, task: int) -> tuple[dict, list[dict]]:
    async with engine.connect() as conn:
        t = (await conn.execute(sa.text("SELECT * FROM governance_task WHERE id = :i"), {"i": task})).mappings().one()
        i = (
            await conn.execute(
                sa.text("SELECT * FROM governance_inspection WHERE task_id = :i ORDER BY round"), {"i": task}
            )
        ).mappings().all()
    return dict(t), [dict(r) for r in i]


@pytest_asyncio.fixture
async def gov(ts_env, engine, settings, task_queue) -> AsyncIterator[Gov]:
    calls = Calls()
    async with governance_worker(ts_env.client, engine, settings, task_queue, calls):
        g = Gov(ts_env, ts_env.client, engine, task_queue, calls)
        yield g
        await settle(g.handles)


async def settle(handles: list[WorkflowHandle]) -> None:
    """Nothing left waiting on the shared time-skipping server, which cannot skip time while an
    activity is outstanding: an ended task finishes (deleting its schedule) while the worker is
    still there; one still running is terminated (it waits for messages, not for an activity)."""
    for handle in handles:
        try:
            if (await handle.query(GovernanceTaskWorkflow.state)).status is not TaskStatus.ACTIVE:
                await asyncio.wait_for(handle.result(), 10)
                continue
        except Exception:  # ended already, failed or terminated: nothing to wait for
            pass
        try:
            await handle.terminate("test finished")
        except RPCError:
            pass


DAY = timedelta(days=1)


async def test_a_task_runs_through_its_inspections_to_closure_and_a_recurrence_resets_the_quiet_period(gov):
    handle = await gov.task()
    tid = task_id(handle)
    view = await handle.query(GovernanceTaskWorkflow.state)
    assert (view.status, view.quiet_since, view.next_inspection) == (
        TaskStatus.ACTIVE, view.created_at, view.created_at + 14 * DAY)
    assert [(s.task_id, s.interval_days, s.created_at) for s in gov.calls.scheduled] == [(tid, 14, view.created_at)]
    row, _ = await rows(gov.engine, tid)
    assert (row["status"], row["seq"]) == ("active", 1)

    # round 1 (day 14): no appeal; the unit finds the lamps working → clean
    r1 = await gov.inspect(handle, after=14 * DAY)
    assert (r1.inspections[0].new_appeals, r1.inspections[0].outcome) == (0, RoundOutcome.PENDING)
    assert r1.finding_due == r1.inspections[0].at + 14 * DAY
    assert (await search_attributes(handle))["ReplyDeadline"] is not None  # the unit owes its finding
    v = await handle.execute_update(GovernanceTaskWorkflow.record_finding, found(False, "all 12 lamps lit"))
    assert (v.inspections[0].outcome, v.clean_streak, v.finding_due) == (RoundOutcome.CLEAN, 1, None)

    # between rounds 1 and 2 the weeds grow back: an appeal at the place → recurred, quiet restarts
    at1 = v.inspections[0].at
    back = await gov.appeal_at(at1 + 3 * DAY)
    await gov.appeal_at(at1 + 4 * DAY, street="110101-JINGSHAN")  # another street: not this place
    await gov.appeal_at(at1 + 5 * DAY, category="CITY.GARBAGE")  # another problem
    await gov.appeal_at(at1 + 6 * DAY, address="北锣鼓巷 8 号")  # the same street, another address
    r2 = await gov.inspect(handle, after=14 * DAY)
    second = r2.inspections[1]
    assert (second.new_appeals, second.appeal_nos, second.outcome) == (1, [back], RoundOutcome.RECURRED)
    assert (r2.quiet_since, r2.clean_streak) == (second.at, 0)
    v = await handle.execute_update(GovernanceTaskWorkflow.record_finding, found(False, "replaced the cable"))
    assert v.inspections[1].outcome is RoundOutcome.RECURRED  # the appeal stands, whatever the unit saw

    # rounds 3–6: clean, but the quiet period (60 days from round 2) is not over until round 7
    for n in range(3, 8):
        v = await gov.inspect(handle, after=14 * DAY)
        v = await handle.execute_update(GovernanceTaskWorkflow.record_finding, found(False))
        if n < 7:
            assert (v.status, v.clean_streak) == (TaskStatus.ACTIVE, n - 2), n
    assert v.status is TaskStatus.CLOSED
    assert (v.inspections[-1].at - v.quiet_since).days == 70 and v.clean_streak == 5
    assert "70 days" in v.close_reason and v.closed_by == "schedule"

    result = await handle.result()
    assert result.status is TaskStatus.CLOSED and len(result.inspections) == 7
    assert gov.calls.removed == [tid]  # the schedule goes with the task
    row, inspections = await rows(gov.engine, tid)
    assert (row["status"], row["inspections"], row["clean_streak"], row["closed_by"]) == ("closed", 7, 5, "schedule")
    assert row["quiet_since"] == second.at
    assert [i["outcome"] for i in inspections] == ["clean", "recurred"] + ["clean"] * 5
    assert inspections[1]["appeal_nos"] == [back] and inspections[0]["finding_note"] == "all 12 lamps lit"
    assert inspections[0]["finding_by"] == "chen"

    # a firing that overtakes the schedule's deletion finds the task ended, and says so
    late = await gov.client.execute_workflow(
        GovernanceInspectionWorkflow.run, InspectionTrigger(task_id=tid), id=f"late-{tid}", task_queue=gov.task_queue
    )
    assert late is False


async def test_the_unit_seeing_the_problem_resets_the_quiet_period(gov):
    handle = await gov.task(terms=GovernanceTerms(interval_days=7, quiet_days=14, clean_inspections=2))
    await gov.inspect(handle, after=7 * DAY)
    v = await handle.execute_update(GovernanceTaskWorkflow.record_finding, found(True, "two lamps out again"))
    assert (v.inspections[0].outcome, v.quiet_since, v.clean_streak) == (
        RoundOutcome.RECURRED, v.inspections[0].finding_at, 0)
    for _ in range(2):  # 7 and 14 days after: two clean rounds and 14 quiet days
        await gov.inspect(handle, after=7 * DAY)
        v = await handle.execute_update(GovernanceTaskWorkflow.record_finding, found(False))
    assert v.status is TaskStatus.CLOSED


async def test_a_round_without_the_units_finding_breaks_the_streak(gov):
    handle = await gov.task(terms=GovernanceTerms(interval_days=7, quiet_days=0, clean_inspections=2))
    await gov.inspect(handle, after=7 * DAY)
    await handle.execute_update(GovernanceTaskWorkflow.record_finding, found(False))
    await gov.inspect(handle, after=7 * DAY)  # the unit never looks on site this time
    v = await gov.inspect(handle, after=7 * DAY)
    assert [i.outcome for i in v.inspections] == [RoundOutcome.CLEAN, RoundOutcome.UNCONFIRMED, RoundOutcome.PENDING]
    assert v.clean_streak == 0 and v.quiet_since == v.created_at  # nothing says the problem came back
    assert (await search_attributes(handle))["Overdue"] is True
    v = await handle.execute_update(GovernanceTaskWorkflow.record_finding, found(False))
    assert (v.status, v.clean_streak) == (TaskStatus.ACTIVE, 1)  # one clean round is not two
    await gov.inspect(handle, after=7 * DAY)
    v = await handle.execute_update(GovernanceTaskWorkflow.record_finding, found(False))
    assert v.status is TaskStatus.CLOSED
    _, inspections = await rows(gov.engine, task_id(handle))
    assert [i["outcome"] for i in inspections] == ["clean", "unconfirmed", "clean", "clean"]


async def test_findings_are_refused_for_the_wrong_caller_round_or_moment(gov):
    handle = await gov.task()
    code, message = await refused(handle, GovernanceTaskWorkflow.record_finding, found(False))
    assert code == "wrong_state" and "no inspection is open" in message
    await gov.inspect(handle, after=14 * DAY)
    water = Actor(user="w", role=Role.UNIT_STAFF, unit="BJ-WATER")
    assert (await refused(handle, GovernanceTaskWorkflow.record_finding, found(False, actor=water)))[0] == "wrong_unit"
    operator = Actor(user="op", role=Role.OPERATOR)
    assert (await refused(handle, GovernanceTaskWorkflow.record_finding, found(False, actor=operator)))[0] == "forbidden"
    assert (await refused(handle, GovernanceTaskWorkflow.record_finding, found(False, note="   ")))[0] == "invalid"
    assert (await refused(handle, GovernanceTaskWorkflow.record_finding, found(False, round=2)))[0] == "wrong_state"
    await handle.execute_update(GovernanceTaskWorkflow.record_finding, found(False, round=1))
    code, message = await refused(handle, GovernanceTaskWorkflow.record_finding, found(True))
    assert code == "wrong_state" and "already" in message
    # the signal twin goes through the same checks: a refused one changes nothing
    await handle.signal(GovernanceTaskWorkflow.record_finding_signal, found(True, actor=water))
    await handle.signal(GovernanceTaskWorkflow.cancel_signal, TaskCancelInput(actor=LIGHTING, reason="not ours"))
    v = await handle.query(GovernanceTaskWorkflow.state)
    assert (v.status, v.inspections[0].finding_present, v.clean_streak) == (TaskStatus.ACTIVE, False, 1)


async def test_a_supervisor_cancels_with_a_reason(gov):
    handle = await gov.task()
    await gov.inspect(handle, after=14 * DAY)
    assert (await refused(handle, GovernanceTaskWorkflow.cancel, TaskCancelInput(actor=LIGHTING, reason="x")))[0] == "forbidden"
    blank = TaskCancelInput(actor=SUPERVISOR, reason=" ")
    assert (await refused(handle, GovernanceTaskWorkflow.cancel, blank))[0] == "invalid"
    v = await handle.execute_update(
        GovernanceTaskWorkflow.cancel, TaskCancelInput(actor=SUPERVISOR, reason="merged into task for the whole hutong")
    )
    assert (v.status, v.closed_by, v.close_reason) == (TaskStatus.CANCELLED, "sup-li", "merged into task for the whole hutong")
    assert (await handle.result()).status is TaskStatus.CANCELLED
    assert gov.calls.removed == [task_id(handle)]
    row, _ = await rows(gov.engine, task_id(handle))
    assert (row["status"], row["closed_by"]) == ("cancelled", "sup-li")
    with pytest.raises(RPCError) as e:  # ended: nothing more to do
        await handle.execute_update(GovernanceTaskWorkflow.cancel, TaskCancelInput(actor=SUPERVISOR, reason="again"))
    assert e.value.status == RPCStatusCode.NOT_FOUND


async def test_a_cancel_signal_ends_the_task_too(gov):
    handle = await gov.task()
    await handle.signal(GovernanceTaskWorkflow.cancel_signal, TaskCancelInput(actor=SUPERVISOR, reason="duplicate task"))
    assert (await handle.result()).status is TaskStatus.CANCELLED


async def test_a_continued_run_carries_the_task_on(gov):
    """What continue-as-new hands over (a long task's history grows with every round): the view
    carries on, without a second schedule or a second first record."""
    handle = await gov.task(terms=GovernanceTerms(interval_days=7, quiet_days=7, clean_inspections=2))
    await gov.inspect(handle, after=7 * DAY)
    view = await handle.execute_update(GovernanceTaskWorkflow.record_finding, found(False))
    inp = store.task_input(await store_row(gov.engine, task_id(handle))).model_copy(update={"carried": view})
    await handle.terminate("continued as new")  # as the old run ends
    scheduled = len(gov.calls.scheduled)
    again = await gov.client.start_workflow(
        GovernanceTaskWorkflow.run, inp, id=handle.id, task_queue=gov.task_queue)
    gov.handles.append(again)
    v = await gov.inspect(again, after=7 * DAY)
    assert [i.round for i in v.inspections] == [1, 2] and v.inspections[1].since == view.inspections[0].at
    v = await again.execute_update(GovernanceTaskWorkflow.record_finding, found(False))
    assert (v.status, v.clean_streak) == (TaskStatus.CLOSED, 2)
    assert len(gov.calls.scheduled) == scheduled
    row, inspections = await rows(gov.engine, task_id(handle))
    assert (row["status"], [i["outcome"] for i in inspections]) == ("closed", ["clean", "clean"])


async def store_row(engine, tid: int) -> GovernanceTask:
    async with session_factory(engine)() as session:
        return await session.get(GovernanceTask, tid)


async def test_the_projection_never_goes_backwards(gov, settings):
    """A replayed or retried projection (an older seq) leaves the row and the rounds alone."""

    handle = await gov.task()
    await gov.inspect(handle, after=14 * DAY)
    v = await handle.execute_update(GovernanceTaskWorkflow.record_finding, found(False))
    stale = v.model_copy(update={"seq": 2, "clean_streak": 0, "inspections": []})
    old = v.inspections[0].model_copy(update={"outcome": RoundOutcome.PENDING, "finding_at": None})
    acts = GovernanceActivities(gov.engine, settings)
    moved = await acts.project_task(
        GovernanceProjectionInput(view=stale, rounds=1, last_inspection_at=old.at, inspections=[old])
    )
    assert moved is False
    row, inspections = await rows(gov.engine, task_id(handle))
    assert (row["seq"], row["clean_streak"], inspections[0]["outcome"]) == (v.seq, 1, "clean")


# --- the monthly analysis ------------------------------------------------------------------


async def test_the_monthly_analysis_freezes_the_month_then_proposes_its_themes(gov, engine):
    """A month of its own, far from the other tests' appeals (the time-skipping server's clock runs
    years ahead over a session, so the near future is not empty): street lights in Dongcheng went
    from 1 to 4 appeals; it is the largest and the fastest-rising problem."""
    nos = [await gov.appeal_at(datetime.fromisoformat(f"2091-03-{d:02d}T10:00:00+08:00")) for d in (3, 9, 17, 28)]
    await gov.appeal_at(datetime.fromisoformat("2091-02-11T10:00:00+08:00"))
    result = await gov.client.execute_workflow(
        MonthlyAnalysisWorkflow.run, MonthlyAnalysisInput(month="2091-03"), id=f"analysis-{uuid.uuid4().hex[:6]}",
        task_queue=gov.task_queue,
    )
    assert (result.month, result.frozen_appeals, result.candidates) == ("2091-03", 42, 1)
    assert gov.calls.frozen == ["2091-03"]  # the name contract: "freeze_month", "YYYY-MM" → int
    async with engine.connect() as conn:
        stored = (
            await conn.execute(sa.text("SELECT * FROM theme_candidate WHERE month = '2091-03-01' ORDER BY rank"))
        ).mappings().all()
    top = stored[0]
    assert (top["category_code"], top["district_code"], top["count"], top["previous"], top["change"]) == (
        "MUNI.STREETLIGHT", "110101", 4, 1, 3)
    assert set(top["reasons"]) == {"largest", "rising"} and set(top["examples"]) <= set(nos)
    # a re-run gives the month the same proposal, not a second one
    again = await gov.client.execute_workflow(
        MonthlyAnalysisWorkflow.run, MonthlyAnalysisInput(month="2091-03"), id=f"analysis-{uuid.uuid4().hex[:6]}",
        task_queue=gov.task_queue,
    )
    async with engine.connect() as conn:
        count = await conn.scalar(sa.text("SELECT count(*) FROM theme_candidate WHERE month = '2091-03-01'"))
    assert again.candidates == count == len(stored)


async def test_a_failed_freeze_still_proposes_and_fails_the_run(gov):
    gov.calls.freeze_fails = True
    with pytest.raises(WorkflowFailureError) as e:
        await gov.client.execute_workflow(
            MonthlyAnalysisWorkflow.run, MonthlyAnalysisInput(month="2026-10"), id=f"analysis-{uuid.uuid4().hex[:6]}",
            task_queue=gov.task_queue,
        )
    assert "themes proposed, but the freeze failed" in str(e.value.cause)
    with pytest.raises(WorkflowFailureError) as e:
        await gov.client.execute_workflow(
            MonthlyAnalysisWorkflow.run, MonthlyAnalysisInput(month="2026-13"), id=f"analysis-{uuid.uuid4().hex[:6]}",
            task_queue=gov.task_queue,
        )
    assert "not a month" in str(e.value.cause)


def test_the_inspection_schedule_fires_on_the_tasks_own_rhythm():
    created = datetime.fromisoformat("2026-11-22T10:17:00+08:00")
    schedule = inspection_schedule(InspectionScheduleInput(task_id=7, interval_days=14, created_at=created), "q")
    every = schedule.spec.intervals[0]
    epoch = datetime.fromisoformat("1970-01-01T00:00:00+00:00")
    assert every.every == 14 * DAY and (created + 14 * DAY - epoch - every.offset) % every.every == timedelta(0)
    assert schedule.spec.start_at > created
    assert schedule.action.workflow == "GovernanceInspectionWorkflow" and schedule.action.id == "governance-7-inspection"


# --- the real Schedules, on the dev server -------------------------------------------------


@pytest_asyncio.fixture
async def dev_gov(dev_env, engine, settings, task_queue) -> AsyncIterator[Gov]:
    """On the dev server: the real activities, real Schedules (only the assessment's freeze is a
    stand-in: it belongs to the assessment's tests)."""
    calls = Calls()
    real = [a for a in activities_for(engine, settings) if _name(a) != "freeze_month"]
    stand_in = [a for a in stand_ins(calls) if _name(a) == "freeze_month"]
    async with Worker(dev_env.client, task_queue=task_queue, workflows=WORKFLOWS, activities=real + stand_in):
        g = Gov(dev_env, dev_env.client, engine, task_queue, calls)
        yield g
        await settle(g.handles)


async def _schedule_gone(client: Client, sid: str) -> bool:
    try:
        await client.get_schedule_handle(sid).describe()
    except RPCError as e:
        return e.status == RPCStatusCode.NOT_FOUND
    return False


async def test_the_real_schedule_is_created_fires_and_is_removed_at_closure(dev_gov):
    handle = await dev_gov.task(terms=GovernanceTerms(interval_days=14, quiet_days=0, clean_inspections=1))
    sid = schedule_id(task_id(handle))
    deadline = asyncio.get_running_loop().time() + 10
    while True:  # the task's first activity creates it
        try:
            desc = await dev_gov.client.get_schedule_handle(sid).describe()
            break
        except RPCError:
            assert asyncio.get_running_loop().time() < deadline, "no schedule"
            await asyncio.sleep(0.1)
    assert desc.schedule.spec.intervals[0].every == 14 * DAY
    assert desc.schedule.action.task_queue == dev_gov.task_queue
    first = desc.info.next_action_times[0]
    view = await handle.query(GovernanceTaskWorkflow.state)
    assert abs((first - (view.created_at + 14 * DAY)).total_seconds()) < 1  # on the task's rhythm

    await dev_gov.client.get_schedule_handle(sid).trigger()  # what the API's "inspect now" does
    view = await until(handle, lambda v: v.inspections and v.inspections[0].new_appeals is not None, timeout=20)
    assert view.inspections[0].outcome is RoundOutcome.PENDING
    desc = await dev_gov.client.get_schedule_handle(sid).describe()
    assert desc.info.num_actions == 1
    await handle.execute_update(GovernanceTaskWorkflow.record_finding, found(False))
    assert (await handle.result()).status is TaskStatus.CLOSED
    assert await _schedule_gone(dev_gov.client, sid)


async def test_the_real_schedule_goes_with_a_cancelled_task(dev_gov):
    handle = await dev_gov.task()
    sid = schedule_id(task_id(handle))
    await until(handle, lambda v: True)
    await handle.execute_update(GovernanceTaskWorkflow.cancel, TaskCancelInput(actor=SUPERVISOR, reason="test"))
    await handle.result()
    assert await _schedule_gone(dev_gov.client, sid)


async def test_the_monthly_schedule_is_ensured_idempotently_and_runs_the_analysis(dev_gov, settings):
    client = dev_gov.client
    local = settings.model_copy(update={"temporal_task_queue": dev_gov.task_queue})
    first = await ensure_schedules(client, local)
    await client.get_schedule_handle(MONTHLY_ANALYSIS).pause(note="paused by an administrator")
    again = await ensure_schedules(client, local)
    assert first[MONTHLY_ANALYSIS] in ("created", "updated") and again == {MONTHLY_ANALYSIS: "updated"}
    handle = client.get_schedule_handle(MONTHLY_ANALYSIS)
    desc = await handle.describe()
    assert desc.schedule.state.paused  # an administrator's pause survives a restart
    cal = desc.schedule.spec.calendars[0]
    assert (cal.day_of_month[0].start, cal.hour[0].start, cal.minute[0].start) == (1, 2, 0)
    assert desc.schedule.spec.time_zone_name == "Asia/Shanghai"
    await handle.unpause()
    nxt = (await handle.describe()).info.next_action_times[0].astimezone(CHINA_TZ)
    assert (nxt.day, nxt.hour, nxt.minute) == (1, 2, 0)  # 02:00 Beijing time on the 1st
    await handle.trigger()
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        desc = await handle.describe()
        runs = desc.info.recent_actions
        if runs:
            result = await client.get_workflow_handle_for(MonthlyAnalysisWorkflow.run, runs[-1].action.workflow_id).result()
            break
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.2)
    assert result.month == month_closed_before(datetime.now().astimezone()) and result.frozen_appeals == 42
    await handle.delete()


async def test_a_cancel_with_a_phone_in_its_reason_is_refused(gov):
    """Only the API scrubs free text; a signal or update sent from the Temporal CLI or UI with a
    phone or ID number in it changes nothing (the signal's refusal is logged, not its text)."""
    handle = await gov.task()
    typed = TaskCancelInput(actor=SUPERVISOR, reason="居民刘先生（１３９ 1234 5678）说已修好")
    code, message = await refused(handle, GovernanceTaskWorkflow.cancel, typed)
    assert code == "invalid" and message.startswith("reason: ") and "5678" not in message
    await handle.signal(GovernanceTaskWorkflow.cancel_signal, typed)
    await handle.signal(GovernanceTaskWorkflow.cancel_signal, TaskCancelInput(actor=SUPERVISOR, reason="duplicate task"))
    result = await handle.result()
    assert (result.status, result.close_reason) == (TaskStatus.CANCELLED, "duplicate task")

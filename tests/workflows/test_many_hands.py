"""Many hands on the time-skipping server: co-handling parts as child workflows, whistle-summoning,
supervision, transfers out, duplicates and related appeals, notifications."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from temporalio.client import WorkflowUpdateFailedError

from domain import collaboration as more
from domain.messages import (
    Actor,
    AppealAcceptInput,
    AppealCompleteInput,
    AppealEvaluateInput,
    AppealStatus,
    ContactRecordInput,
    Outcome,
    PartAcceptInput,
    PartDeclineInput,
    PartDeclineReviewInput,
    PartKind,
    PartReportInput,
    PartStatus,
    PhasedReportInput,
    Satisfaction,
    part_workflow_id,
)
from domain.types import Role
from tests.workflows.conftest import OPERATOR, staff, until
from workflows.appeal import AppealWorkflow
from workflows.cohandling import CoHandlingWorkflow

YAYUNCUN = "110105-YAYUNCUN"
DEPARTMENTS = ["110105-CGW", "110105-ZJW", "110105-YLLH", "110105-DLYH"]
SUPERVISOR = Actor(user="sup", role=Role.SUPERVISOR)


async def accepted_by(run, unit: str, **over):
    handle = await run.start(unit=unit, **over)
    await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    await handle.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=staff(unit)))
    await handle.execute_update(AppealWorkflow.record_contact, ContactRecordInput(actor=staff(unit)))
    return handle


def part_handle(run, handle, kind, unit):
    no = handle.id.removeprefix("appeal-")
    return run.client.get_workflow_handle_for(CoHandlingWorkflow.run, part_workflow_id(no, kind, unit))


async def refused(handle, update, cmd) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await handle.execute_update(update, cmd)
    return e.value.cause.message


async def kinds(engine, appeal_no):
    async with engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT kind FROM appeal_event WHERE appeal_no = :n ORDER BY seq"), {"n": appeal_no})
        return [r[0] for r in rows]


async def test_co_handling_parts_must_be_done_or_closed_before_the_lead_completes(run, engine):
    lead = "110105-CGW"
    handle = await accepted_by(run, lead, category="MUNI.ROAD", street=YAYUNCUN, district="110105")
    view = await handle.execute_update(
        AppealWorkflow.request_parts,
        more.PartsRequestInput(actor=staff(lead), units=["110105-YLLH", "BJ-LIGHTING"], task="trees and lamps along the road"),
    )
    assert {p.unit for p in view.parts.values()} == {"110105-YLLH", "BJ-LIGHTING"}
    greening = part_handle(run, handle, PartKind.CO_HANDLING, "110105-YLLH")
    await greening.execute_update(CoHandlingWorkflow.accept, PartAcceptInput(actor=staff("110105-YLLH")))
    await greening.execute_update(CoHandlingWorkflow.report, PartReportInput(actor=staff("110105-YLLH"), result="trees pruned"))
    assert (await greening.result()).status is PartStatus.DONE

    message = await refused(handle, AppealWorkflow.complete, AppealCompleteInput(actor=staff(lead), result="done"))
    assert "BJ-LIGHTING" in message  # still open: the lead cannot report the appeal done
    # a co-handling unit can never be rid of the whole appeal, only decline its part
    await part_handle(run, handle, PartKind.CO_HANDLING, "BJ-LIGHTING").execute_update(
        CoHandlingWorkflow.decline, PartDeclineInput(actor=staff("BJ-LIGHTING"), reason="lamps there are the district's")
    )
    await part_handle(run, handle, PartKind.CO_HANDLING, "BJ-LIGHTING").execute_update(
        CoHandlingWorkflow.review_decline, PartDeclineReviewInput(actor=OPERATOR, uphold=False, comment="they are yours")
    )
    await handle.execute_update(
        AppealWorkflow.close_part,
        more.PartCloseRequestInput(actor=staff(lead), unit="BJ-LIGHTING", reason="lamps fixed by the district instead"),
    )
    closed = await part_handle(run, handle, PartKind.CO_HANDLING, "BJ-LIGHTING").result()
    assert closed.status is PartStatus.CLOSED and "district" in closed.closed_reason
    view = await handle.execute_update(AppealWorkflow.complete, AppealCompleteInput(actor=staff(lead), result="road reopened"))
    assert view.status is AppealStatus.AWAITING_EVALUATION
    events = await kinds(engine, view.appeal_no)
    for kind in ("co_handling_requested", "part_accepted", "part_done", "part_declined", "part_decline_rejected", "part_closed"):
        assert kind in events
    async with engine.connect() as conn:
        parts = dict((await conn.execute(sa.text("SELECT unit_code, status FROM appeal_part WHERE appeal_no = :n"),
                                         {"n": view.appeal_no})).all())
    assert parts == {"110105-YLLH": "done", "BJ-LIGHTING": "closed"}


async def test_a_co_handling_unit_missing_its_limit_is_flagged_and_must_explain(run, ts_env, engine):
    lead = "BJ-WATER"
    handle = await accepted_by(run, lead, category="UTIL.WATER.OUTAGE")
    await handle.execute_update(
        AppealWorkflow.request_parts,
        more.PartsRequestInput(actor=staff(lead), units=["110101-CGW"], task="dig permit", limit_working_days=1),
    )
    part = part_handle(run, handle, PartKind.CO_HANDLING, "110101-CGW")
    await part.execute_update(CoHandlingWorkflow.accept, PartAcceptInput(actor=staff("110101-CGW")))
    await ts_env.sleep(timedelta(days=4))  # past one working day, whatever the weekday
    state = await until(part, lambda p: p.overdue, query=CoHandlingWorkflow.state)
    assert state.missed and state.status is PartStatus.ACCEPTED
    message = await refused(part, CoHandlingWorkflow.report, PartReportInput(actor=staff("110101-CGW"), result="permit issued"))
    assert "reason" in message
    await part.execute_update(
        CoHandlingWorkflow.report,
        PartReportInput(actor=staff("110101-CGW"), result="permit issued", late_reason="the road authority's sign-off"),
    )
    view = await until(handle, lambda v: v.parts["co_handling:110101-CGW"].status is PartStatus.DONE)
    assert view.parts["co_handling:110101-CGW"].overdue
    events = await kinds(engine, view.appeal_no)
    assert "part_limit_missed" in events and "escalated" in events


async def test_whistle_departments_report_in_or_are_escalated_and_are_rated(run, ts_env, engine):
    """The broken road of 亚运村: the street summons four departments; one does not report in."""
    handle = await accepted_by(run, YAYUNCUN, category="MUNI.DEADENDROAD", street=YAYUNCUN, district="110105")
    street = staff(YAYUNCUN)
    await handle.execute_update(
        AppealWorkflow.request_parts,
        more.PartsRequestInput(actor=street, kind=PartKind.WHISTLE, units=DEPARTMENTS,
                               task="open Beichen West Road", limit_working_days=10, report_in_hours=24),
    )
    for unit in DEPARTMENTS[:3]:
        await part_handle(run, handle, PartKind.WHISTLE, unit).execute_update(
            CoHandlingWorkflow.accept, PartAcceptInput(actor=staff(unit), plan=f"{unit}'s share of the plan")
        )
    refusal = await refused(
        part_handle(run, handle, PartKind.WHISTLE, DEPARTMENTS[3]),
        CoHandlingWorkflow.accept, PartAcceptInput(actor=staff(DEPARTMENTS[3])),
    )
    assert "plan" in refusal  # reporting in means agreeing a part of the plan
    await ts_env.sleep(timedelta(hours=25))
    late = await until(part_handle(run, handle, PartKind.WHISTLE, DEPARTMENTS[3]), lambda p: p.report_in_missed,
                       query=CoHandlingWorkflow.state)
    assert late.overdue
    for unit in DEPARTMENTS[:3]:
        await part_handle(run, handle, PartKind.WHISTLE, unit).execute_update(
            CoHandlingWorkflow.report, PartReportInput(actor=staff(unit), result="done")
        )
    await until(handle, lambda v: sum(p.status is PartStatus.DONE for p in v.parts.values()) == 3)
    view = await handle.execute_update(AppealWorkflow.rate_part, more.PartRateInput(actor=street, unit="110105-CGW", rating=5))
    assert view.parts["whistle:110105-CGW"].rating == 5
    message = await refused(handle, AppealWorkflow.rate_part, more.PartRateInput(actor=street, unit=DEPARTMENTS[3], rating=1))
    assert "once its part is done" in message
    events = await kinds(engine, view.appeal_no)
    assert events.count("part_reported_in") == 3 and "whistle_blown" in events and "department_rated" in events


async def test_supervision_sets_a_new_limit_and_escalates(run, ts_env, engine):
    handle = await accepted_by(run, "BJ-LIGHTING")
    message = await refused(handle, AppealWorkflow.supervise, more.SuperviseInput(actor=OPERATOR, note="hurry"))
    assert "supervisor" in message
    await ts_env.sleep(timedelta(days=8))
    view = await until(handle, lambda v: v.overdue)
    new_due = view.limits["completion"].due + timedelta(days=10)
    view = await handle.execute_update(
        AppealWorkflow.supervise, more.SuperviseInput(actor=SUPERVISOR, note="set a firm date", new_due=new_due)
    )
    assert view.supervision_level == "district" and view.limits["completion"].due == new_due and not view.overdue
    view = await handle.execute_update(
        AppealWorkflow.supervise, more.SuperviseInput(actor=SUPERVISOR, note="to the city", escalate=True)
    )
    assert view.supervision_level == "municipal"
    async with engine.connect() as conn:
        notified = {r[0] for r in await conn.execute(
            sa.text("SELECT recipient FROM notification_outbox WHERE appeal_no = :n AND topic = 'supervised'"),
            {"n": view.appeal_no})}
    assert notified == {"BJ-LIGHTING"}


async def test_transfer_out_closes_and_settles_open_parts(run):
    handle = await accepted_by(run, "BJ-LIGHTING")
    await handle.execute_update(
        AppealWorkflow.request_parts, more.PartsRequestInput(actor=staff("BJ-LIGHTING"), units=["BJ-POWER"], task="power")
    )
    view = await handle.execute_update(
        AppealWorkflow.transfer_out, more.TransferOutInput(actor=OPERATOR, hotline="hebei", reason="the lamp is in Langfang")
    )
    assert (view.status, view.outcome) == (AppealStatus.CLOSED, Outcome.TRANSFERRED_OUT)
    assert view.parts["co_handling:BJ-POWER"].status is PartStatus.CLOSED
    assert (await handle.result()).outcome is Outcome.TRANSFERRED_OUT


async def test_a_duplicate_follows_its_master_and_still_gets_its_own_evaluation(run, engine):
    master = await accepted_by(run, "BJ-LIGHTING")
    duplicate = await run.start()
    await until(duplicate, lambda v: v.status is AppealStatus.DISPATCHED)
    master_no = master.id.removeprefix("appeal-")
    view = await duplicate.execute_update(
        AppealWorkflow.link, more.LinkInput(actor=OPERATOR, master_no=master_no, kind="duplicate")
    )
    assert (view.status, view.master_no) == (AppealStatus.LINKED, master_no)
    await until(master, lambda v: view.appeal_no in v.followers)
    await master.execute_update(AppealWorkflow.complete, AppealCompleteInput(actor=staff("BJ-LIGHTING"), result="33 lamps"))
    followed = await until(duplicate, lambda v: v.status is AppealStatus.AWAITING_EVALUATION)
    assert followed.handling_unit == "BJ-LIGHTING" and "return_visit" in followed.limits
    final = await duplicate.execute_update(
        AppealWorkflow.evaluate, AppealEvaluateInput(actor=OPERATOR, resolved=True, satisfaction=Satisfaction.SATISFIED)
    )
    assert final.outcome is Outcome.RESOLVED
    assert "appeal_linked_here" in await kinds(engine, master_no)
    assert "master_reported_done" in await kinds(engine, final.appeal_no)


async def test_a_duplicate_of_a_closed_appeal_is_refused_but_a_related_link_is_kept(run):
    old = await run.start(appeal_type="consultation", category="GOV.CONSULT", decision="answer", answer="…")
    await old.result()
    new = await run.start()
    await until(new, lambda v: v.status is AppealStatus.DISPATCHED)
    old_no = old.id.removeprefix("appeal-")
    message = await refused(new, AppealWorkflow.link, more.LinkInput(actor=OPERATOR, master_no=old_no, kind="duplicate", master_open=False))
    assert "related" in message
    view = await new.execute_update(AppealWorkflow.link, more.LinkInput(actor=OPERATOR, master_no=old_no, kind="related", master_open=False))
    assert (view.link_kind, view.status) == ("related", AppealStatus.DISPATCHED)  # handled on its own


async def test_dispatch_and_co_handling_requests_write_notifications(run, engine):
    handle = await accepted_by(run, "BJ-LIGHTING")
    view = await handle.execute_update(
        AppealWorkflow.request_parts, more.PartsRequestInput(actor=staff("BJ-LIGHTING"), units=["BJ-POWER", "110101-CGW"], task="t")
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(
            sa.text("SELECT topic, recipient FROM notification_outbox WHERE appeal_no = :n ORDER BY id"), {"n": view.appeal_no}
        )).all()
    assert ("dispatched", "BJ-LIGHTING") in rows
    assert {("co_handling_requested", "BJ-POWER"), ("co_handling_requested", "110101-CGW")} <= set(rows)


async def test_a_duplicate_goes_back_to_the_hotline_when_its_master_closes_without_reporting_done(run, engine):
    master = await accepted_by(run, "BJ-LIGHTING")
    duplicate = await run.start()
    await until(duplicate, lambda v: v.status is AppealStatus.DISPATCHED)
    master_no = master.id.removeprefix("appeal-")
    await duplicate.execute_update(AppealWorkflow.link, more.LinkInput(actor=OPERATOR, master_no=master_no, kind="duplicate"))
    await until(master, lambda v: len(v.followers) == 1)
    await master.execute_update(AppealWorkflow.transfer_out, more.TransferOutInput(actor=OPERATOR, hotline="hebei", reason="r"))
    view = await until(duplicate, lambda v: v.status is AppealStatus.RECEIVED)
    assert view.link_kind == "related"  # the relation is kept; an operator answers or dispatches it
    assert "unlinked" in await kinds(engine, view.appeal_no)


async def test_a_unit_asked_again_gets_a_new_part_workflow(run):
    handle = await accepted_by(run, "BJ-LIGHTING")
    ask = more.PartsRequestInput(actor=staff("BJ-LIGHTING"), units=["BJ-POWER"], task="power")
    await handle.execute_update(AppealWorkflow.request_parts, ask)
    await handle.execute_update(
        AppealWorkflow.close_part, more.PartCloseRequestInput(actor=staff("BJ-LIGHTING"), unit="BJ-POWER", reason="wrong task")
    )
    view = await handle.execute_update(AppealWorkflow.request_parts, ask)
    part = view.parts["co_handling:BJ-POWER"]
    assert (part.round, part.status) == (2, PartStatus.REQUESTED) and part.workflow_id.endswith("/BJ-POWER/2")


async def test_a_part_closed_by_the_lead_is_told_once(run, engine):
    lead = staff("BJ-LIGHTING")
    handle = await accepted_by(run, "BJ-LIGHTING")
    await handle.execute_update(
        AppealWorkflow.request_parts, more.PartsRequestInput(actor=lead, units=["BJ-POWER"], task="power")
    )
    await handle.execute_update(
        AppealWorkflow.close_part, more.PartCloseRequestInput(actor=lead, unit="BJ-POWER", reason="wrong task")
    )
    assert (await part_handle(run, handle, PartKind.CO_HANDLING, "BJ-POWER").result()).status is PartStatus.CLOSED
    # an action after the part ended: its echo of the close has reached the appeal by now
    view = await handle.execute_update(AppealWorkflow.phased_report, PhasedReportInput(actor=lead, progress="half"))
    assert view.parts["co_handling:BJ-POWER"].closed_reason == "wrong task"
    assert (await kinds(engine, view.appeal_no)).count("part_closed") == 1
    async with engine.connect() as conn:
        told = (await conn.execute(
            sa.text("SELECT recipient FROM notification_outbox WHERE appeal_no = :n AND topic = 'part_closed'"),
            {"n": view.appeal_no},
        )).scalars().all()
    assert told == ["BJ-POWER"]


async def test_a_closed_rounds_late_messages_leave_the_units_new_part_open(run, engine):
    """The lead closes a unit's part and asks the unit again at once: what the old round says
    after that (its echo of the close, a report it sent before the close reached it) changes
    nothing; the new round stays open, the lead cannot report done, the unit acts on it."""
    from domain.messages import PartChange

    lead, power = staff("BJ-LIGHTING"), staff("BJ-POWER")
    handle = await accepted_by(run, "BJ-LIGHTING")
    ask = more.PartsRequestInput(actor=lead, units=["BJ-POWER"], task="power")
    first = (await handle.execute_update(AppealWorkflow.request_parts, ask)).parts["co_handling:BJ-POWER"]
    await handle.execute_update(AppealWorkflow.close_part, more.PartCloseRequestInput(actor=lead, unit="BJ-POWER", reason="wrong task"))
    await handle.execute_update(AppealWorkflow.request_parts, ask)
    # round 1's messages, arriving late
    closed = first.model_copy(update={"status": PartStatus.CLOSED, "closed_reason": "wrong task"})
    done = first.model_copy(update={"status": PartStatus.DONE, "result": "cable laid"})
    await handle.signal(AppealWorkflow.part_changed, PartChange(event="part_closed", actor=lead, detail={"reason": "wrong task"}, part=closed))
    await handle.signal(AppealWorkflow.part_changed, PartChange(event="part_done", actor=power, detail={"result": "cable laid"}, part=done))

    view = await handle.execute_update(AppealWorkflow.phased_report, PhasedReportInput(actor=lead, progress="half"))
    current = view.parts["co_handling:BJ-POWER"]
    assert (current.round, current.status) == (2, PartStatus.REQUESTED) and current.workflow_id.endswith("/BJ-POWER/2")
    assert "BJ-POWER" in await refused(handle, AppealWorkflow.complete, AppealCompleteInput(actor=lead, result="x"))

    second = run.client.get_workflow_handle_for(CoHandlingWorkflow.run, current.workflow_id)
    assert (await second.execute_update(CoHandlingWorkflow.accept, PartAcceptInput(actor=power))).round == 2
    view = await until(handle, lambda v: v.parts["co_handling:BJ-POWER"].status is PartStatus.ACCEPTED)
    assert view.parts["co_handling:BJ-POWER"].round == 2
    async with engine.connect() as conn:
        stale = (await conn.execute(
            sa.text("SELECT detail FROM appeal_event WHERE appeal_no = :n AND kind = 'stale_part_message'"),
            {"n": view.appeal_no},
        )).scalars().all()
    assert stale == [{"event": "part_done", "round": 1, "current_round": 2}]  # the close's echo is not news

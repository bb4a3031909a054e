"""The appeal workflow on the time-skipping server: every path of a work order's life, every limit
expiring, and the projection in PostgreSQL."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from temporalio.client import WorkflowUpdateFailedError

from domain.messages import (
    AppealAcceptInput,
    AppealCompleteInput,
    AppealDispatchInput,
    AppealEvaluateInput,
    AppealStatus,
    ContactRecordInput,
    EmergencyService,
    ExtensionRequestInput,
    ExtensionReviewInput,
    IntakeDecision,
    NotAcceptedReason,
    ObjectionRaiseInput,
    ObjectionReviewInput,
    Outcome,
    PhasedReportInput,
    Satisfaction,
)
from domain.types import AppealType, Urgency
from tests.workflows.conftest import ADDRESS, NAME, OPERATOR, PHONE, search_attributes, staff, until
from workflows.appeal import AppealWorkflow

LIGHTING = "BJ-LIGHTING"


async def refused(handle, update, cmd) -> tuple[str, str]:
    with pytest.raises(WorkflowUpdateFailedError) as e:
        await handle.execute_update(update, cmd)
    return e.value.cause.details[0]["code"], e.value.cause.message


async def events(engine, appeal_no: str) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT kind FROM appeal_event WHERE appeal_no = :n ORDER BY seq"), {"n": appeal_no}
        )
        return [r[0] for r in rows]


async def row(engine, appeal_no: str) -> dict:
    async with engine.connect() as conn:
        r = await conn.execute(sa.text("SELECT * FROM appeal WHERE appeal_no = :n"), {"n": appeal_no})
        return dict(r.mappings().one())


async def handled_to_completion(handle, unit=LIGHTING):
    await handle.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=staff(unit)))
    await handle.execute_update(AppealWorkflow.record_contact, ContactRecordInput(actor=staff(unit), note="called"))
    return await handle.execute_update(
        AppealWorkflow.complete, AppealCompleteInput(actor=staff(unit), result="replaced 33 lamps")
    )


async def test_full_life_dispatched_by_the_catalogue_to_resolved(run, engine):
    handle = await run.start()
    view = await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    assert view.handling_unit == LIGHTING  # street lights go to the city lighting centre
    assert {"objection", "contact", "completion"} <= set(view.limits)

    done = await handled_to_completion(handle)
    assert done.status is AppealStatus.AWAITING_EVALUATION
    assert done.limits["contact"].met_in_time and done.limits["completion"].met_in_time

    final = await handle.execute_update(
        AppealWorkflow.evaluate,
        AppealEvaluateInput(actor=OPERATOR, resolved=True, satisfaction=Satisfaction.SATISFIED),
    )
    assert (final.status, final.outcome, final.resolved) == (AppealStatus.CLOSED, Outcome.RESOLVED, True)
    result = await handle.result()
    assert result.status is AppealStatus.CLOSED

    no = result.appeal_no
    assert await events(engine, no) == [
        "received", "dispatched", "accepted", "contacted", "reported_done", "evaluated", "closed"
    ]
    projected = await row(engine, no)
    assert (projected["status"], projected["outcome"], projected["resolved"]) == ("closed", "resolved", True)
    assert projected["seq"] == 7 and projected["handling_unit_code"] == LIGHTING

    attrs = await search_attributes(handle)
    assert attrs["AppealStatus"] == "closed" and attrs["HandlingUnit"] == LIGHTING
    assert attrs["District"] == "110101" and attrs["Overdue"] is False
    assert attrs.get("ReplyDeadline") is None  # nothing left for the unit to meet


async def test_immediate_answer_closes_at_intake_but_can_still_be_evaluated(run, engine):
    handle = await run.start(
        appeal_type=AppealType.CONSULTATION, category="GOV.CONSULT", decision=IntakeDecision.ANSWER,
        answer="办理居住证需携带身份证和租房合同到派出所",
    )
    view = await until(handle, lambda v: v.status is AppealStatus.ANSWERED)
    assert view.handling_unit is None and "return_visit" in view.limits
    final = await handle.execute_update(
        AppealWorkflow.evaluate,
        AppealEvaluateInput(actor=OPERATOR, resolved=True, satisfaction=Satisfaction.BASICALLY_SATISFIED),
    )
    assert final.outcome is Outcome.RESOLVED
    assert await events(engine, final.appeal_no) == ["received", "answered", "evaluated", "closed"]


async def test_answered_without_evaluation_closes_as_not_evaluated(run, ts_env):
    handle = await run.start(
        appeal_type=AppealType.CONSULTATION, category="GOV.CONSULT", decision=IntakeDecision.ANSWER, answer="…"
    )
    result = await handle.result()  # the time-skipping server runs the return-visit window out
    assert (result.outcome, result.resolved) == (Outcome.NOT_EVALUATED, None)
    assert result.limits["return_visit"].missed


@pytest.mark.parametrize(
    ("overrides", "outcome", "event"),
    [
        (dict(decision=IntakeDecision.NOT_ACCEPTED, not_accepted_reason=NotAcceptedReason.LITIGATION),
         Outcome.NOT_ACCEPTED, "not_accepted"),
        (dict(decision=IntakeDecision.EMERGENCY, emergency_service=EmergencyService.FIRE),
         Outcome.EMERGENCY_TRANSFERRED, "transferred_to_emergency"),
    ],
)
async def test_refused_and_emergency_appeals_close_at_intake(run, engine, overrides, outcome, event):
    handle = await run.start(**overrides)
    result = await handle.result()
    assert (result.status, result.outcome, result.handling_unit) == (AppealStatus.CLOSED, outcome, None)
    assert await events(engine, result.appeal_no) == ["received", event]
    if event == "not_accepted":
        async with engine.connect() as conn:
            detail = await conn.scalar(
                sa.text("SELECT detail FROM appeal_event WHERE appeal_no = :n AND kind = 'not_accepted'"),
                {"n": result.appeal_no},
            )
        assert detail["reason"] == "litigation" and "court" in detail["channel"]


async def test_held_order_is_dispatched_by_an_operator_to_the_unit_named(run):
    handle = await run.start(decision=IntakeDecision.HOLD)
    await until(handle, lambda v: v.status is AppealStatus.RECEIVED)
    view = await handle.execute_update(AppealWorkflow.dispatch, AppealDispatchInput(actor=OPERATOR, unit="110101-GOV"))
    assert (view.status, view.handling_unit) == (AppealStatus.DISPATCHED, "110101-GOV")
    code, _ = await refused(handle, AppealWorkflow.dispatch, AppealDispatchInput(actor=OPERATOR))
    assert code == "wrong_state"


async def test_held_order_dispatched_by_the_catalogue(run):
    handle = await run.start(decision=IntakeDecision.HOLD, category="CITY.GARBAGE", street="110105-CHAOWAI", district="110105")
    view = await handle.execute_update(AppealWorkflow.dispatch, AppealDispatchInput(actor=OPERATOR))
    assert view.handling_unit == "110105-CHAOWAI"


async def dispatched_how(engine, appeal_no: str) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT detail FROM appeal_event WHERE appeal_no = :n AND kind = 'dispatched' ORDER BY seq"),
            {"n": appeal_no},
        )
        return [r[0]["how"] for r in rows]


async def test_a_held_orders_dispatch_says_who_chose_the_unit(run, engine):
    """An auditor of a wrong dispatch tells a catalogue rule from an operator's choice, in the
    words the intake's dispatch uses."""
    by_catalogue = await run.start(decision=IntakeDecision.HOLD, category="CITY.GARBAGE", street="110105-CHAOWAI", district="110105")
    named = await run.start(decision=IntakeDecision.HOLD)
    for handle in (by_catalogue, named):
        await until(handle, lambda v: v.status is AppealStatus.RECEIVED)
    routed = await by_catalogue.execute_update(AppealWorkflow.dispatch, AppealDispatchInput(actor=OPERATOR))
    chosen = await named.execute_update(AppealWorkflow.dispatch, AppealDispatchInput(actor=OPERATOR, unit="110101-GOV"))
    assert await dispatched_how(engine, routed.appeal_no) == ["by the dispatch catalogue"]
    assert await dispatched_how(engine, chosen.appeal_no) == ["named by the operator"]


async def test_operator_names_the_unit_at_intake(run):
    handle = await run.start(unit="110101-CGW")
    view = await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    assert view.handling_unit == "110101-CGW"


async def test_wrong_unit_and_wrong_state_are_refused(run):
    handle = await run.start()
    await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    code, message = await refused(handle, AppealWorkflow.accept, AppealAcceptInput(actor=staff("BJ-WATER")))
    assert code == "wrong_unit" and LIGHTING in message
    code, _ = await refused(handle, AppealWorkflow.accept, AppealAcceptInput(actor=OPERATOR))
    assert code == "forbidden"
    await handle.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=staff(LIGHTING)))
    code, message = await refused(handle, AppealWorkflow.accept, AppealAcceptInput(actor=staff(LIGHTING)))
    assert code == "wrong_state" and "accepted" in message
    code, _ = await refused(
        handle, AppealWorkflow.complete, AppealCompleteInput(actor=staff(LIGHTING), result="done")
    )
    assert code == "wrong_state"  # not before contacting the citizen


async def test_upheld_objection_redispatches_and_restarts_the_clock(run, ts_env):
    handle = await run.start(category="CITY.GARBAGE", street="110105-CHAOWAI", district="110105")
    first = await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    await ts_env.sleep(timedelta(hours=3))
    view = await handle.execute_update(
        AppealWorkflow.raise_objection,
        ObjectionRaiseInput(actor=staff("110105-CHAOWAI"), reason="the road belongs to the developer",
                            suggested_unit="110105-CGW"),
    )
    assert view.status is AppealStatus.OBJECTION_RAISED
    view = await handle.execute_update(AppealWorkflow.review_objection, ObjectionReviewInput(actor=OPERATOR, uphold=True))
    assert (view.status, view.handling_unit) == (AppealStatus.DISPATCHED, "110105-CGW")
    assert view.units == ["110105-CHAOWAI", "110105-CGW"]
    assert view.limits["completion"].started_at > first.limits["completion"].started_at
    assert view.limits["completion"].due > first.limits["completion"].due
    # the old unit has no say any more; the new one may handle it
    code, _ = await refused(handle, AppealWorkflow.accept, AppealAcceptInput(actor=staff("110105-CHAOWAI")))
    assert code == "wrong_unit"
    await handle.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=staff("110105-CGW")))


async def test_rejected_objection_keeps_the_order_with_the_unit(run):
    handle = await run.start()
    await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    objection = ObjectionRaiseInput(actor=staff(LIGHTING), reason="not ours", suggested_unit="110101-CGW")
    await handle.execute_update(AppealWorkflow.raise_objection, objection)
    view = await handle.execute_update(
        AppealWorkflow.review_objection, ObjectionReviewInput(actor=OPERATOR, uphold=False, comment="lamps are yours")
    )
    assert (view.status, view.handling_unit) == (AppealStatus.ACCEPTED, LIGHTING)
    code, message = await refused(handle, AppealWorkflow.raise_objection, objection)
    assert code == "wrong_state" and "already reviewed" in message


async def test_objection_after_the_window_is_refused_with_the_reason(run, ts_env):
    handle = await run.start()
    view = await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    window = view.limits["objection"].due
    await ts_env.sleep(window - view.dispatched_at + timedelta(minutes=1))
    code, message = await refused(
        handle,
        AppealWorkflow.raise_objection,
        ObjectionRaiseInput(actor=staff(LIGHTING), reason="late", suggested_unit="110101-CGW"),
    )
    assert code == "window_passed" and "closed at" in message


async def test_missed_contact_limit_marks_overdue_escalates_and_keeps_the_order_open(run, ts_env, engine):
    handle = await run.start(urgency=Urgency.UTILITY, category="UTIL.WATER.OUTAGE")
    view = await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    assert view.limits["contact"].due - view.dispatched_at == timedelta(hours=24)
    await ts_env.sleep(timedelta(hours=25))
    view = await until(handle, lambda v: v.overdue)
    assert view.supervised and view.limits["contact"].missed
    assert view.status is AppealStatus.DISPATCHED  # still open, still the unit's
    kinds = await events(engine, view.appeal_no)
    assert kinds[:2] == ["received", "dispatched"]
    assert {"reminder", "limit_missed", "escalated"} <= set(kinds)
    attrs = await search_attributes(handle)
    assert attrs["Overdue"] is True
    # late contact is recorded, and counted as not in time
    await handle.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=staff("BJ-WATER")))
    view = await handle.execute_update(AppealWorkflow.record_contact, ContactRecordInput(actor=staff("BJ-WATER")))
    assert view.limits["contact"].met_at is not None and not view.limits["contact"].met_in_time


async def test_emergency_two_hour_limit(run, ts_env):
    handle = await run.start(urgency=Urgency.EMERGENCY, category="MUNI.MANHOLE")
    view = await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    assert view.limits["completion"].due - view.dispatched_at == timedelta(hours=2)
    await ts_env.sleep(timedelta(hours=2, minutes=5))
    view = await until(handle, lambda v: v.limits["completion"].missed)
    assert view.overdue


async def test_phased_report_and_approved_extension_move_the_completion_limit(run, ts_env):
    handle = await run.start()
    view = await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    unit = staff(LIGHTING)
    await handle.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=unit))
    await handle.execute_update(AppealWorkflow.record_contact, ContactRecordInput(actor=unit))
    seven = view.limits["completion"].due
    assert seven - view.dispatched_at == timedelta(days=7)
    view = await handle.execute_update(
        AppealWorkflow.phased_report,
        PhasedReportInput(actor=unit, progress="lamp arms ordered", reason="custom parts", expected_date=None),
    )
    assert view.status is AppealStatus.IN_PROGRESS
    await handle.execute_update(AppealWorkflow.request_extension, ExtensionRequestInput(actor=unit, reason="custom parts"))
    view = await handle.execute_update(AppealWorkflow.review_extension, ExtensionReviewInput(actor=OPERATOR, approve=True))
    assert view.extension == "approved" and view.urgency is Urgency.COMPLEX
    assert view.limits["completion"].due - view.dispatched_at == timedelta(days=15)
    # day 8: the old limit would have passed; the new one has not
    await ts_env.sleep(timedelta(days=8))
    view = await handle.query(AppealWorkflow.state)
    assert not view.overdue
    await ts_env.sleep(timedelta(days=8))
    view = await until(handle, lambda v: v.limits["completion"].missed)
    assert view.overdue and view.status is AppealStatus.IN_PROGRESS


async def test_extension_only_for_ordinary_appeals_and_only_once(run):
    handle = await run.start()
    await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    unit = staff(LIGHTING)
    await handle.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=unit))
    await handle.execute_update(AppealWorkflow.request_extension, ExtensionRequestInput(actor=unit, reason="r"))
    await handle.execute_update(AppealWorkflow.review_extension, ExtensionReviewInput(actor=OPERATOR, approve=False))
    code, message = await refused(handle, AppealWorkflow.request_extension, ExtensionRequestInput(actor=unit, reason="r"))
    assert code == "wrong_state" and "rejected" in message


async def test_unresolved_evaluation_sends_it_back_to_the_same_unit_with_a_fresh_limit(run, ts_env, engine):
    handle = await run.start()
    await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    done = await handled_to_completion(handle)
    await ts_env.sleep(timedelta(days=1))
    view = await handle.execute_update(
        AppealWorkflow.evaluate,
        AppealEvaluateInput(actor=OPERATOR, resolved=False, satisfaction=Satisfaction.UNSATISFIED,
                            comment="lights on but do not suit the hutong"),
    )
    assert (view.status, view.rehandle_count, view.handling_unit) == (AppealStatus.REHANDLING, 1, LIGHTING)
    assert view.limits["completion"].due > done.limits["completion"].due
    assert view.resolved is None  # this round awaits its own evaluation; never shown as resolved
    unit = staff(LIGHTING)
    await handle.execute_update(AppealWorkflow.record_contact, ContactRecordInput(actor=unit))
    await handle.execute_update(AppealWorkflow.complete, AppealCompleteInput(actor=unit, result="arm lamps fitted"))
    final = await handle.execute_update(
        AppealWorkflow.evaluate, AppealEvaluateInput(actor=OPERATOR, resolved=True, satisfaction=Satisfaction.SATISFIED)
    )
    assert (final.outcome, final.rehandle_count) == (Outcome.RESOLVED, 1)
    assert (await events(engine, final.appeal_no)).count("rehandling") == 1


async def test_closed_unresolved_after_the_last_rehandling_is_never_resolved(run, settings):
    handle = await run.start()
    await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    unit = staff(LIGHTING)
    await handle.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=unit))
    bad = AppealEvaluateInput(actor=OPERATOR, resolved=False, satisfaction=Satisfaction.UNSATISFIED)
    for _ in range(settings.max_rehandles + 1):
        await handle.execute_update(AppealWorkflow.record_contact, ContactRecordInput(actor=unit))
        await handle.execute_update(AppealWorkflow.complete, AppealCompleteInput(actor=unit, result="tried"))
        view = await handle.execute_update(AppealWorkflow.evaluate, bad)
    assert (view.status, view.outcome, view.resolved) == (AppealStatus.CLOSED, Outcome.UNRESOLVED, False)
    assert view.rehandle_count == settings.max_rehandles


async def test_no_evaluation_in_the_return_visit_window_closes_as_not_evaluated(run, engine):
    handle = await run.start()
    await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    await handled_to_completion(handle)
    result = await handle.result()
    assert (result.outcome, result.resolved) == (Outcome.NOT_EVALUATED, None)
    assert (await row(engine, result.appeal_no))["outcome"] == "not_evaluated"


async def test_signal_twin_applies_valid_actions_and_records_invalid_ones_as_rejected(run, engine):
    handle = await run.start()
    await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    await handle.signal(AppealWorkflow.accept_signal, AppealAcceptInput(actor=staff("BJ-WATER")))
    await handle.signal(AppealWorkflow.accept_signal, AppealAcceptInput(actor=staff(LIGHTING)))
    view = await until(handle, lambda v: v.status is AppealStatus.ACCEPTED)
    async with engine.connect() as conn:
        rejected = (
            await conn.execute(
                sa.text("SELECT actor, unit_code, detail FROM appeal_event WHERE appeal_no = :n AND kind = 'rejected'"),
                {"n": view.appeal_no},
            )
        ).one()
    assert rejected.unit_code == "BJ-WATER" and rejected.detail["action"] == "accept"
    assert LIGHTING in rejected.detail["reason"]


async def test_no_personal_data_enters_temporal(run):
    handle = await run.start()
    await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    await handled_to_completion(handle)
    history = history_text(json.loads((await handle.fetch_history()).to_json()))
    for secret in (PHONE, NAME, ADDRESS, "路灯昏暗"):
        assert secret not in history
    assert "MUNI.STREETLIGHT" in history and "replaced 33 lamps" in history  # the scan sees payloads


def history_text(node) -> str:
    """Everything in a history, payloads (base64 in the JSON) decoded."""
    parts = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "data" and isinstance(value, str):
                parts.append(base64.b64decode(value).decode("utf-8", "replace"))
            else:
                parts.append(history_text(value))
    elif isinstance(node, list):
        parts.extend(history_text(v) for v in node)
    else:
        parts.append(str(node))
    return "\n".join(parts)


async def test_a_late_order_sent_back_for_re_handling_is_no_longer_overdue(run, ts_env, engine):
    handle = await run.start()
    view = await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    unit = staff(LIGHTING)
    await handle.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=unit))
    await handle.execute_update(AppealWorkflow.record_contact, ContactRecordInput(actor=unit))
    await ts_env.sleep(view.limits["completion"].due - view.dispatched_at + timedelta(hours=1))
    await until(handle, lambda v: v.limits["completion"].missed and v.overdue)
    await handle.execute_update(
        AppealWorkflow.complete, AppealCompleteInput(actor=unit, result="replaced 33 lamps", late_reason="parts")
    )
    view = await handle.execute_update(
        AppealWorkflow.evaluate,
        AppealEvaluateInput(actor=OPERATOR, resolved=False, satisfaction=Satisfaction.UNSATISFIED),
    )
    assert view.status is AppealStatus.REHANDLING
    assert not view.overdue and view.supervised
    assert (await search_attributes(handle))["Overdue"] is False
    assert (await row(engine, view.appeal_no))["overdue"] is False

"""What administrators see of an appeal in the Temporal UI (time-skipping server): search
attributes that find every late order, the current details, readable summaries."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from temporalio import workflow
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.converter import PayloadConverter

from domain import collaboration as more
from domain.calendar import CHINA_TZ
from domain.core import reminder_at
from domain.messages import Actor, AppealAcceptInput, AppealStatus, ContactRecordInput
from domain.types import Role, Urgency
from tests.workflows.conftest import ADDRESS, NAME, PHONE, search_attributes, staff, until
from worker import WORKFLOWS
from workflows.appeal import AppealWorkflow
from workflows.cohandling import CoHandlingWorkflow

LIGHTING = "BJ-LIGHTING"
SUPERVISOR = Actor(user="sup", role=Role.SUPERVISOR)


def as_time(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


async def test_reply_deadline_is_the_earliest_limit_not_met(run, ts_env):
    handle = await run.start()
    view = await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    contact_due = view.limits["contact"].due
    assert as_time((await search_attributes(handle))["ReplyDeadline"]) == contact_due
    # a supervisor sets a completion limit before the contact limit: that is the one to meet now
    new_due = view.dispatched_at + (contact_due - view.dispatched_at) / 2
    await handle.execute_update(
        AppealWorkflow.supervise, more.SuperviseInput(actor=SUPERVISOR, note="today", new_due=new_due)
    )
    assert as_time((await search_attributes(handle))["ReplyDeadline"]) == new_due


async def test_in_status_since_moves_with_the_status_only(run, ts_env):
    handle = await run.start()
    await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    dispatched_since = as_time((await search_attributes(handle))["InStatusSince"])
    await ts_env.sleep(timedelta(hours=1))
    await handle.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=staff(LIGHTING)))
    attrs = await search_attributes(handle)
    accepted_since = as_time(attrs["InStatusSince"])
    assert attrs["AppealStatus"] == "accepted" and accepted_since - dispatched_since >= timedelta(hours=1)
    await ts_env.sleep(timedelta(minutes=30))
    await handle.execute_update(
        AppealWorkflow.supervise, more.SuperviseInput(actor=SUPERVISOR, note="keep going")
    )  # the status stays: so does its start
    assert as_time((await search_attributes(handle))["InStatusSince"]) == accepted_since
    await handle.execute_update(AppealWorkflow.record_contact, ContactRecordInput(actor=staff(LIGHTING), note="called"))
    attrs = await search_attributes(handle)
    assert attrs["AppealStatus"] == "contacted" and as_time(attrs["InStatusSince"]) > accepted_since


async def test_a_part_carries_its_appeals_place_and_classification(run):
    handle = await run.start(urgency=Urgency.ORDINARY)
    await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    await handle.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=staff(LIGHTING)))
    view = await handle.execute_update(
        AppealWorkflow.request_parts, more.PartsRequestInput(actor=staff(LIGHTING), units=["BJ-POWER"], task="power")
    )
    part = handle._client.get_workflow_handle(next(iter(view.parts.values())).workflow_id)
    await until(part, lambda p: p is not None, query=CoHandlingWorkflow.state)
    attrs = await search_attributes(part)
    assert {k: attrs.get(k) for k in ("District", "Street", "Category", "Urgency", "HandlingUnit")} == {
        "District": "110101", "Street": "110101-ANDINGMEN", "Category": "MUNI.STREETLIGHT",
        "Urgency": "ordinary", "HandlingUnit": "BJ-POWER",
    }
    assert attrs["AppealStatus"] == "part_requested" and "InStatusSince" in attrs


NAMES = {"MUNI.STREETLIGHT": "路灯不亮/路灯故障", LIGHTING: "北京市城市照明管理中心", "BJ-POWER": "国网北京电力"}


async def current_details(handle) -> str:
    """What the UI shows under "Current details": the built-in metadata query, served by the worker."""
    return (await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)).current_details


async def test_current_details_say_what_the_appeal_waits_for_in_beijing_time(run, ts_env):
    handle = await run.start(names=NAMES)
    view = await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    details = await current_details(handle)
    contact_due = view.limits["contact"].due.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M +08:00")
    assert "已派单 (`dispatched`)" in details and "北京市城市照明管理中心 (BJ-LIGHTING)" in details
    assert f"**联系时限** {contact_due} · 剩余" in details and "**办结时限**" in details
    assert not any(personal in details for personal in (NAME, PHONE, ADDRESS, "胡同路灯昏暗"))

    await handle.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=staff(LIGHTING)))
    await handle.execute_update(
        AppealWorkflow.request_parts, more.PartsRequestInput(actor=staff(LIGHTING), units=["BJ-POWER"], task="power")
    )
    details = await current_details(handle)
    assert "**等待** 协办 国网北京电力 (BJ-POWER) 待接收" in details

    await ts_env.sleep(timedelta(days=2))  # past the contact limit: missed, escalated
    await until(handle, lambda v: v.overdue)
    details = await current_details(handle)
    assert "**联系时限**" in details and "已超时 (已督办)" in details and "**已超期**" in details


async def test_a_parts_current_details_name_its_unit_and_limit(run):
    handle = await run.start(names=NAMES)
    await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    await handle.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=staff(LIGHTING)))
    view = await handle.execute_update(
        AppealWorkflow.request_parts, more.PartsRequestInput(actor=staff(LIGHTING), units=["BJ-POWER"], task="power")
    )
    part = handle._client.get_workflow_handle(next(iter(view.parts.values())).workflow_id)
    await until(part, lambda p: p is not None, query=CoHandlingWorkflow.state)
    details = await current_details(part)
    assert "国网北京电力 (BJ-POWER)" in details and "**主办** 北京市城市照明管理中心 (BJ-LIGHTING)" in details
    assert "**协办时限**" in details and "+08:00" in details and "power" not in details
    # the part's summary in the list and in the appeal's history: the part and the lead by name
    assert await (await part.describe()).static_summary() == (
        f"{view.appeal_no} · 协办 国网北京电力 (BJ-POWER) · 主办 北京市城市照明管理中心 (BJ-LIGHTING)"
    )


async def test_timer_summaries_name_the_limit_in_chinese_and_beijing_time(run):
    handle = await run.start()
    view = await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    contact = view.limits["contact"]
    # a new run spreads its reminders after their point (advisory), by the appeal's number
    reminder = reminder_at(contact.started_at, contact.due, 0.75, view.appeal_no)
    assert reminder >= contact.started_at + (contact.due - contact.started_at) * 0.75
    summaries = [
        PayloadConverter.default.from_payloads([e.user_metadata.summary])[0]
        async for e in handle.fetch_history_events()
        if e.HasField("timer_started_event_attributes")
    ]
    assert summaries[0] == f"联系时限提醒 {reminder.astimezone(CHINA_TZ).strftime('%m-%d %H:%M')} +08:00"


@pytest.mark.parametrize("cls", WORKFLOWS, ids=lambda c: c.__name__)
def test_every_signal_update_and_query_has_a_description(cls):
    """The UI's Signal, Update and Query forms list each handler with its description: none may
    be left blank (a new action needs one)."""
    defn = workflow._Definition.must_from_class(cls)  # what the worker registers
    handlers = {**defn.signals, **defn.updates, **defn.queries}
    blank = sorted(name for name, h in handlers.items() if name is not None and not (h.description or "").strip())
    assert blank == []


async def test_the_ui_receives_the_descriptions_of_an_appeal_and_its_part(run):
    handle = await run.start()
    await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    await handle.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=staff(LIGHTING)))
    view = await handle.execute_update(
        AppealWorkflow.request_parts, more.PartsRequestInput(actor=staff(LIGHTING), units=["BJ-POWER"], task="power")
    )
    part = handle._client.get_workflow_handle(next(iter(view.parts.values())).workflow_id)
    await until(part, lambda p: p is not None, query=CoHandlingWorkflow.state)
    for target, update, twin in ((handle, "accept", "接单"), (part, "report", "协办反馈")):
        defn = (await target.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)).definition
        described = {d.name: d.description for d in [*defn.signal_definitions, *defn.update_definitions]}
        assert described[update].startswith(twin + ": ")
        assert described[f"{update}_signal"].startswith(twin + ", not waiting for the answer")
        assert all(described.values()), [name for name, text in described.items() if not text]

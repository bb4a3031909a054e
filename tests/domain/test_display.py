"""What the Temporal UI shows of an appeal (domain.display) and the deadline it is found by:
pure functions over views the rules themselves produced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.display import alarm_summary, appeal_details, beijing, intake_details, intake_summary, nearest_limit
from domain.messages import Actor, AppealInput, IntakeDecision, PartKind, PartView
from domain.messages import AppealStatus as S
from domain.types import AppealType, Channel, Role, Urgency
from tests.domain.test_appeal_rules import view_in


def test_reply_deadline_is_the_earliest_limit_not_met_and_stays_once_missed():
    view = view_in(S.ACCEPTED)
    contact, completion = view.limits["contact"], view.limits["completion"]
    assert view.reply_deadline == contact.due
    completion.due = contact.due - timedelta(hours=1)  # a supervisor's earlier due
    assert view.reply_deadline == completion.due
    assert view.first_reply_deadline == contact.due  # what older runs upserted
    contact.missed = True  # missed but not met: still the order's lateness
    completion.due = contact.due + timedelta(days=3)
    assert view.reply_deadline == contact.due


def test_beijing_time_and_timer_summaries():
    at = datetime(2026, 12, 3, 11, 11, tzinfo=UTC)
    assert beijing(at) == "2026-12-03 19:11 +08:00"
    assert alarm_summary("contact", "reminder", at) == "联系时限提醒 12-03 19:11 +08:00"
    assert alarm_summary("part", "missed", at, "BJ-POWER") == "BJ-POWER 协办时限到期 12-03 19:11 +08:00"


def test_details_name_limits_time_left_and_parts_but_no_free_text():
    view = view_in(S.IN_PROGRESS)  # accepted, contacted, a phased report
    now = view.limits["completion"].started_at + timedelta(days=1)
    view.parts["co_handling:BJ-POWER"] = PartView(
        kind=PartKind.CO_HANDLING, unit="BJ-POWER", workflow_id="appeal-x/co/BJ-POWER", task="拆除刘先生家门口的电箱",
        plan="周三带人上门", requested_at=now, due=now + timedelta(days=2),
    )
    details = appeal_details(view, {view.handling_unit: "某单位"}, now - timedelta(hours=2), now)
    due = beijing(view.limits["completion"].due)
    assert f"**办结时限** {due} · 剩余 " in details and "联系时限" not in details  # contact was met
    assert f"某单位 ({view.handling_unit})" in details and "(2小时0分钟)" in details
    assert "**等待** 协办 BJ-POWER 待接收" in details
    assert "刘先生" not in details and "电箱" not in details and "上门" not in details
    late = appeal_details(view, {}, now - timedelta(hours=2), view.limits["completion"].due + timedelta(hours=3))
    assert "**已超时 3小时0分钟**" in late


def test_the_summary_and_details_name_the_order_and_hold_nothing_of_the_citizen():
    inp = AppealInput(
        appeal_no="BJ-20261203-000002", channel=Channel.PHONE, appeal_type=AppealType.HELP,
        category="UTIL.WATER.OUTAGE", urgency=Urgency.EMERGENCY, district="110105", street="110105-CHAOWAI",
        received_at=datetime(2026, 12, 3, 8, 44, tzinfo=UTC), decision=IntakeDecision.DISPATCH, unit="BJ-WATER",
        operator=Actor(user="operator", role=Role.OPERATOR),
        names={"UTIL.WATER.OUTAGE": "停水", "BJ-WATER": "北京市自来水集团", "110105": "朝阳区", "110105-CHAOWAI": "朝外街道"},
    )
    assert intake_summary(inp) == "停水 · 北京市自来水集团 · 朝阳区朝外街道"
    assert intake_details(inp).split("  \n") == [
        "**工单** BJ-20261203-000002",
        "**类型** 求助 (`help`) · **紧急程度** 紧急 (`emergency`)",
        "**类别** 停水 (UTIL.WATER.OUTAGE)",
        "**地点** 朝阳区朝外街道 (110105 / 110105-CHAOWAI)",
        "**渠道** 电话 (`phone`) · **受理** 派单 (`dispatch`)",
    ]
    held = inp.model_copy(update={"unit": None, "names": {}, "district": None, "street": None})
    assert intake_summary(held) == "UTIL.WATER.OUTAGE · 待派单 · 地点未填"


def test_a_list_shows_the_nearest_limit_still_running_in_the_status():
    """The objection window only while the unit may object; nothing once no limit runs (a
    closed appeal's window, never met, is not 'missed'); a missed limit before a nearer one."""
    limits = {
        "objection": {"due": "2026-03-03T10:00:00Z", "met_at": None},
        "contact": {"due": "2026-03-03T12:00:00Z", "met_at": None},
        "completion": {"due": "2026-03-09T12:00:00Z", "met_at": None},
    }
    assert nearest_limit("dispatched", limits)[0] == "objection"
    assert nearest_limit("accepted", limits)[0] == "objection"
    contacted = limits | {"contact": limits["contact"] | {"met_at": "2026-03-02T13:00:00Z"}}
    assert nearest_limit("contacted", contacted)[0] == "completion"
    assert nearest_limit("closed", limits) is None and nearest_limit("answered", limits) is None
    missed = limits | {"completion": limits["completion"] | {"missed": True}}
    assert nearest_limit("in_progress", missed)[0] == "completion"
    assert nearest_limit("dispatched", missed)[0] == "completion"
    assert nearest_limit("awaiting_evaluation", {"return_visit": {"due": "2026-03-12T00:00:00Z"}})[0] == "return_visit"

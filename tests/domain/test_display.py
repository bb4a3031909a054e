"""What the Temporal UI shows of an appeal (domain.display) and the deadline it is found by:
pure functions over views the rules themselves produced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.display import alarm_summary, appeal_details, beijing
from domain.messages import AppealStatus as S
from domain.messages import PartKind, PartView
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

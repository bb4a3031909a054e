"""What the Temporal UI shows of an appeal and its parts, for the administrators who look there
for stuck cases: the current details (markdown) and the timers' summaries. Beijing time,
Chinese names where known (a code otherwise), and never personal data: no citizen, no address,
no appeal text, no free text staff wrote — only codes, statuses and times."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from domain.appeal import OBJECTING, RUNNING
from domain.calendar import CHINA_TZ
from domain.messages import AppealInput, AppealStatus, AppealView, IntakeDecision, PartKind, PartView
from domain.types import AppealType, Channel, Urgency

#: The limits' names as the hotline says them.
LIMIT_NAMES = {
    "objection": "异议时限",
    "contact": "联系时限",
    "completion": "办结时限",
    "return_visit": "回访时限",
    "report_in": "报到时限",
    "part": "协办时限",
}
STATUS_NAMES = {
    AppealStatus.RECEIVED: "待派单",
    AppealStatus.ANSWERED: "已答复",
    AppealStatus.DISPATCHED: "已派单",
    AppealStatus.OBJECTION_RAISED: "管辖异议待审",
    AppealStatus.ACCEPTED: "已接单",
    AppealStatus.CONTACTED: "已联系诉求人",
    AppealStatus.IN_PROGRESS: "办理中",
    AppealStatus.AWAITING_EVALUATION: "待回访",
    AppealStatus.REHANDLING: "重办中",
    AppealStatus.LINKED: "已并案",
    AppealStatus.CLOSED: "已结案",
}
PART_STATUS_NAMES = {
    "requested": "待接收",
    "accepted": "已接收",
    "declined": "申请退回",
    "done": "已完成",
    "closed": "已关闭",
    "failed": "流程失败",
}
PART_KIND_NAMES = {PartKind.CO_HANDLING: "协办", PartKind.WHISTLE: "吹哨报到"}
TYPE_NAMES = {
    AppealType.CONSULTATION: "咨询",
    AppealType.HELP: "求助",
    AppealType.COMPLAINT: "投诉",
    AppealType.REPORT: "举报",
    AppealType.SUGGESTION: "建议",
}
URGENCY_NAMES = {
    Urgency.EMERGENCY: "紧急",
    Urgency.UTILITY: "水电气热故障",
    Urgency.ORDINARY: "一般",
    Urgency.COMPLEX: "复杂疑难",
}
CHANNEL_NAMES = {
    Channel.PHONE: "电话",
    Channel.WEB: "网站",
    Channel.APP: "客户端",
    Channel.WECHAT: "微信",
    Channel.WEIBO: "微博",
    Channel.LETTER: "信件",
    Channel.TRANSFER_IN: "外省市热线转入",
}
DECISION_NAMES = {
    IntakeDecision.DISPATCH: "派单",
    IntakeDecision.ANSWER: "即时答复",
    IntakeDecision.HOLD: "暂存待派",
    IntakeDecision.NOT_ACCEPTED: "不予受理",
    IntakeDecision.EMERGENCY: "转紧急服务",
}


def beijing(at: datetime, *, year: bool = True) -> str:
    """`2026-12-03 19:11 +08:00` (or `12-03 19:11 +08:00`)."""
    return at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M +08:00" if year else "%m-%d %H:%M +08:00")


def span(delta: timedelta) -> str:
    """A duration in days, hours and minutes: `2天3小时`, `45分钟`."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时"
    return f"{hours}小时{minutes}分钟" if hours else f"{minutes}分钟"


def time_left(due: datetime, now: datetime) -> str:
    return f"剩余 {span(due - now)}" if due > now else f"**已超时 {span(now - due)}**"


def named(code: str | None, names: dict[str, str]) -> str:
    """`城市照明管理中心 (BJ-LIGHTING)`, or the code alone when its name is not known here."""
    if code is None:
        return "—"
    name = names.get(code)
    return f"{name} ({code})" if name else code


def alarm_summary(limit: str, what: str, at: datetime, unit: str | None = None) -> str:
    """A timer's summary: `联系时限提醒 12-03 19:11 +08:00`, `办结时限到期 …`; a part's timer
    names its unit first."""
    text = f"{LIMIT_NAMES.get(limit, limit)}{'提醒' if what == 'reminder' else '到期'} {beijing(at, year=False)}"
    return f"{unit} {text}" if unit else text


def running_limits(view: AppealView) -> list[tuple[str, datetime, bool]]:
    """The limits running now and not yet met: (name, due, missed), earliest first."""
    found = []
    for name, statuses in RUNNING.items():
        limit = view.limits.get(name)
        if limit is None or view.status not in statuses or limit.met_at is not None:
            continue
        if name == "contact" and view.contacted_at is not None:
            continue
        found.append((name, limit.due, limit.missed))
    return sorted(found, key=lambda f: f[1])


def appeal_details(view: AppealView, names: dict[str, str], since: datetime | None, now: datetime) -> str:
    """The appeal's current details, as markdown."""
    status = f"**状态** {STATUS_NAMES.get(view.status, view.status.value)} (`{view.status.value}`)"
    if since is not None:
        status += f" · 自 {beijing(since)} 起 ({span(now - since)})"
    lines = [status, f"**承办单位** {named(view.handling_unit, names)}"]
    for name, due, missed in running_limits(view):
        state = "已超时 (已督办)" if missed else time_left(due, now)
        lines.append(f"**{LIMIT_NAMES.get(name, name)}** {beijing(due)} · {state}")
    waiting = [p for p in view.parts.values() if p.open]
    if waiting:
        lines.append("**等待** " + "；".join(_part_line(p, names, now) for p in waiting))
    flags = []
    if view.overdue:
        flags.append("**已超期**")
    if view.supervision_level:
        flags.append(f"督办: {'市级' if view.supervision_level == 'municipal' else '区级'}")
    elif view.supervised:
        flags.append("已升级督办")
    if view.extension == "requested":
        flags.append("延期申请待审")
    if view.rehandle_count:
        flags.append(f"重办 {view.rehandle_count} 次")
    if view.master_no:
        flags.append(f"并入 {view.master_no}")
    if view.projection_failed:
        flags.append("**数据库记录失败**")
    if flags:
        lines.append(" · ".join(flags))
    return "  \n".join([*lines, as_of(now)])


def as_of(now: datetime) -> str:
    """The details are written at each change, not when read: times left count from here."""
    return f"_截至 {beijing(now)} (剩余时间按此计)_"


def _part_line(part: PartView, names: dict[str, str], now: datetime) -> str:
    status = PART_STATUS_NAMES.get(part.status.value, part.status.value)
    text = f"{PART_KIND_NAMES.get(part.kind, part.kind.value)} {named(part.unit, names)} {status}, 时限 {beijing(part.due)}"
    return text + (" **已超时**" if part.overdue else f" ({time_left(part.due, now)})")


def part_details(part: PartView, lead_unit: str, names: dict[str, str], since: datetime, now: datetime) -> str:
    """A part's current details, as markdown."""
    status = PART_STATUS_NAMES.get(part.status.value, part.status.value)
    lines = [
        f"**状态** {status} (`part_{part.status.value}`) · 自 {beijing(since)} 起 ({span(now - since)})",
        f"**{PART_KIND_NAMES.get(part.kind, part.kind.value)}单位** {named(part.unit, names)} · **主办** {named(lead_unit, names)}",
    ]
    if part.open:
        if part.report_in_due is not None and part.accepted_at is None:
            state = "已超时" if part.report_in_missed else time_left(part.report_in_due, now)
            lines.append(f"**{LIMIT_NAMES['report_in']}** {beijing(part.report_in_due)} · {state}")
        state = "已超时 (已督办)" if part.missed else time_left(part.due, now)
        lines.append(f"**{LIMIT_NAMES['part']}** {beijing(part.due)} · {state}")
    if part.overdue:
        lines.append("**已超期**")
    return "  \n".join([*lines, as_of(now)])


def _coded(name: str | None, code: str) -> str:
    return f"{name} (`{code}`)" if name else f"`{code}`"


def intake_summary(inp: AppealInput) -> str:
    """The workflow's static summary, the line of the UI's list: category, unit and place by
    name (`路灯不亮 · 城市照明管理中心 · 东城区安定门街道`; codes where the intake knew no name)."""
    names = inp.names
    unit = names.get(inp.unit, inp.unit) if inp.unit else "待派单"  # held, or routed by the workflow
    place = "".join(names.get(p, p) for p in (inp.district, inp.street) if p) or "地点未填"
    return f"{names.get(inp.category, inp.category)} · {unit} · {place}"


def intake_details(inp: AppealInput) -> str:
    """The workflow's static details (markdown): the order as intake recorded it, by name with
    the codes beside, and nothing of the citizen or the appeal's text."""
    names = inp.names
    place = "".join(names.get(p, p) for p in (inp.district, inp.street) if p) or "地点未填"
    codes = " / ".join(p for p in (inp.district, inp.street) if p) or "—"
    return "  \n".join(
        [
            f"**工单** {inp.appeal_no}",
            f"**类型** {_coded(TYPE_NAMES.get(inp.appeal_type), inp.appeal_type.value)}"
            f" · **紧急程度** {_coded(URGENCY_NAMES.get(inp.urgency), inp.urgency.value)}",
            f"**类别** {names.get(inp.category, inp.category)} ({inp.category})",
            f"**地点** {place} ({codes})",
            f"**渠道** {_coded(CHANNEL_NAMES.get(inp.channel), inp.channel.value)}"
            f" · **受理** {_coded(DECISION_NAMES.get(inp.decision), inp.decision.value)}",
        ]
    )


#: The limits a list shows beside an appeal, by the statuses where each runs: the limits the
#: workflow keeps, and the objection window while the unit may still object.
SHOWN_LIMITS: dict[str, tuple[AppealStatus, ...]] = {**RUNNING, "objection": OBJECTING}


def nearest_limit(status: str, limits: Mapping[str, Mapping[str, Any]]) -> tuple[str, Mapping[str, Any]] | None:
    """The nearest limit an appeal in `status` still has to meet, a missed one first (it is the
    most urgent), from its limits as JSON (`met_at`, `missed`, `due` in UTC ISO form): what
    lists show beside it. None once nothing runs (answered, done, closed)."""
    running = [
        (name, limit)
        for name, limit in limits.items()
        if limit.get("met_at") is None and status in SHOWN_LIMITS.get(name, ())
    ]
    if not running:
        return None
    return min(running, key=lambda item: (not item[1].get("missed"), item[1]["due"]))

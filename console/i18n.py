"""The console's words, Chinese first (zh-CN), English beside. Each page module registers its own
messages (`register`), so a page and its words change together; `tests/console` checks that
every key a template uses exists in both languages."""

from __future__ import annotations

LANGUAGES = ("zh", "en")
DEFAULT = "zh"

_MESSAGES: dict[str, tuple[str, str]] = {}


def register(messages: dict[str, tuple[str, str]]) -> None:
    """Add (zh, en) messages by key. A key registered twice with other words is a mistake."""
    for key, words in messages.items():
        if key in _MESSAGES and _MESSAGES[key] != words:
            raise ValueError(f"console message {key!r} registered twice with different words")
        _MESSAGES[key] = words


def text(key: str, lang: str) -> str:
    """The message in the language; the key itself when there is none (a test finds those)."""
    words = _MESSAGES.get(key)
    if words is None:
        return key
    return words[1] if lang == "en" else words[0]


def known(key: str) -> bool:
    return key in _MESSAGES


register({
    "app.name": ("12345 接诉即办工作台", "12345 appeal console"),
    "nav.home": ("首页", "Home"),
    "nav.intake": ("新建工单", "New order"),
    "nav.queues": ("待办队列", "Queues"),
    "nav.appeals": ("工单查询", "Appeals"),
    "nav.inbox": ("工单收件箱", "Inbox"),
    "nav.parts": ("协办与吹哨", "Parts & whistles"),
    "nav.supervision": ("督办", "Supervision"),
    "nav.analytics": ("分析", "Analytics"),
    "nav.admin": ("管理", "Administration"),
    "nav.logout": ("退出", "Log out"),
    "nav.lang": ("English", "中文"),
    "login.title": ("登录", "Log in"),
    "login.username": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.failed": ("用户名或密码错误", "Wrong username or password"),
    "login.shift": ("登录在本班次结束时（8 小时）失效。", "The login ends with the shift (8 hours)."),
    "csrf.failed": ("表单已过期，请重新提交。", "The form expired: send it again."),
    "role.operator": ("话务员", "Operator"),
    "role.unit_staff": ("承办单位", "Unit staff"),
    "role.supervisor": ("督办", "Supervisor"),
    "role.analyst": ("分析", "Analyst"),
    "role.administrator": ("管理员", "Administrator"),
    # appeal statuses (domain.messages.AppealStatus)
    "status.received": ("待派单", "Received"),
    "status.answered": ("已答复", "Answered"),
    "status.dispatched": ("已派单", "Dispatched"),
    "status.accepted": ("已接单", "Accepted"),
    "status.objection_raised": ("管辖异议待审", "Objection raised"),
    "status.contacted": ("已联系诉求人", "Contacted"),
    "status.in_progress": ("办理中", "In progress"),
    "status.awaiting_evaluation": ("待回访", "Awaiting evaluation"),
    "status.rehandling": ("重办中", "Re-handling"),
    "status.closed": ("已结案", "Closed"),
    "status.linked": ("已并案", "Linked"),
    # choices of the action forms, by value (domain.messages' enums)
    "enum.satisfied": ("满意", "Satisfied"),
    "enum.basically_satisfied": ("基本满意", "Basically satisfied"),
    "enum.unsatisfied": ("不满意", "Unsatisfied"),
    "enum.yes": ("是", "Yes"),
    "enum.no": ("否", "No"),
    "enum.not_asked": ("未询问", "Not asked"),
    "enum.co_handling": ("协办", "Co-handling"),
    "enum.whistle": ("吹哨报到", "Whistle"),
    "part.requested": ("待接收", "Requested"),
    "part.accepted": ("已接收", "Accepted"),
    "part.declined": ("申请退回", "Declined"),
    "part.done": ("已完成", "Done"),
    "part.closed": ("已关闭", "Closed"),
    "part.failed": ("流程失败", "Failed"),
    # appeal types and urgencies (domain.types)
    "type.consultation": ("咨询", "Consultation"),
    "type.help": ("求助", "Help"),
    "type.complaint": ("投诉", "Complaint"),
    "type.report": ("举报", "Report"),
    "type.suggestion": ("建议", "Suggestion"),
    "urgency.emergency": ("紧急", "Emergency"),
    "urgency.utility": ("水电气热", "Utility"),
    "urgency.ordinary": ("一般", "Ordinary"),
    "urgency.complex": ("疑难复杂", "Complex"),
    # limits (domain.appeal's clocks)
    "limit.objection": ("异议时限", "Objection window"),
    "limit.contact": ("联系时限", "Contact limit"),
    "limit.completion": ("办结时限", "Completion limit"),
    "limit.return_visit": ("回访时限", "Return visit"),
    "limit.report_in": ("报到时限", "Report-in limit"),
    "limit.done": ("完成时限", "Done limit"),
    "left.missed": ("已超时", "missed"),
    "left.met": ("已完成", "met"),
    "left.days": ("{d}天{h}小时", "{d} d {h} h"),
    "left.hours": ("{h}小时{m}分", "{h} h {m} min"),
    "left.minutes": ("{m}分钟", "{m} min"),
    # the appeal page
    "appeal.title": ("工单 {no}", "Appeal {no}"),
    "appeal.status": ("状态", "Status"),
    "appeal.type": ("类型", "Type"),
    "appeal.category": ("类别", "Category"),
    "appeal.urgency": ("紧急程度", "Urgency"),
    "appeal.place": ("地点", "Place"),
    "appeal.content": ("诉求内容", "Content"),
    "appeal.unit": ("承办单位", "Handling unit"),
    "appeal.received": ("受理时间", "Received"),
    "appeal.limits": ("时限", "Limits"),
    "appeal.due": ("截止", "Due"),
    "appeal.left": ("剩余", "Left"),
    "appeal.parts": ("协办与吹哨", "Parts"),
    "appeal.timeline": ("办理记录", "Timeline"),
    "appeal.actions": ("可办理操作", "Actions"),
    "appeal.no_actions": ("当前没有可办理的操作。", "Nothing to do now."),
    "appeal.overdue": ("已超期", "Overdue"),
    "appeal.supervised": ("督办中", "Supervised"),
    "appeal.contact": ("市民联系方式", "Citizen's contact"),
    "appeal.contact_show": ("查看联系方式（留痕）", "Show contact (audited)"),
    "appeal.done": ("已提交：{what}", "Done: {what}"),
    "appeal.temporal": ("在 Temporal UI 中查看流程", "Workflow in the Temporal UI"),
    "appeal.not_found": ("工单不存在，或您无权查看。", "No such appeal, or not yours to see."),
    # lists
    "list.search": ("搜索", "Search"),
    "list.filter": ("筛选", "Filter"),
    "list.all": ("全部", "All"),
    "list.empty": ("没有符合条件的工单。", "Nothing here."),
    "list.total": ("共 {n} 件", "{n} in all"),
    "list.total_more": ("超过 {n} 件（请缩小条件）", "more than {n} (narrow the filters)"),
    "list.next": ("下一页", "Next"),
    "list.prev": ("上一页", "Previous"),
    "list.csv": ("导出 CSV", "CSV"),
    "list.overdue_only": ("仅超期", "Overdue only"),
    "list.auto": ("自动刷新", "Updates by itself"),
    "inbox.title": ("本单位工单", "The unit's appeals"),
    "appeals.title": ("工单查询", "Appeals"),
    "col.no": ("工单号", "No."),
    "col.received": ("受理", "Received"),
    "col.next_due": ("最近时限", "Next limit"),
    "col.left": ("剩余时间", "Time left"),
    "form.submit": ("提交", "Send"),
    "form.yes": ("是", "Yes"),
    "form.no": ("否", "No"),
    "form.required": ("必填", "required"),
    "form.units_hint": ("可多选；输入单位名称或代码", "one or more; type a unit's name or code"),
    # timeline events (domain.events.EventKind)
    "event.received": ("受理", "Received"),
    "event.not_accepted": ("不予受理", "Not accepted"),
    "event.transferred_to_emergency": ("转紧急服务", "Transferred to an emergency service"),
    "event.dispatch_needed": ("待人工派单", "Dispatch needed"),
    "event.dispatched": ("派单", "Dispatched"),
    "event.answered": ("直接答复", "Answered"),
    "event.accepted": ("接单", "Accepted"),
    "event.objection_raised": ("提出管辖异议", "Objection raised"),
    "event.objection_rejected": ("异议不成立", "Objection rejected"),
    "event.objection_upheld": ("异议成立，改派", "Objection upheld"),
    "event.contacted": ("已联系诉求人", "Citizen contacted"),
    "event.phased_report": ("阶段性反馈", "Phased report"),
    "event.extension_requested": ("申请延期", "Extension requested"),
    "event.extension_rejected": ("延期未批准", "Extension rejected"),
    "event.extension_approved": ("延期已批准", "Extension approved"),
    "event.reported_done": ("反馈办理结果", "Reported done"),
    "event.evaluated": ("回访评价", "Evaluated"),
    "event.rehandling": ("退回重办", "Re-handling"),
    "event.closed": ("结案", "Closed"),
    "event.rejected": ("操作被拒绝", "Action refused"),
    "event.reminder": ("时限提醒", "Reminder"),
    "event.limit_missed": ("超过时限", "Limit missed"),
    "event.escalated": ("升级督办", "Escalated"),
    "event.co_handling_requested": ("请求协办", "Co-handling requested"),
    "event.whistle_blown": ("吹哨", "Whistle blown"),
    "event.part_accepted": ("协办单位接收", "Part accepted"),
    "event.part_reported_in": ("部门报到", "Reported in"),
    "event.part_phased_report": ("协办阶段性反馈", "Part phased report"),
    "event.part_done": ("协办完成", "Part done"),
    "event.part_declined": ("协办退回", "Part declined"),
    "event.part_decline_upheld": ("退回成立", "Decline upheld"),
    "event.part_decline_rejected": ("退回不成立", "Decline rejected"),
    "event.part_closed": ("协办关闭", "Part closed"),
    "event.part_failed": ("协办流程失败", "Part failed"),
    "event.part_reminder": ("协办时限提醒", "Part reminder"),
    "event.part_limit_missed": ("协办超时", "Part limit missed"),
    "event.department_rated": ("评价部门", "Department rated"),
    "event.stale_part_message": ("过期的协办消息", "Stale part message"),
    "event.supervised": ("督办", "Supervised"),
    "event.transferred_out": ("转出", "Transferred out"),
    "event.linked": ("并案", "Linked"),
    "event.unlinked": ("解除并案", "Unlinked"),
    "event.appeal_linked_here": ("重复工单并入", "Duplicate linked here"),
    "event.master_reported_done": ("主工单办结", "Master reported done"),
    "event.cancelled": ("管理员取消", "Cancelled"),
    "event.workflow_restarted": ("流程重启", "Workflow restarted"),
    "event.workflow_ended": ("流程已结束", "Workflow ended"),
    "event.projection_failed": ("记录失败", "Record failed"),
    "error.title": ("出错了", "Something went wrong"),
    "error.back": ("返回", "Back"),
})

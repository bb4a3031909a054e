"""One appeal: its facts, limits, parts and timeline, the citizen's contact as the rules allow
(each full view audited by the API), and a form for each action valid now — those the API's
`GET /appeals/{no}/actions` offers, which are the workflow's own rules."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from console import i18n
from console.client import ApiProblem
from console.forms import body_from, fields_of
from console.render import page
from console.session import BASE, Session, SessionDep

router = APIRouter(prefix=BASE, include_in_schema=False)

AppealNo = Annotated[str, Path(max_length=32, pattern=r"^[A-Za-z0-9-]+$")]

i18n.register(
    {
        # actions, by the last segment of their path
        "action.dispatch": ("派单", "Dispatch"),
        "action.answer": ("直接答复", "Answer"),
        "action.accept": ("签收", "Accept"),
        "action.objection": ("提出管辖异议", "Raise a jurisdiction objection"),
        "action.objection-review": ("审核异议", "Review the objection"),
        "action.contact": ("记录已联系市民", "Record the contact"),
        "action.phased-report": ("阶段性反馈", "Phased report"),
        "action.extension": ("申请延期", "Request an extension"),
        "action.extension-review": ("审核延期", "Review the extension"),
        "action.complete": ("反馈办理结果", "Report the result"),
        "action.evaluation": ("记录回访评价", "Record the evaluation"),
        "action.co-handling": ("请求协办", "Ask for co-handling"),
        "action.whistle": ("吹哨", "Blow the whistle"),
        "action.parts/close": ("关闭协办", "Close a part"),
        "action.parts/rate": ("评价协办", "Rate a part"),
        "action.supervise": ("督办", "Supervise"),
        "action.transfer": ("转出", "Transfer out"),
        "action.link": ("并案", "Link as duplicate"),
        "action.report-in": ("报到", "Report in"),
        "action.report": ("反馈完成", "Report done"),
        "action.decline": ("退回", "Decline"),
        "action.decline-review": ("审核退回", "Review the decline"),
        # their fields
        "field.unit": ("单位", "Unit"),
        "field.units": ("单位", "Units"),
        "field.answer": ("答复内容", "Answer"),
        "field.reason": ("理由", "Reason"),
        "field.suggested_unit": ("建议承办单位", "Suggested unit"),
        "field.uphold": ("异议成立（改派）", "Uphold (re-dispatch)"),
        "field.new_unit": ("改派至", "New unit"),
        "field.comment": ("意见", "Comment"),
        "field.note": ("说明", "Note"),
        "field.progress": ("办理进展", "Progress"),
        "field.expected_date": ("预计办结日期", "Expected date"),
        "field.approve": ("同意延期", "Approve"),
        "field.result": ("办理结果", "Result"),
        "field.late_reason": ("超期原因", "Reason for the delay"),
        "field.resolved": ("问题已解决", "Resolved"),
        "field.satisfaction": ("满意度", "Satisfaction"),
        "field.contacted": ("承办单位是否联系了市民", "Did the unit contact the citizen"),
        "field.task": ("任务", "Task"),
        "field.limit_working_days": ("完成时限（工作日）", "Limit (working days)"),
        "field.report_in_hours": ("报到时限（小时）", "Report in within (hours)"),
        "field.kind": ("类型", "Kind"),
        "field.rating": ("评分（1–5）", "Rating (1–5)"),
        "field.new_due": ("新的办结时限", "New due"),
        "field.escalate": ("升级督办", "Escalate"),
        "field.hotline": ("转至热线", "Hotline"),
        "field.external_no": ("对方工单号", "Their number"),
        "field.master_no": ("主工单号", "Master appeal"),
        "field.plan": ("方案", "Plan"),
        "part.of": ("{unit} 的{kind}", "{kind} of {unit}"),
    }
)


async def _appeal_page(
    request: Request,
    session: Session,
    appeal_no: str,
    *,
    status_code: int = 200,
    failed: dict[str, Any] | None = None,
    flash: str | None = None,
) -> HTMLResponse:
    api = session.api
    try:
        appeal = await api.get(f"/appeals/{appeal_no}")
    except ApiProblem as problem:
        message = i18n.text("appeal.not_found", session.lang) if problem.status == 404 else problem.message
        return await page(request, "error.html", session, status_code=problem.status, message=message, back=BASE)
    actions = await api.get(f"/appeals/{appeal_no}/actions")
    timeline = await api.get(f"/appeals/{appeal_no}/timeline")
    forms = []
    for action in actions:
        fields = fields_of(action["body"])
        mine = failed is not None and failed["path"] == action["path"]
        forms.append(
            {
                **action,
                "fields": fields,
                "key": secrets.token_urlsafe(12),  # the form's Idempotency-Key: a double click acts once
                "values": failed["values"] if mine else {},
                "errors": failed["errors"] if mine else {},
                "message": failed["message"] if mine else None,
                "open": mine,
            }
        )
    settings = request.app.state.settings
    temporal_ui = f"{settings.temporal_ui}/namespaces/{settings.temporal_namespace}/workflows/appeal-{appeal_no}"
    return await page(
        request,
        "appeal.html",
        session,
        status_code=status_code,
        appeal=appeal,
        forms=forms,
        timeline=timeline,
        flash=flash,
        temporal_ui=temporal_ui,
    )


@router.get("/appeals/{appeal_no}", response_class=HTMLResponse)
async def appeal_page(request: Request, appeal_no: AppealNo, session: SessionDep, done: str | None = None):
    flash = None
    if done:
        flash = i18n.text("appeal.done", session.lang).format(what=i18n.text(f"action.{done[:40]}", session.lang))
    return await _appeal_page(request, session, appeal_no, flash=flash)


@router.post("/appeals/{appeal_no}/act", response_class=HTMLResponse)
async def act(request: Request, appeal_no: AppealNo, session: SessionDep):
    """Take one of the offered actions: the form's fields become the action's body, sent to the
    action's API path; a refusal comes back as the form with the reason by each field."""
    form = await request.form()
    path = str(form.get("action_path", ""))
    offered = {a["path"]: a for a in await session.api.get(f"/appeals/{appeal_no}/actions")}
    action = offered.get(path)
    if action is None:  # not (or no longer) valid now: show the page as it is
        return await _appeal_page(
            request, session, appeal_no, status_code=409, flash=i18n.text("appeal.no_actions", session.lang)
        )
    fields = fields_of(action["body"])
    values = {name: [str(v) for v in form.getlist(name)] for name in form.keys()}
    body = body_from(fields, values)
    try:
        await session.api.post(path, body, idempotency_key=str(form.get("idempotency_key", ""))[:64] or None)
    except ApiProblem as problem:
        errors = {name.split(".")[-1]: reason for name, reason in problem.fields.items()}
        failed = {
            "path": path,
            "values": {k: v[-1] for k, v in values.items() if v},
            "errors": errors,
            "message": problem.message,
        }
        return await _appeal_page(request, session, appeal_no, status_code=problem.status, failed=failed)
    return RedirectResponse(f"{BASE}/appeals/{appeal_no}?done={action['route']}", status_code=303)


@router.post("/appeals/{appeal_no}/contact", response_class=HTMLResponse)
async def show_contact(request: Request, appeal_no: AppealNo, session: SessionDep):
    """The citizen's contact, as the API shows it to this user (the full view is audited there)."""
    try:
        contact = await session.api.get(f"/appeals/{appeal_no}/contact")
    except ApiProblem as problem:
        return await page(request, "parts/contact.html", session, status_code=problem.status, error=problem.message)
    return await page(request, "parts/contact.html", session, contact=contact)

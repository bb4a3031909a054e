"""The citizen's (市民) page: the link the operator reads out, `/console/citizen/{no}?t=<token>`.

No login: the page asks the API with the appeal's citizen token (`X-Citizen-Token`), so it shows
what the API shows a citizen — the status, the units by name and never a staff member's — and
offers the evaluation exactly when the API does (`GET /appeals/{no}/actions`). A wrong token, or
an appeal that does not exist, is the same plain 404.

The form has no session cookie to bind a CSRF token to: its token is bound to the citizen token
instead (`console.session.csrf_token` of `citizen:<token>`), so a form made elsewhere cannot post
an evaluation without knowing the citizen's token.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from console import i18n
from console.client import Api, ApiProblem
from console.i18n import text
from console.render import page
from console.session import BASE, CSRF_FIELD, csrf_token, language, secret_of

router = APIRouter(prefix=BASE, include_in_schema=False)

AppealNo = Annotated[str, Path(max_length=32)]
Token = Annotated[str, Query()]  # any length: a wrong token is the one 404 page, never a 422

#: the events a citizen reads on the page, each in plain words; the rest (reminders, escalations,
#: refused actions, the units' exchanges with the hotline) are the staff's
SHOWN = (
    "received",
    "not_accepted",
    "transferred_to_emergency",
    "dispatched",
    "answered",
    "accepted",
    "objection_upheld",
    "contacted",
    "phased_report",
    "extension_approved",
    "co_handling_requested",
    "whistle_blown",
    "reported_done",
    "evaluated",
    "rehandling",
    "transferred_out",
    "linked",
    "closed",
)
#: the details of an event a citizen reads (what the unit or the hotline said to them), by event
DETAILS = {
    "answered": ("answer",),
    "dispatched": ("completion_due",),
    "phased_report": ("progress", "expected_date"),
    "extension_approved": ("completion_due",),
    "reported_done": ("result",),
    "evaluated": ("satisfaction",),
    "rehandling": ("completion_due",),
}
#: the evaluation's choices, in the order the form offers them
RESOLVED = ("true", "false")
SATISFACTION = ("satisfied", "basically_satisfied", "unsatisfied")
CONTACTED = ("yes", "no", "not_asked")

i18n.register(
    {
        "citizen.title": ("我的诉求", "My appeal"),
        "citizen.brand": ("北京12345 市民服务热线", "Beijing 12345 hotline"),
        "citizen.no": ("工单号 {no}", "Order {no}"),
        "citizen.now": ("当前进度", "Where it stands"),
        "citizen.unit": ("承办单位", "Handled by"),
        "citizen.category": ("问题类别", "Kind of problem"),
        "citizen.place": ("地点", "Where"),
        "citizen.received": ("受理时间", "Received"),
        "citizen.due": ("办理时限", "To be done by"),
        "citizen.history": ("办理经过", "What happened"),
        "citizen.not_found_title": ("链接无效", "Link not valid"),
        "citizen.not_found": (
            "这个链接无效或已失效。请核对短信中的链接，或拨打 12345 查询。",
            "This link is not valid (or no longer). Check the link in the text message, or call 12345.",
        ),
        "citizen.thanks": ("感谢您的评价！", "Thank you for your evaluation."),
        "citizen.evaluate": ("请评价办理情况", "Please evaluate the handling"),
        "citizen.evaluate_hint": ("您的评价将用于考核承办单位。", "Your answers count in the unit's assessment."),
        "citizen.resolved": ("您反映的问题解决了吗？", "Was the problem resolved?"),
        "citizen.resolved.true": ("已解决", "Resolved"),
        "citizen.resolved.false": ("未解决", "Not resolved"),
        "citizen.satisfaction": ("您对办理结果满意吗？", "Are you satisfied with the handling?"),
        "citizen.contacted": ("承办单位联系过您吗？", "Did the unit get in touch with you?"),
        "citizen.contacted.yes": ("联系过", "Yes"),
        "citizen.contacted.no": ("没有联系", "No"),
        "citizen.contacted.not_asked": ("记不清", "I don't remember"),
        "citizen.comment": ("其他意见（选填）", "Anything else (optional)"),
        "citizen.submit": ("提交评价", "Send"),
        "citizen.refused": ("未能提交：{why}", "Not sent: {why}"),
        "citizen.required": ("请选择一项", "Choose one"),
        "citizen.not_now": (
            "现在不能评价：可能已经评价过，或工单已办结。",
            "It cannot be evaluated now: evaluated already, or closed.",
        ),
        "citizen.expired": ("页面已过期，请刷新后重新提交。", "The page expired: reload it and send again."),
        # where the appeal stands, as a citizen reads it (domain.messages.AppealStatus)
        "citizen.status.received": ("已受理，正在安排办理单位", "Received: a unit is being chosen"),
        "citizen.status.answered": ("已答复", "Answered"),
        "citizen.status.dispatched": ("已转交承办单位", "Passed to the unit"),
        "citizen.status.accepted": ("承办单位已接单", "The unit took it on"),
        "citizen.status.objection_raised": ("正在核实承办单位", "The responsible unit is being confirmed"),
        "citizen.status.contacted": ("办理中", "Being handled"),
        "citizen.status.in_progress": ("办理中", "Being handled"),
        "citizen.status.rehandling": ("重新办理中", "Being handled again"),
        "citizen.status.awaiting_evaluation": ("已办理完毕，等待您的评价", "Done: waiting for your evaluation"),
        "citizen.status.closed": ("已办结", "Closed"),
        "citizen.status.linked": ("已与同一事项合并办理", "Handled together with the same matter"),
        # what happened, in plain words (domain.events.EventKind)
        "citizen.event.received": ("12345 受理了您的诉求", "12345 received your appeal"),
        "citizen.event.not_accepted": ("不属于热线受理范围", "Not something the hotline handles"),
        "citizen.event.transferred_to_emergency": ("已转紧急服务", "Passed to an emergency service"),
        "citizen.event.dispatched": ("转交 {unit} 办理", "Passed to {unit}"),
        "citizen.event.answered": ("12345 答复了您", "12345 answered you"),
        "citizen.event.accepted": ("{unit} 接单", "{unit} took it on"),
        "citizen.event.objection_upheld": ("改由其他单位办理", "Passed to another unit"),
        "citizen.event.contacted": ("{unit} 与您联系", "{unit} got in touch with you"),
        "citizen.event.phased_report": ("{unit} 反馈办理进展", "{unit} reported progress"),
        "citizen.event.extension_approved": ("办理时限延长", "More time was given"),
        "citizen.event.co_handling_requested": ("多个单位协同办理", "Other units help"),
        "citizen.event.whistle_blown": ("街乡吹哨，相关部门报到协同办理", "Departments summoned to help"),
        "citizen.event.reported_done": ("{unit} 反馈办理结果", "{unit} reported the result"),
        "citizen.event.evaluated": ("收到评价", "Evaluation received"),
        "citizen.event.rehandling": ("退回 {unit} 重新办理", "Sent back to {unit} to handle again"),
        "citizen.event.transferred_out": ("转至其他热线办理", "Passed to another hotline"),
        "citizen.event.linked": ("与同一事项合并办理", "Handled together with the same matter"),
        "citizen.event.closed": ("办结", "Closed"),
        "citizen.detail.answer": ("答复", "Answer"),
        "citizen.detail.result": ("办理结果", "Result"),
        "citizen.detail.progress": ("进展", "Progress"),
        "citizen.detail.expected_date": ("预计完成", "Expected"),
        "citizen.detail.completion_due": ("办理时限", "To be done by"),
        "citizen.detail.satisfaction": ("满意度", "Satisfaction"),
    }
)


def citizen_csrf(secret: str, token: str) -> str:
    """The evaluation form's token: bound to the citizen's token (there is no session)."""
    return csrf_token(secret, f"citizen:{token}")


def plain_timeline(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events a citizen reads, each with the details meant for them."""
    return [
        {**e, "shown": {k: e["detail"][k] for k in DETAILS.get(e["kind"], ()) if (e.get("detail") or {}).get(k)}}
        for e in events
        if e["kind"] in SHOWN
    ]


def evaluation_body(form: dict[str, str]) -> dict[str, Any]:
    """`POST /appeals/{no}/evaluation`'s body from the form; an unanswered question is left out
    (the API says it is required)."""
    body: dict[str, Any] = {}
    if form.get("resolved") in RESOLVED:
        body["resolved"] = form["resolved"] == "true"
    if form.get("satisfaction"):
        body["satisfaction"] = form["satisfaction"]
    if form.get("contacted"):
        body["contacted"] = form["contacted"]
    if comment := form.get("comment", "").strip():
        body["comment"] = comment
    return body


def _plain(reason: str, lang: str) -> str:
    """A question left unanswered, in the citizen's words; any other reason as the API gives it."""
    return i18n.text("citizen.required", lang) if "required" in reason.lower() else reason


async def _not_found(request: Request) -> HTMLResponse:
    return await page(request, "citizen/not_found.html", status_code=404)


async def _citizen_page(
    request: Request,
    appeal_no: str,
    t: str,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    thanks: bool = False,
) -> HTMLResponse:
    if not t or len(t) > 64:
        return await _not_found(request)
    api = Api(request, citizen_token=t)
    try:
        appeal = await api.get(f"/appeals/{appeal_no}")
        timeline = await api.get(f"/appeals/{appeal_no}/timeline")
        offered = {a["route"] for a in await api.get(f"/appeals/{appeal_no}/actions")}
    except ApiProblem as problem:
        if problem.status in (401, 403, 404, 422):
            return await _not_found(request)
        raise
    finally:
        await api.aclose()
    here = f"{BASE}/citizen/{appeal_no}?{urlencode({'t': t})}"
    return await page(
        request,
        "citizen/appeal.html",
        status_code=status_code,
        appeal=appeal,
        timeline=plain_timeline(timeline),
        evaluate="evaluation" in offered,
        token=t,
        citizen_csrf=citizen_csrf(secret_of(request), t),
        csrf_field=CSRF_FIELD,
        key=secrets.token_urlsafe(16),
        values=values or {},
        errors=errors or {},
        message=message,
        thanks=thanks,
        path=here,
        resolved_choices=RESOLVED,
        satisfaction_choices=SATISFACTION,
        contacted_choices=CONTACTED,
    )


@router.get("/citizen/{appeal_no}", response_class=HTMLResponse)
async def citizen_page(request: Request, appeal_no: AppealNo, t: Token = "", done: str | None = None):
    """The appeal as its citizen sees it, phone-sized, with the evaluation when it is due."""
    return await _citizen_page(request, appeal_no, t, thanks=done == "1")


@router.post("/citizen/{appeal_no}", response_class=HTMLResponse)
async def evaluate(request: Request, appeal_no: AppealNo):
    """The citizen's evaluation, sent on with their token; a refusal comes back as the form with
    the reason by each question."""
    form = await request.form()
    values = {k: str(form.get(k, ""))[:2000] for k in ("t", "resolved", "satisfaction", "contacted", "comment")}
    t = values.pop("t")[:64]
    if not t:
        return await _not_found(request)
    given = str(form.get(CSRF_FIELD, ""))
    if not hmac.compare_digest(given.encode(), citizen_csrf(secret_of(request), t).encode()):
        return await _citizen_page(
            request,
            appeal_no,
            t,
            status_code=403,
            values=values,
            message=i18n.text("citizen.expired", language(request)),
        )
    api = Api(request, citizen_token=t)
    try:
        await api.post(
            f"/appeals/{appeal_no}/evaluation",
            evaluation_body(values),
            idempotency_key=str(form.get("idempotency_key", ""))[:64] or None,
        )
    except ApiProblem as problem:
        if problem.status in (401, 404):
            return await _not_found(request)
        lang = language(request)
        errors = {name.split(".")[-1]: _plain(reason, lang) for name, reason in problem.fields.items()}
        return await _citizen_page(
            request,
            appeal_no,
            t,
            status_code=problem.status,
            values=values,
            errors=errors,
            # the reasons stand by their questions; an evaluation no longer possible says so plainly
            message=None if errors else text("citizen.not_now", lang) if problem.status == 409 else problem.message,
        )
    finally:
        await api.aclose()
    return RedirectResponse(f"{BASE}/citizen/{appeal_no}?{urlencode({'t': t, 'done': '1'})}", status_code=303)

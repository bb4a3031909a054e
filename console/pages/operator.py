"""The operator's (话务员) new work order, in one screen while the citizen is on the line (the
queues an operator works down are `console.pages.operator_queues`).

The new order is `POST /appeals` as the form sends it, with an Idempotency-Key made when the
form is shown (a double submit records once). Before saving, a partial shows the unit the
dispatch catalogue would choose (`GET /catalogue/route`) and open appeals of the same category
at the same place (`GET /appeals`), updated as the category and the place change.
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from console import i18n
from console.client import Api, ApiProblem
from console.render import page
from console.session import BASE, Session, SessionDep

router = APIRouter(prefix=BASE, include_in_schema=False)

AppealNo = Annotated[str, Path(max_length=32, pattern=r"^[A-Za-z0-9-]+$")]

#: the intake form's fields, named as `POST /appeals` names them (nested ones dotted), so the
#: API's reason for a field lands next to it
FIELDS = (
    "appeal_type",
    "category",
    "location.district",
    "location.street",
    "location.address",
    "content",
    "urgency",
    "citizen.name",
    "citizen.phone",
    "citizen.anonymous",
    "channel",
    "origin.hotline",
    "origin.external_no",
    "decision",
    "answer",
    "not_accepted_reason",
    "emergency_service",
    "unit",
)
#: fields that are ticked or not
CHECKS = frozenset({"citizen.anonymous"})
#: what the form offers (the API's enums: domain.types, domain.messages)
APPEAL_TYPES = ("complaint", "help", "consultation", "report", "suggestion")
URGENCIES = ("emergency", "utility", "ordinary", "complex")
CHANNELS = ("phone", "web", "app", "wechat", "weibo", "letter", "transfer_in")
DECISIONS = ("dispatch", "answer", "hold", "not_accepted", "emergency")
NOT_ACCEPTED_REASONS = ("litigation", "petition", "illegal_demand", "outside_remit")
EMERGENCY_SERVICES = ("110", "119", "120", "122")
HOTLINES = ("tianjin", "hebei")
#: similar open appeals shown before saving
SIMILAR = 5
_CODE = re.compile(r"[A-Za-z0-9.\-_]{1,40}")

i18n.register(
    {
        "intake.title": ("新建工单", "New work order"),
        "intake.what": ("诉求", "The appeal"),
        "intake.where": ("地点", "Where"),
        "intake.who": ("诉求人", "The citizen"),
        "intake.decide": ("处理方式", "Decision"),
        "intake.appeal_type": ("诉求类型", "Type"),
        "intake.category": ("类别", "Category"),
        "intake.category_hint": ("输入名称或代码搜索，如“路灯”", "type a name or a code, e.g. “路灯”"),
        "intake.district": ("区", "District"),
        "intake.street": ("街道/乡镇", "Street or township"),
        "intake.address": ("详细地址", "Address"),
        "intake.content": ("诉求内容", "What the citizen says"),
        "intake.urgency": ("紧急程度", "Urgency"),
        "intake.urgency_default": ("按类别默认", "The category's"),
        "intake.citizen_name": ("姓名", "Name"),
        "intake.citizen_phone": ("联系电话", "Phone"),
        "intake.anonymous": ("匿名（不向承办单位显示身份）", "Anonymous (identity not shown to the unit)"),
        "intake.channel": ("来源渠道", "Channel"),
        "intake.origin_hotline": ("转入热线", "From the hotline"),
        "intake.origin_no": ("对方工单号", "Their number"),
        "intake.decision": ("处理方式", "Decision"),
        "intake.answer": ("答复内容", "The answer given"),
        "intake.not_accepted_reason": ("不予受理原因", "Why it is not accepted"),
        "intake.emergency_service": ("转至", "Transfer to"),
        "intake.unit": ("指定承办单位（可选）", "Dispatch to this unit (optional)"),
        "intake.unit_hint": ("留空则按派单目录", "empty: by the catalogue"),
        "intake.choose": ("请选择", "Choose"),
        "intake.all_streets": ("（先选区，或直接选街道）", "(choose a district, or the street directly)"),
        "intake.submit": ("保存工单", "Save the order"),
        "intake.keys": (
            "Tab 切换字段，Enter 保存（多行内容中按 Ctrl+Enter）。",
            "Tab moves between fields, Enter saves (Ctrl+Enter in the content).",
        ),
        "intake.failed": ("未能保存，请按提示修改：", "Not saved; correct what is marked:"),
        "intake.forbidden": ("只有话务员可以新建工单。", "Only operators record new orders."),
        "preview.title": ("保存前核对", "Before saving"),
        "preview.route": ("派单目录将派至", "The catalogue sends it to"),
        "preview.route_need": (
            "选择类别和区（或街道）后显示派单单位。",
            "Choose the category and the district (or street) to see the unit.",
        ),
        "preview.unit_named": ("将派至指定单位（不按目录）", "Goes to the unit named (not by the catalogue)"),
        "preview.not_dispatched": ("本单不派单：{what}", "Not dispatched: {what}"),
        "preview.reason.rule": ("目录规则", "catalogue rule"),
        "preview.reason.local_street": ("属地街道", "the local street"),
        "preview.reason.backstop": ("区政府兜底", "the district government as backstop"),
        "preview.matched": ("按类别 {category}", "by the category {category}"),
        "preview.urgency": ("类别默认紧急程度：{urgency}", "The category's urgency: {urgency}"),
        "preview.similar": ("同一地点的同类未办结工单", "Open appeals of this category at this place"),
        "preview.similar_none": ("没有同类未办结工单。", "None open."),
        "preview.similar_more": ("共 {n} 件，显示最近 {shown} 件", "{n} in all, the latest {shown} shown"),
        "preview.similar_hint": (
            "如为同一事项，保存后可在工单页“并案”。",
            "If it is the same matter, link it from the appeal page after saving.",
        ),
        "preview.unknown_category": ("未找到该类别，请从列表中选择。", "No such category: choose one from the list."),
        "saved.title": ("工单已保存", "Order saved"),
        "saved.no": ("工单号", "Number"),
        "saved.citizen_link": ("请告知市民查询和评价链接", "Read out the citizen's link (status and evaluation)"),
        "saved.read_out": (
            "您的工单号是 {no}。您可以通过短信中的链接随时查看办理进度，办结后也可以在那里评价。",
            "Your order number is {no}. The link in the text message shows its progress at any time, "
            "and you can evaluate the handling there.",
        ),
        "saved.copy": ("复制链接", "Copy the link"),
        "saved.copied": ("已复制", "Copied"),
        "saved.next": ("新建下一单", "Next order"),
        "saved.open": ("打开工单页", "Open the appeal"),
        "saved.no_link": ("无法生成市民链接（链接已失效）。", "The citizen's link is not valid (it was replaced)."),
        "queues.title": ("待办队列", "Queues"),
        # the choices' words (domain.types, domain.messages)
        "channel.phone": ("电话", "Phone"),
        "channel.web": ("网站", "Web"),
        "channel.app": ("App", "App"),
        "channel.wechat": ("微信", "WeChat"),
        "channel.weibo": ("微博", "Weibo"),
        "channel.letter": ("来信", "Letter"),
        "channel.transfer_in": ("京津冀转入", "Transferred in (Tianjin/Hebei)"),
        "decision.dispatch": ("派单", "Dispatch"),
        "decision.answer": ("直接答复（咨询）", "Answer on the spot"),
        "decision.hold": ("暂存，稍后派单", "Hold, dispatch later"),
        "decision.not_accepted": ("不予受理", "Not accepted"),
        "decision.emergency": ("转紧急服务", "Transfer to an emergency service"),
        "not_accepted.litigation": (
            "已进入诉讼、仲裁或行政复议",
            "In litigation, arbitration or administrative review",
        ),
        "not_accepted.petition": ("已进入信访或纪检程序", "In a petition or discipline procedure"),
        "not_accepted.illegal_demand": ("违法诉求", "An illegal demand"),
        "not_accepted.outside_remit": ("不属于公共部门职责", "Outside any public body's remit"),
        "emergency.110": ("110 报警", "110 police"),
        "emergency.119": ("119 火警", "119 fire"),
        "emergency.120": ("120 急救", "120 ambulance"),
        "emergency.122": ("122 交通事故", "122 traffic police"),
        "hotline.tianjin": ("天津 12345", "Tianjin 12345"),
        "hotline.hebei": ("河北 12345", "Hebei 12345"),
    }
)


# --- pure helpers ------------------------------------------------------------------------------


def leaf_categories(tree: list[dict[str, Any]], lang: str = "zh") -> list[dict[str, str]]:
    """The catalogue's leaf categories, each with its parents' names (`市政设施 › `), in the
    catalogue's order: what the category search offers."""
    found: list[dict[str, str]] = []

    def walk(nodes: list[dict[str, Any]], path: list[str]) -> None:
        for node in nodes:
            name = node["name_en"] if lang == "en" and node.get("name_en") else node["name_zh"]
            if node.get("children"):
                walk(node["children"], [*path, name])
            else:
                found.append(
                    {
                        "code": node["code"],
                        "name": name,
                        "path": " › ".join(path),
                        "urgency": node.get("default_urgency", ""),
                    }
                )

    walk(tree, [])
    return found


def category_code(typed: str, leaves: list[dict[str, str]], known: set[str]) -> str | None:
    """The category the operator chose: the code the list's entry ends with (`路灯不亮 MUNI.STREETLIGHT`),
    a code typed as it is, or a name that matches one leaf only. None when it names none."""
    typed = typed.strip()
    if not typed:
        return None
    last = typed.split()[-1]
    if _CODE.fullmatch(last) and last.upper() in known:
        return last.upper()
    exact = [c["code"] for c in leaves if c["name"] == typed]
    if len(exact) == 1:
        return exact[0]
    partial = [c["code"] for c in leaves if typed in c["name"] or typed in c["path"] + " › " + c["name"]]
    return partial[0] if len(partial) == 1 else None


def unit_code(typed: str) -> str:
    """A unit typed as its code or as `name code` (the units list shows both)."""
    typed = typed.strip()
    return typed.split()[-1] if typed else ""


def intake_body(values: dict[str, str], category: str | None) -> dict[str, Any]:
    """`POST /appeals`'s body from the form: dotted names nested, empty fields left out (the
    API applies its defaults, or names what is missing). A category the form could not resolve
    is sent as typed, for the API to say why it is wrong."""
    body: dict[str, Any] = {}
    for name in FIELDS:
        value = values.get(name, "").strip()
        if name in CHECKS:
            if value:
                _put(body, name, value in ("true", "on", "1"))
            continue
        if name == "category":
            value = category or value
        elif name == "unit":
            value = unit_code(value)
        if value:
            _put(body, name, value)
    if body.get("decision", "dispatch") != "answer":
        body.pop("answer", None)
    if body.get("decision") != "not_accepted":
        body.pop("not_accepted_reason", None)
    if body.get("decision") != "emergency":
        body.pop("emergency_service", None)
    if body.get("decision", "dispatch") != "dispatch":
        body.pop("unit", None)
    if body.get("channel") != "transfer_in":
        body.pop("origin", None)
    return body


def _put(body: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        body = body.setdefault(part, {})
    body[last] = value


def place_query(category: str | None, district: str, street: str) -> dict[str, str] | None:
    """The filter of the open appeals like this one: same category (and its sub-categories), at
    the same street (or district, without a street)."""
    if not category or not (district or street):
        return None
    where = {"street": street} if street else {"district": district}
    return {"category": category, **where, "open": "true", "sort": "newest"}


# --- the new work order ------------------------------------------------------------------------


def operator_only(session: Session) -> bool:
    return session.role == "operator"


async def _form(
    request: Request,
    session: Session,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    key: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    api = session.api
    catalogue = await api.get("/catalogue")
    districts = await api.get("/districts")
    leaves = leaf_categories(catalogue["categories"], session.lang)
    values = values or {}
    shown = dict(values)
    code = category_code(values.get("category", ""), leaves, {c["code"] for c in leaves}) if values else None
    if code:  # as the list shows it
        leaf = next((c for c in leaves if c["code"] == code), None)
        shown["category"] = f"{leaf['name']} {code}" if leaf else code
    known = set(FIELDS)
    return await page(
        request,
        "operator/intake.html",
        session,
        status_code=status_code,
        leaves=leaves,
        districts=districts,
        values=shown,
        errors=errors or {},
        other_errors={k: v for k, v in (errors or {}).items() if k not in known},
        message=message,
        key=key or secrets.token_urlsafe(16),
        appeal_types=APPEAL_TYPES,
        urgencies=URGENCIES,
        channels=CHANNELS,
        decisions=DECISIONS,
        not_accepted_reasons=NOT_ACCEPTED_REASONS,
        emergency_services=EMERGENCY_SERVICES,
        hotlines=HOTLINES,
    )


@router.get("/intake", response_class=HTMLResponse)
async def intake_form(request: Request, session: SessionDep):
    """The new work order: one screen, keyboard first."""
    if not operator_only(session):
        return await page(
            request,
            "error.html",
            session,
            status_code=403,
            message=i18n.text("intake.forbidden", session.lang),
            back=BASE,
        )
    return await _form(request, session)


@router.post("/intake", response_class=HTMLResponse)
async def save_intake(request: Request, session: SessionDep):
    """Record the order (`POST /appeals` with the form's Idempotency-Key); on a refusal, the
    form again with each reason by its field and what was typed kept."""
    form = await request.form()
    values = {name: str(form.get(name, ""))[:5000] for name in FIELDS}
    key = str(form.get("idempotency_key", ""))[:64] or None
    catalogue = await session.api.get("/catalogue")
    leaves = leaf_categories(catalogue["categories"], session.lang)
    code = category_code(values["category"], leaves, {c["code"] for c in leaves})
    body = intake_body(values, code)
    try:
        saved = await session.api.post("/appeals", body, idempotency_key=key)
    except ApiProblem as problem:
        errors = dict(problem.fields)
        if "category" in errors and code is None and values["category"].strip():
            errors["category"] = i18n.text("preview.unknown_category", session.lang) + f" ({errors['category']})"
        return await _form(
            request, session, values=values, errors=errors, message=problem.message, key=key, status_code=problem.status
        )
    no, token = saved["appeal"]["appeal_no"], saved["citizen_token"]
    return RedirectResponse(f"{BASE}/intake/{no}/saved?{urlencode({'t': token})}", status_code=303)


@router.get("/intake/preview", response_class=HTMLResponse)
async def preview(
    request: Request,
    session: SessionDep,
    typed: Annotated[str, Query(alias="category", max_length=200)] = "",
    district: Annotated[str, Query(alias="location.district", max_length=12)] = "",
    street: Annotated[str, Query(alias="location.street", max_length=40)] = "",
    decision: Annotated[str, Query(max_length=20)] = "dispatch",
    unit: Annotated[str, Query(max_length=200)] = "",
):
    """The partial beside the form: the unit the catalogue would choose, and the open appeals
    of this category at this place (the likely duplicates). Its query is the form's fields, by
    their names."""
    named = unit_code(unit)
    api = session.api
    directory = await request.app.state.directory.get()
    known = directory.categories
    leaves = [{"code": c, "name": known[c].name_zh, "path": ""} for c in known]
    code = category_code(typed, leaves, set(known)) if typed else None
    route = route_error = None
    if code and (district or street) and decision == "dispatch" and not named:
        try:
            route = await api.get("/catalogue/route", category=code, district=district or None, street=street or None)
        except ApiProblem as problem:
            route_error = problem.message
    similar = None
    if (where := place_query(code, district, street)) is not None:
        try:
            similar = await api.get("/appeals", **where, limit=SIMILAR)
        except ApiProblem as problem:
            route_error = route_error or problem.message
    category = known.get(code) if code else None
    return await page(
        request,
        "operator/preview.html",
        session,
        code=code,
        typed=typed,
        category=category,
        route=route,
        route_error=route_error,
        similar=similar,
        decision=decision,
        named=named,
        district=district,
        street=street,
    )


@router.get("/intake/{appeal_no}/saved", response_class=HTMLResponse)
async def saved(
    request: Request, appeal_no: AppealNo, session: SessionDep, t: Annotated[str, Query(max_length=64)] = ""
):
    """After saving: the number, where the order went, and the citizen's link to read out."""
    try:
        appeal = await session.api.get(f"/appeals/{appeal_no}")
    except ApiProblem as problem:
        return await page(
            request, "error.html", session, status_code=problem.status, message=problem.message, back=f"{BASE}/intake"
        )
    link = None
    if t:
        citizen = Api(request, citizen_token=t)
        try:  # the link is the citizen's only if the API takes its token
            await citizen.get(f"/appeals/{appeal_no}")
            link = str(request.base_url).rstrip("/") + f"{BASE}/citizen/{appeal_no}?{urlencode({'t': t})}"
        except ApiProblem:
            link = None
        finally:
            await citizen.aclose()
    return await page(request, "operator/saved.html", session, appeal=appeal, link=link)

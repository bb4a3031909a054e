"""The administrator's pages: staff accounts (list, create, re-bind, disable and enable, a new
password: `/users`), the reference data at a glance (units by kind, the category tree, the
time-limit policies, the working-day calendar), the stuck-case queries of docs/operations.md as
links that open the Temporal UI filtered, and the audit of who saw a citizen's personal data."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from console import i18n
from console.client import ApiProblem
from console.render import page
from console.session import BASE, Session, SessionDep
from domain.calendar import CHINA_TZ
from domain.types import Role, UnitKind

router = APIRouter(prefix=BASE, include_in_schema=False)

ADMIN = f"{BASE}/admin"
Username = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Text = Annotated[str, Query(max_length=64)]
USERS_PAGE = 100
UNITS_PAGE = 100
#: the account fields a form sends (the password only where it is set)
ACCOUNT_FIELDS = ("username", "display_name", "role", "unit", "district")

i18n.register(
    {
        "admin.title": ("系统管理", "Administration"),
        "admin.users": ("用户", "Users"),
        "admin.reference": ("基础数据", "Reference data"),
        "admin.temporal": ("流程排查（Temporal）", "Stuck cases (Temporal)"),
        "admin.audit": ("个人信息查看记录", "Personal-data views"),
        # users
        "user.username": ("用户名", "Username"),
        "user.display_name": ("姓名/显示名", "Display name"),
        "user.role": ("角色", "Role"),
        "user.unit": ("所属单位", "Unit"),
        "user.district": ("所属区", "District"),
        "user.password": ("初始密码", "Initial password"),
        "user.new_password": ("新密码", "New password"),
        "user.password_hint": ("至少 12 个字符", "at least 12 characters"),
        "user.binding_hint": (
            "承办单位人员须绑定单位；区级督办绑定区（不填为市级）；其他角色不绑定。",
            "Unit staff are bound to a unit; a district supervisor to a district (none: the city); "
            "the other roles to nothing.",
        ),
        "user.active": ("状态", "State"),
        "user.enabled": ("启用", "Active"),
        "user.disabled": ("已停用", "Disabled"),
        "user.created": ("创建时间", "Created"),
        "user.create": ("新建用户", "New user"),
        "user.created_flash": ("已创建用户 {u}", "User {u} created"),
        "user.saved": ("已保存 {u}", "Saved {u}"),
        "user.disable": ("停用", "Disable"),
        "user.enable": ("启用", "Enable"),
        "user.disabled_flash": ("已停用 {u}（其登录立即失效）", "{u} disabled (their sessions end now)"),
        "user.enabled_flash": ("已启用 {u}", "{u} enabled"),
        "user.password_flash": ("已为 {u} 设置新密码", "New password set for {u}"),
        "user.edit": ("修改", "Edit"),
        "user.bind": ("角色与绑定", "Role and binding"),
        "user.save": ("保存", "Save"),
        "user.set_password": ("重置密码", "Reset the password"),
        "user.self": ("（本人）", "(you)"),
        "user.none": ("—", "—"),
        "user.all_states": ("全部", "All"),
        "user.search": ("用户名或姓名", "Username or name"),
        "user.back": ("返回用户列表", "Back to the users"),
        # reference data
        "ref.units": ("承办单位（按类型）", "Units by kind"),
        "ref.kind": ("类型", "Kind"),
        "ref.count": ("数量", "Count"),
        "ref.code": ("代码", "Code"),
        "ref.name": ("名称", "Name"),
        "ref.parent": ("上级", "Parent"),
        "ref.active": ("在用", "Active"),
        "ref.categories": ("派单目录（{n} 类）", "Dispatch catalogue ({n} categories)"),
        "ref.pain_point": ("痛点", "Pain point"),
        "ref.theme": ("主题", "Theme"),
        "ref.policies": ("办理时限", "Time limits"),
        "ref.appeal_type": ("诉求类型", "Appeal type"),
        "ref.urgency": ("紧急程度", "Urgency"),
        "ref.contact": ("联系时限", "Contact"),
        "ref.completion": ("办结时限", "Completion"),
        "ref.objection": ("异议期", "Objection window"),
        "ref.return_visit": ("回访期", "Return visit"),
        "ref.calendar": ("{y} 年节假日与调休", "Holidays and make-up working days, {y}"),
        "ref.day": ("日期", "Day"),
        "ref.day_kind": ("类别", "Kind"),
        "ref.holiday": ("放假", "Holiday"),
        "ref.workday": ("调休上班", "Working day"),
        "ref.districts": ("各区街乡", "Streets and townships per district"),
        "ref.streets": ("街乡数", "Streets and townships"),
        "ref.no_days": (
            "该年度没有节假日记录（按周一至周五工作计算）。",
            "No holiday recorded for that year (Monday to Friday are working days).",
        ),
        "unitkind.district_government": ("区人民政府", "District government"),
        "unitkind.municipal_department": ("市级部门", "Municipal department"),
        "unitkind.district_department": ("区级部门", "District department"),
        "unitkind.street": ("街道", "Street"),
        "unitkind.township": ("乡镇", "Township"),
        "unitkind.public_affairs_org": ("公共事务管理组织", "Public-affairs organisation"),
        "unitkind.public_service_enterprise": ("公共服务企业", "Public-service enterprise"),
        "limitunit.minutes": ("{n} 分钟", "{n} min"),
        "limitunit.hours": ("{n} 小时", "{n} h"),
        "limitunit.days": ("{n} 天", "{n} days"),
        "limitunit.working_days": ("{n} 个工作日", "{n} working days"),
        # Temporal
        "tq.intro": (
            "以下链接在 Temporal UI 中打开已筛选的流程列表（查询语句见 docs/operations.md）。",
            "Each link opens the Temporal UI's list of workflows filtered by the query (see docs/operations.md).",
        ),
        "tq.query": ("查询", "Query"),
        "tq.one": ("按单位、区或工单号", "For one unit, district or appeal"),
        "tq.show": ("生成链接", "Make the links"),
        "tq.appeal_no": ("工单号", "Appeal number"),
        "tq.unknown_unit": ("未知单位", "unknown unit"),
        "tq.unknown_district": ("未知区", "unknown district"),
        "tq.bad_no": ("工单号格式不正确", "not an appeal number"),
        "tq.running": ("运行中的全部工单流程", "Every appeal whose workflow runs"),
        "tq.open": ("全部未办结工单", "Every open order"),
        "tq.past_deadline": ("已过承办时限（联系或办结）", "Past the unit's deadline (contact, then completion)"),
        "tq.overdue": ("已标记超期（已升级督办）", "Flagged overdue (escalated to supervision)"),
        "tq.not_accepted": ("已派单未签收", "Dispatched but never accepted"),
        "tq.not_accepted_old": ("派单超过 24 小时仍未签收", "Dispatched over 24 hours ago, never accepted"),
        "tq.accepted_late": ("已签收但已过时限", "Accepted but past the deadline"),
        "tq.objections": ("待热线审核的管辖异议", "Objections waiting for the hotline"),
        "tq.held": ("待人工派单（无派单规则或暂存）", "Held for an operator"),
        "tq.parts": ("等待协办单位或报到部门", "Waiting on a co-handling unit or a summoned department"),
        "tq.parts_late": ("超时的协办与报到", "Late parts"),
        "tq.parts_requested": ("尚未接收或报到的协办", "Parts not yet accepted or reported in"),
        "tq.task_failures": ("流程任务失败（代码缺陷）", "Workflows failing on a bug (task failures)"),
        "tq.projection_failed": ("PostgreSQL 拒绝写入记录的工单", "Appeals whose record PostgreSQL refused"),
        "tq.patched": ("采用补丁的运行", "Runs that took a patch"),
        "tq.ended": ("异常结束的工单流程（需重启或关闭）", "Appeal workflows that ended abnormally (restart or close)"),
        "tq.unit_open": ("{u} 的未办结工单", "Open orders of {u}"),
        "tq.unit_parts": ("{u} 的协办与报到", "Parts asked of {u}"),
        "tq.district_open": ("{d} 的运行中工单", "Running appeals of {d}"),
        "tq.appeal": ("工单 {no} 的流程", "The workflow of {no}"),
        "tq.appeal_parts": ("工单 {no} 的协办与报到流程", "The parts of {no}"),
        # audit
        "audit.intro": (
            "谁在何时查看了市民未脱敏的个人信息（最新在前）。",
            "Who saw a citizen's unmasked personal data, and when (newest first).",
        ),
        "audit.at": ("时间", "When"),
        "audit.appeal": ("工单", "Appeal"),
        "audit.user": ("用户", "User"),
        "audit.purpose": ("用途", "Purpose"),
        "audit.since": ("自（日期）", "Since (day)"),
        "audit.empty": ("没有记录。", "No view recorded."),
        "purpose.view contact": ("查看联系方式", "Viewed the contact"),
        "audit.bad_day": ("日期格式应为 YYYY-MM-DD", "a day as YYYY-MM-DD"),
        "admin.only": ("此页面仅供系统管理员使用。", "This page is for administrators."),
    }
)


def sub_nav() -> list[tuple[str, str]]:
    return [
        ("admin.users", ADMIN),
        ("admin.reference", f"{ADMIN}/reference"),
        ("admin.temporal", f"{ADMIN}/temporal"),
        ("admin.audit", f"{ADMIN}/audit"),
    ]


async def _admin_page(
    request: Request, session: Session, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    return await page(
        request,
        f"admin/{template}",
        session,
        status_code=status_code,
        sub_nav=sub_nav(),
        roles=[r.value for r in Role],
        **context,
    )


async def _not_admin(request: Request, session: Session) -> HTMLResponse | None:
    """The pages that call no administrator's route (reference data, the Temporal links) are
    still the administrator's: anyone else gets the API's answer to them, a 403."""
    if session.role == Role.ADMINISTRATOR.value:
        return None
    return await page(
        request, "error.html", session, status_code=403, message=i18n.text("admin.only", session.lang), back=BASE
    )


def _problem_page(request: Request, session: Session, problem: ApiProblem):
    return page(request, "error.html", session, status_code=problem.status, message=problem.message, back=ADMIN)


def _errors(problem: ApiProblem) -> dict[str, str]:
    errors = {name.split(".")[-1]: reason for name, reason in problem.fields.items()}
    return errors or {"_": problem.message}


def _account_body(form: dict[str, str], *, fields: tuple[str, ...]) -> dict[str, Any]:
    """The body `/users` takes from a form: an empty unit or district is none (unbound)."""
    body: dict[str, Any] = {}
    for name in fields:
        value = form.get(name, "").strip()
        if name in ("unit", "district"):
            body[name] = value or None
        elif value:
            body[name] = value
    return body


# --- users -------------------------------------------------------------------------------------


async def _users_page(
    request: Request,
    session: Session,
    params: dict[str, str],
    *,
    status_code: int = 200,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    flash: str | None = None,
) -> HTMLResponse:
    offset = int(params["offset"]) if params["offset"].isdigit() else 0
    try:
        found = await session.api.get(
            "/users",
            role=params["role"] if params["role"] in {r.value for r in Role} else None,
            active=params["active"] if params["active"] in ("true", "false") else None,
            q=params["q"],
            limit=USERS_PAGE,
            offset=offset,
        )
    except ApiProblem as problem:
        return await _problem_page(request, session, problem)

    def href(**changes: Any) -> str:
        values = {k: v for k, v in {**params, **changes}.items() if v not in ("", None, 0, "0")}
        return f"{ADMIN}?{urlencode(values)}" if values else ADMIN

    return await _admin_page(
        request,
        session,
        "users.html",
        status_code=status_code,
        found=found,
        params=params,
        typed=typed or {},
        errors=errors or {},
        flash=flash,
        key=secrets.token_urlsafe(12),
        prev_href=href(offset=max(0, offset - USERS_PAGE)) if offset else None,
        next_href=href(offset=offset + USERS_PAGE) if offset + USERS_PAGE < found["total"] else None,
    )


@router.get("/admin", response_class=HTMLResponse)
async def users(
    request: Request,
    session: SessionDep,
    role: Text = "",
    active: Text = "",
    q: Text = "",
    offset: Text = "",
    created: Text = "",
):
    flash = i18n.text("user.created_flash", session.lang).format(u=created) if created else None
    params = {"role": role, "active": active, "q": q, "offset": offset}
    return await _users_page(request, session, params, flash=flash)


@router.post("/admin/users", response_class=HTMLResponse)
async def create_user(request: Request, session: SessionDep):
    """The new-user form: `POST /users`; a refusal comes back by its field, with what was typed
    (never the password)."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    body = _account_body(form, fields=ACCOUNT_FIELDS) | {"password": form.get("password", "")}
    try:
        made = await session.api.post("/users", body)
    except ApiProblem as problem:
        typed = {k: form.get(k, "") for k in ACCOUNT_FIELDS}
        params = {"role": "", "active": "", "q": "", "offset": ""}
        return await _users_page(
            request, session, params, status_code=problem.status, typed=typed, errors=_errors(problem)
        )
    return RedirectResponse(f"{ADMIN}?{urlencode({'created': made['username']})}", status_code=303)


async def _user_page(
    request: Request,
    session: Session,
    username: str,
    *,
    status_code: int = 200,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    password_errors: dict[str, str] | None = None,
    flash: str | None = None,
) -> HTMLResponse:
    try:
        user = await session.api.get(f"/users/{username}")
    except ApiProblem as problem:
        return await _problem_page(request, session, problem)
    return await _admin_page(
        request,
        session,
        "user.html",
        status_code=status_code,
        user=user,
        typed=typed or {k: user.get(k) or "" for k in ACCOUNT_FIELDS},
        errors=errors or {},
        password_errors=password_errors or {},
        flash=flash,
    )


@router.get("/admin/users/{username}", response_class=HTMLResponse)
async def user(request: Request, username: Username, session: SessionDep, done: Text = ""):
    flash = None
    if done in ("saved", "disabled", "enabled", "password"):
        key = {
            "saved": "user.saved",
            "disabled": "user.disabled_flash",
            "enabled": "user.enabled_flash",
            "password": "user.password_flash",
        }[done]
        flash = i18n.text(key, session.lang).format(u=username)
    return await _user_page(request, session, username, flash=flash)


def _back_to(username: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{ADMIN}/users/{quote(username)}?done={done}", status_code=303)


@router.post("/admin/users/{username}", response_class=HTMLResponse)
async def change_user(request: Request, username: Username, session: SessionDep):
    """Rename, change the role, re-bind: `PATCH /users/{username}` with every field of the form."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    body = _account_body(form, fields=("display_name", "role", "unit", "district"))
    try:
        await session.api.call("PATCH", f"/users/{username}", json=body)
    except ApiProblem as problem:
        typed = {k: form.get(k, "") for k in ACCOUNT_FIELDS} | {"username": username}
        return await _user_page(
            request, session, username, status_code=problem.status, typed=typed, errors=_errors(problem)
        )
    return _back_to(username, "saved")


@router.post("/admin/users/{username}/{what}", response_class=HTMLResponse)
async def user_action(request: Request, username: Username, what: str, session: SessionDep):
    """Disable, enable, or set a new password."""
    if what not in ("disable", "enable", "password"):
        return await page(request, "error.html", session, status_code=404, message=what, back=ADMIN)
    form = await request.form()
    body = {"password": str(form.get("password", ""))} if what == "password" else None
    try:
        await session.api.post(f"/users/{username}/{what}", body)
    except ApiProblem as problem:
        if what == "password":
            return await _user_page(
                request, session, username, status_code=problem.status, password_errors=_errors(problem)
            )
        return await _user_page(request, session, username, status_code=problem.status, errors=_errors(problem))
    return _back_to(username, {"disable": "disabled", "enable": "enabled"}.get(what, what))


# --- reference data ----------------------------------------------------------------------------


@router.get("/admin/reference", response_class=HTMLResponse)
async def reference(
    request: Request, session: SessionDep, kind: Text = "", q: Text = "", offset: Text = "", year: Text = ""
):
    """Units by kind (how many; the chosen kind's list), districts with their streets, the
    category tree, the time-limit policies, the year's holidays and make-up working days."""
    if refused := await _not_admin(request, session):
        return refused
    api = session.api
    kind = kind if kind in {k.value for k in UnitKind} else UnitKind.STREET.value
    q = q[:50]
    start = int(offset) if offset.isdigit() else 0
    today = datetime.now(CHINA_TZ).date()
    the_year = int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else today.year
    try:
        kinds = [(k.value, (await api.get("/units", kind=k.value, limit=1))["total"]) for k in UnitKind]
        units = await api.get("/units", kind=kind, q=q, limit=UNITS_PAGE, offset=start)
        districts = await api.get("/districts")
        catalogue = await api.get("/catalogue")
        policies = await api.get("/policies")
        days = await api.get(
            "/calendar", **{"from": date(the_year, 1, 1).isoformat(), "to": date(the_year, 12, 31).isoformat()}
        )
    except ApiProblem as problem:
        return await _problem_page(request, session, problem)

    def href(**changes: Any) -> str:
        values = {
            k: v for k, v in {"kind": kind, "q": q, "year": the_year, **changes}.items() if v not in ("", None, 0)
        }
        return f"{ADMIN}/reference?{urlencode(values)}"

    return await _admin_page(
        request,
        session,
        "reference.html",
        kinds=kinds,
        kind=kind,
        q=q,
        units=units,
        districts=districts,
        catalogue=catalogue,
        policies=sorted(policies, key=lambda p: (p["appeal_type"], p["urgency"])),
        days=days,
        year=the_year,
        href=href,
        prev_href=href(offset=max(0, start - UNITS_PAGE)) if start else None,
        next_href=href(offset=start + UNITS_PAGE) if start + UNITS_PAGE < units["total"] else None,
    )


# --- stuck cases in the Temporal UI ------------------------------------------------------------

APPEALS = "WorkflowType = 'AppealWorkflow'"
RUNNING = "ExecutionStatus = 'Running'"
PARTS = "WorkflowType = 'CoHandlingWorkflow'"

#: The stuck-case queries of docs/operations.md ("Finding stuck cases"), by message key; `{now}`
#: and `{day_ago}` are put in when the page is shown (UTC, as the UI compares).
STUCK_CASES: list[tuple[str, str]] = [
    ("tq.running", f"{APPEALS} AND {RUNNING}"),
    ("tq.open", f"{APPEALS} AND {RUNNING} AND AppealStatus != 'answered'"),
    ("tq.past_deadline", f"{APPEALS} AND {RUNNING} AND ReplyDeadline < '{{now}}'"),
    ("tq.overdue", f"{APPEALS} AND {RUNNING} AND Overdue = true"),
    ("tq.not_accepted", f"AppealStatus = 'dispatched' AND {RUNNING}"),
    ("tq.not_accepted_old", f"AppealStatus = 'dispatched' AND {RUNNING} AND StartTime < '{{day_ago}}'"),
    ("tq.accepted_late", "AppealStatus IN ('accepted', 'contacted', 'in_progress') AND ReplyDeadline < '{now}'"),
    ("tq.objections", "AppealStatus = 'objection_raised'"),
    ("tq.held", f"AppealStatus = 'received' AND {RUNNING}"),
    ("tq.parts", f"{PARTS} AND {RUNNING}"),
    ("tq.parts_late", f"{PARTS} AND {RUNNING} AND Overdue = true"),
    ("tq.parts_requested", f"{PARTS} AND {RUNNING} AND AppealStatus = 'part_requested'"),
    ("tq.task_failures", "TemporalReportedProblems IN ('category=WorkflowTaskFailed')"),
    ("tq.projection_failed", "ProjectionFailed = true"),
    ("tq.patched", "TemporalChangeVersion = 'keep-timer-while-alarm-unchanged'"),
    ("tq.ended", f"{APPEALS} AND ExecutionStatus IN ('Terminated', 'Failed', 'TimedOut')"),
]
APPEAL_NO = re.compile(r"^[A-Z]{2}-\d{8}-\d{6}$")


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def workflows_link(ui: str, namespace: str, query: str) -> str:
    """The Temporal UI's list of workflows filtered by a visibility query."""
    return f"{ui}/namespaces/{quote(namespace, safe='')}/workflows?query={quote(query, safe='')}"


def stuck_case_links(ui: str, namespace: str, now: datetime) -> list[dict[str, str]]:
    words = {"now": _utc(now), "day_ago": _utc(now - timedelta(days=1))}
    found = []
    for key, template in STUCK_CASES:
        query = template.format(**words)
        found.append({"key": key, "query": query, "href": workflows_link(ui, namespace, query)})
    return found


@router.get("/admin/temporal", response_class=HTMLResponse)
async def temporal(request: Request, session: SessionDep, unit: Text = "", district: Text = "", appeal_no: Text = ""):
    """The stuck-case queries as links; for one unit, district or appeal, theirs."""
    if refused := await _not_admin(request, session):
        return refused
    settings = request.app.state.settings
    ui, namespace = settings.temporal_ui, settings.temporal_namespace
    directory = await request.app.state.directory.get()
    asked = {"unit": unit.strip(), "district": district.strip(), "appeal_no": appeal_no.strip()}
    errors: dict[str, str] = {}
    mine: list[dict[str, str]] = []

    def add(key: str, query: str, **words: str) -> None:
        mine.append({"key": key, "words": words, "query": query, "href": workflows_link(ui, namespace, query)})

    if asked["unit"]:
        if asked["unit"] not in directory.units:
            errors["unit"] = i18n.text("tq.unknown_unit", session.lang)
        else:
            name = directory.units[asked["unit"]].name_zh
            add("tq.unit_open", f"HandlingUnit = '{asked['unit']}' AND {RUNNING}", u=name)
            add("tq.unit_parts", f"{PARTS} AND {RUNNING} AND HandlingUnit = '{asked['unit']}'", u=name)
    if asked["district"]:
        if asked["district"] not in directory.districts:
            errors["district"] = i18n.text("tq.unknown_district", session.lang)
        else:
            add(
                "tq.district_open",
                f"{APPEALS} AND {RUNNING} AND District = '{asked['district']}'",
                d=directory.districts[asked["district"]].name_zh,
            )
    if asked["appeal_no"]:
        no = asked["appeal_no"].upper()
        if not APPEAL_NO.match(no):
            errors["appeal_no"] = i18n.text("tq.bad_no", session.lang)
        else:
            add("tq.appeal", f"WorkflowId = 'appeal-{no}'", no=no)
            add("tq.appeal_parts", f"ParentWorkflowId = 'appeal-{no}'", no=no)
    return await _admin_page(
        request,
        session,
        "temporal.html",
        status_code=422 if errors else 200,
        ui=ui,
        links=stuck_case_links(ui, namespace, datetime.now(UTC)),
        mine=mine,
        asked=asked,
        errors=errors,
        districts=[(code, d.name_zh) for code, d in directory.districts.items()],
    )


# --- the audit of personal-data views ----------------------------------------------------------


@router.get("/admin/audit", response_class=HTMLResponse)
async def audit(request: Request, session: SessionDep, appeal_no: Text = "", username: Text = "", since: Text = ""):
    asked = {"appeal_no": appeal_no.strip(), "username": username.strip(), "since": since.strip()}
    params: dict[str, Any] = {"appeal_no": asked["appeal_no"], "username": asked["username"], "limit": 200}
    errors: dict[str, str] = {}
    if asked["since"]:
        try:
            params["from"] = datetime.combine(
                date.fromisoformat(asked["since"]), datetime.min.time(), CHINA_TZ
            ).isoformat()
        except ValueError:
            errors["since"] = i18n.text("audit.bad_day", session.lang)
    try:
        views = await session.api.get("/audit/personal-data", **params)
    except ApiProblem as problem:
        if not problem.fields:
            return await _problem_page(request, session, problem)
        views, errors = [], errors | {k.split(".")[-1]: v for k, v in problem.fields.items()}
    return await _admin_page(
        request, session, "audit.html", status_code=422 if errors else 200, views=views, asked=asked, errors=errors
    )

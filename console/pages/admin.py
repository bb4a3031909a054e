"""The administrator's pages: staff accounts (list, create, re-bind, disable and enable, a new
password: `/users`) and the audit of who saw a citizen's personal data; the frame of the
administrator's pages (their menu, the 403 for anyone else). The reference data and the
stuck-case links are in `console.pages.admin_system`."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from console import i18n
from console.client import ApiProblem
from console.render import page
from console.session import BASE, Session, SessionDep
from domain.calendar import CHINA_TZ
from domain.types import Role

router = APIRouter(prefix=BASE, include_in_schema=False)

ADMIN = f"{BASE}/admin"
Username = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Text = Annotated[str, Query(max_length=64)]
USERS_PAGE = 100
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
        "user.password_flash": ("已为 {u} 设置新密码，其原有登录已全部失效", "New password set for {u}; their earlier sessions have ended"),
        "user.edit": ("修改", "Edit"),
        "user.bind": ("角色与绑定", "Role and binding"),
        "user.save": ("保存", "Save"),
        "user.set_password": ("重置密码", "Reset the password"),
        "user.self": ("（本人）", "(you)"),
        "user.none": ("—", "—"),
        "user.all_states": ("全部", "All"),
        "user.search": ("用户名或姓名", "Username or name"),
        "user.back": ("返回用户列表", "Back to the users"),
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


async def admin_page(
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


async def not_admin(request: Request, session: Session) -> HTMLResponse | None:
    """The pages that call no administrator's route (reference data, the Temporal links) are
    still the administrator's: anyone else gets the API's answer to them, a 403."""
    if session.role == Role.ADMINISTRATOR.value:
        return None
    return await page(
        request, "error.html", session, status_code=403, message=i18n.text("admin.only", session.lang), back=BASE
    )


def problem_page(request: Request, session: Session, problem: ApiProblem):
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
        return await problem_page(request, session, problem)

    def href(**changes: Any) -> str:
        values = {k: v for k, v in {**params, **changes}.items() if v not in ("", None, 0, "0")}
        return f"{ADMIN}?{urlencode(values)}" if values else ADMIN

    return await admin_page(
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
        return await problem_page(request, session, problem)
    return await admin_page(
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
            return await problem_page(request, session, problem)
        views, errors = [], errors | {k.split(".")[-1]: v for k, v in problem.fields.items()}
    return await admin_page(
        request, session, "audit.html", status_code=422 if errors else 200, views=views, asked=asked, errors=errors
    )

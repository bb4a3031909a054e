"""Logging in and out, the language, the home page of each role, the appeal lists (a unit's
inbox, everyone's search) and the appeal page with the actions valid now."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.csv import LIST_CSV_MOST
from console.client import Api, ApiProblem
from console.i18n import text
from console.render import more_after, page
from console.session import (
    BASE,
    COOKIE,
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    SessionDep,
    cookie_args,
    expires_in,
    language,
    login_csrf,
    secret_of,
)
from domain.display import nearest_limit
from domain.messages import AppealStatus

router = APIRouter(prefix=BASE, include_in_schema=False)

HOME = {
    "operator": "intake",
    "unit_staff": "inbox",
    "supervisor": "supervision",
    "analyst": "analytics",
    "administrator": "admin",
}
PAGE_SIZE = 50


def _safe_next(next_url: str | None) -> str:
    """Only a console address: never an open redirect."""
    if next_url and next_url.startswith(BASE + "/") and not next_url.startswith("//") and "\\" not in next_url:
        return next_url
    return BASE


# --- logging in and out, language -----------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: Annotated[str, Query(max_length=500)] = BASE):
    token = login_csrf(request)
    response = await page(request, "login.html", login_csrf=token, next_url=_safe_next(next), field_errors={})
    response.set_cookie(LOGIN_CSRF_COOKIE, token, **cookie_args(request, max_age=3600))
    return response


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=400)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = BASE,
):
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    lang = language(request)
    if not expected or not secrets.compare_digest(csrf.encode(), expected.encode()):
        return await _login_again(request, username, next, text("csrf.failed", lang), status=403)
    api = Api(request)
    try:
        token = (await api.call("POST", "/auth/token", json={"username": username, "password": password}))[
            "access_token"
        ]
    except ApiProblem as problem:
        if problem.status == 401:
            return await _login_again(request, username, next, text("login.failed", lang), status=401)
        return await _login_again(
            request,
            username,
            next,
            None if problem.fields else problem.message,
            status=problem.status,
            fields=problem.fields,
        )
    finally:
        await api.aclose()
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(COOKIE, token, **cookie_args(request, max_age=expires_in(secret_of(request), token)))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=BASE)
    return response


async def _login_again(
    request: Request,
    username: str,
    next_url: str,
    error: str | None,
    *,
    status: int,
    fields: dict[str, str] | None = None,
) -> HTMLResponse:
    token = login_csrf(request)
    response = await page(
        request,
        "login.html",
        status_code=status,
        login_csrf=token,
        next_url=_safe_next(next_url),
        username=username[:64],
        error=error,
        field_errors=fields or {},
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, **cookie_args(request, max_age=3600))
    return response


@router.post("/logout")
async def logout(session: SessionDep):
    response = RedirectResponse(f"{BASE}/login", status_code=303)
    response.delete_cookie(COOKIE, path=BASE)
    return response


@router.post("/lang")
async def switch_language(
    request: Request, to: Annotated[str, Form(max_length=5)] = "zh", next: Annotated[str, Form(max_length=500)] = BASE
):
    """The language is a preference, not an action: it needs no session (the login page has
    the switch too), and goes back to a console address only."""
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        LANG_COOKIE,
        "en" if to == "en" else "zh",
        max_age=365 * 86400,
        path=BASE,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("")
@router.get("/")
async def home(session: SessionDep):
    return RedirectResponse(f"{BASE}/{HOME.get(session.role, 'appeals')}", status_code=303)


# --- appeal lists -----------------------------------------------------------------------------

#: limits in the order an inbox looks at them
_LIMIT_ORDER = ("objection", "contact", "completion", "return_visit")


def next_limit(appeal: dict[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    """The appeal's nearest limit still to meet (a missed one first: it is the most urgent)."""
    return nearest_limit(appeal["status"], appeal.get("limits") or {})


class ListQuery:
    FIELDS = ("q", "status", "district", "overdue", "category", "unit", "offset")

    def __init__(self, request: Request) -> None:
        self.values = {k: request.query_params.get(k, "")[:100] for k in self.FIELDS}

    def __getattr__(self, name: str) -> str:
        return self.values.get(name, "")

    def href(self, path: str, **changes: Any) -> str:
        params = {k: v for k, v in {**self.values, **changes}.items() if v not in ("", None, 0, "0")}
        return f"{path}?{urlencode(params)}" if params else path


async def _list(request: Request, session: SessionDep, *, title_key: str, sort: str, open_only: bool | None):
    query = ListQuery(request)
    offset = int(query.offset) if query.offset.isdigit() else 0
    params = dict(
        q=query.q,
        status=query.status,
        district=query.district,
        overdue=query.overdue or None,
        category=query.category,
        unit=query.unit,
        sort=sort,
        limit=PAGE_SIZE,
        offset=offset,
    )
    if open_only is not None and not query.status:
        params["open"] = "true" if open_only else "false"
    try:
        found = await session.api.get("/appeals", **params)
    except ApiProblem as problem:
        return await page(
            request, "error.html", session, status_code=problem.status, message=problem.message, back=request.url.path
        )
    path = request.url.path
    directory = await request.app.state.directory.get()
    return await page(
        request,
        "appeals.html" if "hx-request" not in request.headers else "parts/appeal_rows.html",
        session,
        title_key=title_key,
        page=found,
        query=query,
        next_limit=next_limit,
        statuses=[s.value for s in AppealStatus],
        districts=[(code, d.name_zh) for code, d in directory.districts.items()],
        refresh_href=query.href(path),
        csv_href=query.href(path + ".csv"),
        prev_href=query.href(path, offset=max(0, offset - PAGE_SIZE)) if offset else None,
        next_href=query.href(path, offset=offset + PAGE_SIZE) if more_after(found, offset, PAGE_SIZE) else None,
    )


async def _csv(request: Request, session: SessionDep, *, sort: str, open_only: bool | None, name: str) -> Response:
    """The list as CSV (up to 5,000 rows), names beside codes, Beijing times: the API writes it
    (`GET /appeals?format=csv`), the console hands it on under the list's own name (the browser
    has no bearer token to fetch it)."""
    query = ListQuery(request)
    params = dict(
        q=query.q,
        status=query.status,
        district=query.district,
        overdue=query.overdue or None,
        category=query.category,
        unit=query.unit,
        sort=sort,
        limit=LIST_CSV_MOST,
    )
    if open_only is not None and not query.status:
        params["open"] = "true" if open_only else "false"
    try:
        answer = await session.api.download("/appeals", **params, format="csv")
    except ApiProblem as problem:
        return await page(
            request, "error.html", session, status_code=problem.status, message=problem.message, back=request.url.path
        )
    return Response(
        answer.content,
        media_type=answer.headers.get("content-type", "text/csv"),
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get("/inbox", response_class=HTMLResponse)
async def inbox(request: Request, session: SessionDep):
    """A unit's open appeals, the nearest limit first; updates itself every 15 s."""
    return await _list(request, session, title_key="inbox.title", sort="due", open_only=True)


@router.get("/inbox.csv")
async def inbox_csv(request: Request, session: SessionDep):
    return await _csv(request, session, sort="due", open_only=True, name="inbox")


@router.get("/appeals", response_class=HTMLResponse)
async def appeals(request: Request, session: SessionDep):
    return await _list(request, session, title_key="appeals.title", sort="newest", open_only=None)


@router.get("/appeals.csv")
async def appeals_csv(request: Request, session: SessionDep):
    return await _csv(request, session, sort="newest", open_only=None, name="appeals")

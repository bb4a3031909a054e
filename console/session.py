"""Who uses the console: the API's bearer token, kept in an HttpOnly, SameSite=Strict cookie that
ends with the token (one shift), and a CSRF token bound to it on every form.

Logging in posts the username and password to the API's `POST /auth/token` (its rate limits and
timing-safe check included); every page then asks the API as that token. A disabled account or
an expired token sends the browser back to the login page.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request

from api.auth import read_token
from api.errors import ApiError
from console.client import Api, ApiProblem
from console.i18n import DEFAULT, LANGUAGES

COOKIE = "jiesu_console"
LANG_COOKIE = "jiesu_lang"
LOGIN_CSRF_COOKIE = "jiesu_login_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
BASE = "/console"


class LoginNeeded(Exception):
    """No valid session: the page answers with a redirect to the login page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class CsrfFailed(Exception):
    """A form without the session's CSRF token: a 403 page."""


def secret_of(request: Request) -> str:
    return str(request.app.state.settings.secret_key)


def csrf_token(secret: str, bound_to: str) -> str:
    """The CSRF token of a session (or, before login, of the login form's own cookie)."""
    return hmac.new(secret.encode(), f"csrf:{bound_to}".encode(), hashlib.sha256).hexdigest()[:40]


def language(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, DEFAULT)
    return lang if lang in LANGUAGES else DEFAULT


def cookie_args(request: Request, *, max_age: int) -> dict[str, Any]:
    return dict(max_age=max_age, path=BASE, httponly=True, samesite="strict", secure=request.url.scheme == "https")


def expires_in(secret: str, token: str) -> int:
    """Seconds until the token ends (0 if it is no token of ours)."""
    try:
        return max(0, int(read_token(secret, token)["exp"] - time.time()))
    except ApiError:
        return 0


def login_csrf(request: Request) -> str:
    """The login form's double-submit token: its cookie, made on first sight."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)


@dataclass
class Session:
    """A signed-in user: who (`me`, from the API's `GET /auth/me`), the API as them, the form
    token, and the language."""

    token: str
    me: dict[str, Any]
    api: Api
    csrf: str
    lang: str

    @property
    def role(self) -> str:
        return str(self.me["role"])


def _here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


async def _session(request: Request) -> Session:
    token = request.cookies.get(COOKIE)
    if not token:
        raise LoginNeeded(_here(request))
    api = Api(request, token)
    try:
        me = await api.get("/auth/me")
    except ApiProblem as problem:
        await api.aclose()
        if problem.status == 401:
            raise LoginNeeded(_here(request)) from None
        raise
    session = Session(token, me, api, csrf_token(secret_of(request), token), language(request))
    if request.method == "POST":
        await _check_csrf(request, session.csrf)
    try:
        yield session
    finally:
        await api.aclose()


async def _check_csrf(request: Request, expected: str) -> None:
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise CsrfFailed()


def login_url(next_url: str) -> str:
    return f"{BASE}/login?next={quote(next_url, safe='')}"


#: The signed-in user of a console page (or a redirect to the login page); on a POST, the form's
#: CSRF token is checked first.
SessionDep = Annotated[Session, Depends(_session)]

"""The staff console: `/console/…`, server-rendered pages for operators, units, supervisors,
analysts, administrators and citizens, on the same app as the API and through it (see
`console.client`): the console shows and offers exactly what the API allows the user.

Nothing is loaded from another host (vendored files under `console/static/vendor`, with their
licences), and every page carries a Content-Security-Policy without inline scripts.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.client import ApiProblem
from console.pages import analytics, appeal, citizen, core, operator, operator_queues
from console.render import page
from console.session import BASE, CsrfFailed, LoginNeeded, language, login_url

STATIC = Path(__file__).parent / "static"

#: scripts from the app only, none inline; styles may be set inline (the charts' tooltips do)
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]

#: the page modules, each with its `router`
PAGES = [core, appeal, operator, operator_queues, citizen, analytics]


class ConsoleHeaders:
    """The security headers on every console answer; pages (not the static files) are never
    cached, as they show one user's data."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == BASE or path.startswith(BASE + "/")):
            await self.app(scope, receive, send)
            return
        static = path.startswith(f"{BASE}/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = list(HEADERS) if not static else [(b"x-content-type-options", b"nosniff")]
                if not static:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


def _wants_fragment(request: Request) -> bool:
    return "hx-request" in request.headers


async def _login_needed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginNeeded)
    target = login_url(exc.next_url if request.method == "GET" else BASE)
    if _wants_fragment(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


async def _csrf_failed(request: Request, exc: Exception) -> HTMLResponse:
    from console.i18n import text

    return await page(request, "error.html", status_code=403, message=text("csrf.failed", language(request)),
                      back=request.headers.get("referer") if _same_origin_referer(request) else BASE)


def _same_origin_referer(request: Request) -> bool:
    referer = request.headers.get("referer", "")
    return referer.startswith(f"{request.url.scheme}://{request.url.netloc}{BASE}")


async def _api_problem(request: Request, exc: Exception) -> HTMLResponse:
    assert isinstance(exc, ApiProblem)
    return await page(request, "error.html", status_code=exc.status, message=exc.message, back=BASE)


def _reads_its_own_query(router: APIRouter) -> None:
    """A page reads its own query (a list's filters, a form's fields): the API's check that
    every query parameter is declared (api.params) is for the API's routes. Routers a page
    module includes are marked too."""
    for route in router.routes:
        if isinstance(route, APIRoute):
            route.endpoint.takes_any_query = True  # type: ignore[attr-defined]
        elif isinstance(nested := getattr(route, "original_router", None), APIRouter):
            _reads_its_own_query(nested)


def install(app: FastAPI) -> None:
    app.mount(f"{BASE}/static", StaticFiles(directory=STATIC), name="console-static")
    for module in PAGES:
        _reads_its_own_query(module.router)
        app.include_router(module.router)
    app.add_exception_handler(LoginNeeded, _login_needed)
    app.add_exception_handler(CsrfFailed, _csrf_failed)
    app.add_exception_handler(ApiProblem, _api_problem)
    app.add_middleware(ConsoleHeaders)

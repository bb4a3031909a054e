"""The API's documentation pages, /docs (Swagger UI) and /redoc, served whole by the app.

FastAPI's own pages load their scripts from a CDN, and hotline networks have no internet: the
pages would stay blank. The same pages are built here on files kept in api/static/ (with
their licences; README.md there says where they come from), so nothing leaves the network.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/static"

#: Swagger UI asks validator.swagger.io to check any schema not on localhost, sending it the
#: schema's address: off, it is on the internet
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}


def install(app: FastAPI, *, docs_url: str = "/docs", redoc_url: str = "/redoc") -> None:
    """Serve the files and the two pages. The app is to be made with `docs_url=None,
    redoc_url=None` (FastAPI's CDN pages)."""
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_swagger_ui_html(
            openapi_url=root + app.openapi_url,
            title=f"{app.title} — Swagger UI",
            swagger_js_url=f"{root}{STATIC_URL}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_URL}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_URL}/swagger-ui/favicon-32x32.png",
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )

    async def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_redoc_html(
            openapi_url=root + app.openapi_url,
            title=f"{app.title} — ReDoc",
            redoc_js_url=f"{root}{STATIC_URL}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{root}{STATIC_URL}/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,  # fonts.googleapis.com: the page falls back to the system's fonts
        )

    # plain routes, as FastAPI adds its own pages: outside the schema and its app-wide checks
    app.add_route(docs_url, swagger_ui, include_in_schema=False)
    app.add_route(redoc_url, redoc, include_in_schema=False)


def _root(request: Request) -> str:
    """The prefix a reverse proxy serves the app under (`--root-path`), as FastAPI's pages use."""
    return request.scope.get("root_path", "").rstrip("/")

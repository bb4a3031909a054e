"""/docs and /redoc work without internet (hotline networks have none): the pages reference
only files the app serves itself, and each of them answers.

The pages and their files need neither PostgreSQL nor Temporal: an app without its lifespan
serves them. A real browser with the network cut is the stronger proof; it runs where a
Chromium is installed and is skipped otherwise.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
import pytest_asyncio
import uvicorn

from api.main import create_app
from devstack.ports import free_port
from settings import Settings

ORIGIN = "http://jiesu.test"
PAGES = ("/docs", "/redoc")


def _app():
    return create_app(Settings(database_url="postgresql+asyncpg://docs@localhost/docs", JIESU_ENV="test"))


@pytest_asyncio.fixture(scope="module")
async def client():
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url=ORIGIN) as c:
        yield c


class _References(HTMLParser):
    """Every address an HTML page makes the browser load: scripts, styles, icons, images,
    frames, and ReDoc's `spec-url`."""

    LOADED = {"script": "src", "img": "src", "iframe": "src", "link": "href", "redoc": "spec-url"}

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        wanted = self.LOADED.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


def references(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    return parser.urls


@pytest.mark.parametrize("page", PAGES)
async def test_the_page_loads_nothing_from_another_host(client, page):
    r = await client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    urls = references(r.text)
    assert any(u.endswith(".js") for u in urls), urls
    for url in urls:
        assert urlsplit(urljoin(ORIGIN + page, url)).netloc == urlsplit(ORIGIN).netloc, f"{page} loads {url}"
    # nor anything written elsewhere in the page (an inline script's address, a font)
    assert "http://" not in r.text and "https://" not in r.text, r.text


TYPES = {".js": ("text/javascript", "application/javascript"), ".css": ("text/css",), ".png": ("image/png",)}


@pytest.mark.parametrize("page", PAGES)
async def test_every_file_the_page_loads_is_served(client, page):
    html = (await client.get(page)).text
    for url in references(html):
        r = await client.get(urljoin(ORIGIN + page, url))
        assert r.status_code == 200, f"{page}: {url} answers {r.status_code}"
        kind = r.headers["content-type"].split(";")[0]
        suffix = url[url.rfind("."):]
        assert kind in TYPES.get(suffix, ("application/json",)), f"{url}: {kind}"
        assert r.content, url


async def test_swagger_ui_loads_the_schema_from_the_app_and_asks_no_online_validator(client):
    html = (await client.get("/docs")).text
    assert "url: '/openapi.json'" in html
    assert '"validatorUrl": null' in html  # otherwise it sends the schema's address to validator.swagger.io
    schema = (await client.get("/openapi.json")).json()
    assert "/auth/token" in schema["paths"]


async def test_the_licences_of_the_files_are_served_with_them(client):
    for path in ("/static/swagger-ui/LICENSE", "/static/swagger-ui/NOTICE", "/static/redoc/LICENSE"):
        assert (await client.get(path)).status_code == 200, path


async def test_a_missing_file_is_a_404_in_the_one_error_shape(client):
    r = await client.get("/static/swagger-ui/nothing.js")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


# --- in a browser, with the network cut -------------------------------------------------------

CHROMIUM = next(
    (found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))), None
)


@pytest.fixture(scope="module")
def served():
    """The app on a real port, in a thread, for a browser."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(_app(), host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def rendered(url: str) -> str:
    """The page's DOM once its scripts ran, in a headless Chromium whose every request to
    another host goes to a proxy that is not there (port 9, discard)."""
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=127.0.0.1",
         "--virtual-time-budget=15000", "--dump-dom", url],
        capture_output=True, text=True, timeout=90,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed: the pages are checked over HTTP only")
def test_swagger_ui_renders_the_operations_offline(served):
    dom = rendered(served + "/docs")
    assert 'class="opblock-summary-path"' in dom and 'data-path="/auth/token"' in dom, dom[-3000:]
    assert "authorize" in dom.lower()  # the Authorize button: the schema declares how to log in


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed: the pages are checked over HTTP only")
def test_redoc_renders_the_operations_offline(served):
    dom = rendered(served + "/redoc")
    assert "jiesu — 12345 appeal handling" in dom and "/auth/token" in dom, dom[-3000:]

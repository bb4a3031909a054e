"""The console in a real browser: Debian's Chromium driven by Playwright (never a downloaded
browser), on the app served by uvicorn on a real port, over real PostgreSQL and the Temporal dev
server with the appeals' worker. Without a Chromium the browser tests are skipped, saying why.

Each test saves screenshots under `test-artifacts/console/` (JIESU_SCREENSHOTS elsewhere).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio
import uvicorn

from api.main import create_app
from devstack.ports import free_port
from tests.api.conftest import PASSWORD, STAFF, appeal_worker, tokens  # noqa: F401  (fixtures)
from tests.api.conftest import api as api

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("JIESU_SCREENSHOTS", ROOT / "test-artifacts" / "console"))
CHROMIUM = next(
    (found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))), None
)
NO_BROWSER = (
    "no Chromium on this machine: the console's browser tests need Debian's chromium "
    "(apt-get install -y chromium; .ci/run installs it)"
)


@pytest_asyncio.fixture(scope="session")
async def console_url(settings, engine, dev_env, appeal_worker, tokens) -> AsyncIterator[str]:
    """The app on a real port, on the tests' own event loop (it shares their engine and the dev
    server's client), with the staff accounts of tests/api made."""
    port = free_port()
    app = create_app(settings, engine=engine, temporal=dev_env.client)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started, "the console's server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, 15)


@pytest_asyncio.fixture(scope="session")
async def browser():
    if CHROMIUM is None:
        pytest.skip(NO_BROWSER)
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield browser
        await browser.close()


class Person:
    """One person at one browser: their own context (cookies), page and console errors."""

    def __init__(self, context, page, base: str, name: str) -> None:
        self.context, self.page, self.base, self.name = context, page, base, name
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    async def goto(self, path: str):
        return await self.page.goto(self.base + path)

    async def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path

    async def login(self, username: str, password: str = PASSWORD) -> None:
        await self.goto("/console/login")
        await self.page.fill("#login-form input[name=username]", username)
        await self.page.fill("#login-form input[name=password]", password)
        await self.page.click("#login-form button[type=submit]")
        await self.page.wait_for_load_state()
        assert "/console/login" not in self.page.url, f"{username} could not log in: {self.page.url}"

    async def act(self, route: str, fields: dict[str, str | bool] | None = None, part: str | None = None) -> None:
        """Open an offered action's form on the appeal page, fill it and send it."""
        selector = f'details[data-action="{route}"]' + (f'[data-part="{part}"]' if part else "")
        form = self.page.locator(selector).first
        await form.locator("summary").click()
        for name, value in (fields or {}).items():
            field = form.locator(f'[name="{name}"]')
            if isinstance(value, bool):
                await field.set_checked(value)
            elif await field.evaluate("e => e.tagName") == "SELECT":
                await field.select_option(value)
            else:
                await field.fill(value)
        async with self.page.expect_navigation():
            await form.locator("button[type=submit]").click()

    async def close(self) -> None:
        await self.context.close()


@pytest_asyncio.fixture
async def person(browser, console_url) -> AsyncIterator[Callable[..., Awaitable[Person]]]:
    """`await person("lighting")`: a logged-in browser of that user (`phone=True`: a phone's)."""
    people: list[Person] = []

    async def make(username: str | None = None, *, phone: bool = False, lang: str | None = None) -> Person:
        viewport = {"width": 390, "height": 844} if phone else {"width": 1366, "height": 900}
        context = await browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=phone,
                                            has_touch=phone, device_scale_factor=1)
        p = Person(context, await context.new_page(), console_url, username or "citizen")
        people.append(p)
        if username:
            await p.login(username)
        return p

    yield make
    for p in people:
        await p.close()

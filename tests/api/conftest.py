import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest_asyncio
from fastapi import FastAPI

from api.main import create_app
from api.openapi import Recorder, finish_recording
from db.users import DemoUser, ensure_users
from domain.types import Role
from worker import build_worker

#: Where to record each operation's first successful answer, for the examples of the OpenAPI
#: document (docs/development.md, "The examples in /docs"); unset: nothing is recorded.
RECORD = Path(os.environ["JIESU_RECORD_EXAMPLES"]) if os.environ.get("JIESU_RECORD_EXAMPLES") else None


def pytest_sessionfinish(session, exitstatus):
    if RECORD:
        finish_recording(RECORD)


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process, with its lifespan run."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=Recorder(app, RECORD) if RECORD else app)
        async with httpx.AsyncClient(transport=transport, base_url="http://jiesu.test") as client:
            yield client


@pytest_asyncio.fixture(scope="session")
async def api(settings, engine, dev_env) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app(settings, engine=engine, temporal=dev_env.client)) as client:
        yield client


PASSWORD = "test-password-1"
STAFF = (
    DemoUser("op", "Operator", Role.OPERATOR),
    DemoUser("op2", "Second operator", Role.OPERATOR),
    DemoUser("lighting", "Lighting centre", Role.UNIT_STAFF, "BJ-LIGHTING"),
    DemoUser("chaowai", "Chaowai street", Role.UNIT_STAFF, "110105-CHAOWAI"),
    DemoUser("cgw", "Chaoyang urban management", Role.UNIT_STAFF, "110105-CGW"),
    DemoUser("water", "Water group", Role.UNIT_STAFF, "BJ-WATER"),
    DemoUser("analyst", "Analyst", Role.ANALYST),
    DemoUser("yayuncun", "Yayuncun street", Role.UNIT_STAFF, "110105-YAYUNCUN"),
    DemoUser("zjw", "Chaoyang housing", Role.UNIT_STAFF, "110105-ZJW"),
    DemoUser("yllh", "Chaoyang greening", Role.UNIT_STAFF, "110105-YLLH"),
    DemoUser("dlyh", "Chaoyang road maintenance", Role.UNIT_STAFF, "110105-DLYH"),
    DemoUser("supervisor", "City supervision", Role.SUPERVISOR),
    DemoUser("dongcheng-sup", "Dongcheng supervision", Role.SUPERVISOR, None, "110101"),
)


#: whether a session's worker runs already: tests/console/conftest.py imports `appeal_worker`, which
#: makes it a second session fixture of the same name, and the server refuses a second worker on
#: the same task queue from one process (when the whole suite runs both folders)
_worker_running = False


@pytest_asyncio.fixture(scope="session")
async def appeal_worker(dev_env, engine, settings):
    """The worker on the settings' task queue, against the dev server, for the whole session."""
    global _worker_running
    if _worker_running:
        yield
        return
    _worker_running = True
    try:
        async with build_worker(dev_env.client, engine, task_queue=settings.temporal_task_queue, settings=settings):
            yield
    finally:
        _worker_running = False


@pytest_asyncio.fixture(scope="session")
async def tokens(api, engine) -> dict[str, dict[str, str]]:
    """Authorization headers per username."""
    await ensure_users(engine, STAFF, PASSWORD)
    headers = {}
    for user in STAFF:
        r = await api.post("/auth/token", json={"username": user.username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        headers[user.username] = {"Authorization": f"Bearer {r.json()['access_token']}"}
    return headers

"""Shared fixtures: a real PostgreSQL (embedded, or the server in DATABASE_URL), the Temporal
time-skipping test server, and the Temporal dev server — all from pip-installed binaries."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from db.migrate import migrate
from db.session import make_engine
from devstack.ports import free_port
from devstack.postgres import EmbeddedPostgres
from infra.temporal import register_search_attributes, venv_bin
from settings import Settings
from workflows.converter import DATA_CONVERTER
from workflows.search_attributes import ALL_KEYS


class PostgresServer:
    """Hands out fresh, empty databases on one server."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.created: list[str] = []

    def url(self, database: str) -> str:
        return self.admin_url.rsplit("/", 1)[0] + f"/{database}"

    async def create_database(self, prefix: str = "jiesu_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        conn = await asyncpg.connect(self.admin_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self.created.append(name)
        return self.url(name)

    async def drop_all(self) -> None:
        conn = await asyncpg.connect(self.admin_url)
        try:
            for name in self.created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest_asyncio.fixture(scope="session")
async def pg_server() -> AsyncIterator[PostgresServer]:
    """DATABASE_URL's server when set (CI runs the suite once that way), else an embedded one."""
    external = os.environ.get("DATABASE_URL")
    if external:
        server = PostgresServer(external.replace("postgresql+asyncpg://", "postgresql://"))
        yield server
        await server.drop_all()
        return
    embedded = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="jiesu-pg-")), free_port())
    embedded.start()
    try:
        yield PostgresServer(embedded.url("postgres"))
    finally:
        embedded.destroy()


def settings_for(database_url: str, **overrides) -> Settings:
    # one test client logs every test user in, many times over a session: the per-client login
    # limit is tested on an app of its own (tests/api/test_hostile_input.py)
    overrides.setdefault("login_client_rate_per_minute", 1000)
    overrides.setdefault("open311_rate_per_minute", 10_000)  # its limit is tested on an app of its own
    return Settings(database_url=database_url, JIESU_ENV="test", **overrides)


@pytest_asyncio.fixture(scope="session")
async def db_url(pg_server: PostgresServer) -> str:
    """A database migrated to head with the reference data loaded, shared by the session."""
    url = await pg_server.create_database()
    engine = make_engine(settings_for(url))
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
    return url


@pytest.fixture(scope="session")
def settings(db_url: str) -> Settings:
    return settings_for(db_url)


@pytest_asyncio.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(settings)
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture(scope="session")
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server: seven-day limits pass in milliseconds."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER,
        test_server_existing_path=venv_bin("temporal-test-server"),
    )
    await register_search_attributes(env.client, env.client.namespace)
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """The real dev server (in memory): visibility, close policies, health checks."""
    env = await WorkflowEnvironment.start_local(
        data_converter=DATA_CONVERTER,
        dev_server_existing_path=venv_bin("temporal"),
        search_attributes=list(ALL_KEYS),
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:8]}"

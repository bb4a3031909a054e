from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest_asyncio
from fastapi import FastAPI

from api.main import create_app


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process, with its lifespan run."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://jiesu.test") as client:
            yield client


@pytest_asyncio.fixture(scope="session")
async def api(settings, engine, dev_env) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app(settings, engine=engine, temporal=dev_env.client)) as client:
        yield client

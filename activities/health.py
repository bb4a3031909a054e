"""Health checks run by the worker, proving it can reach PostgreSQL."""

from __future__ import annotations

import time

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity


class DatabaseHealth(BaseModel):
    ok: bool
    server_version: str
    latency_ms: float
    schema_revision: str | None


class HealthActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @activity.defn(name="check_database")
    async def check_database(self) -> DatabaseHealth:
        """Round-trip to PostgreSQL and report the server version and the schema revision."""
        started = time.perf_counter()
        async with self.engine.connect() as conn:
            version = await conn.scalar(sa.text("SHOW server_version"))
            has_alembic = await conn.scalar(sa.text("SELECT to_regclass('alembic_version')"))
            revision = (
                await conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
                if has_alembic
                else None
            )
        return DatabaseHealth(
            ok=True,
            server_version=str(version),
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            schema_revision=revision,
        )

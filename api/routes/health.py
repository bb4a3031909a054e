"""`/healthz`: is PostgreSQL reachable, is Temporal reachable."""

from __future__ import annotations

import asyncio
import time

import sqlalchemy as sa
from fastapi import APIRouter, Request
from pydantic import BaseModel

from api.beijing import BeijingJSONResponse

router = APIRouter(tags=["health"])

CHECK_TIMEOUT_S = 3.0


class Check(BaseModel):
    ok: bool
    latency_ms: float
    error: str | None = None


class Health(BaseModel):
    status: str  # "ok" | "unavailable"
    checks: dict[str, Check]


async def _timed(probe) -> Check:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT_S)
        return Check(ok=True, latency_ms=round((time.perf_counter() - started) * 1000, 2))
    except Exception as e:  # any failure means "down", and says why
        reason = str(e) or type(e).__name__
        return Check(
            ok=False,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            error=reason[:300],
        )


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": Health, "description": "which dependency is down"}},
)
async def healthz(request: Request):
    """200 when PostgreSQL and Temporal both answer; 503 naming the one that does not."""

    async def postgresql() -> None:
        for engine in (request.app.state.engine, request.app.state.reads):  # writes, and reads
            async with engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))

    async def temporal() -> None:
        await request.app.state.temporal.service_client.check_health()

    pg, tp = await asyncio.gather(_timed(postgresql), _timed(temporal))
    health = Health(
        status="ok" if pg.ok and tp.ok else "unavailable",
        checks={"postgresql": pg, "temporal": tp},
    )
    return BeijingJSONResponse(health.model_dump(mode="json"), status_code=200 if health.status == "ok" else 503)

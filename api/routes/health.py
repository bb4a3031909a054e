"""`/healthz`: is PostgreSQL reachable, is Temporal reachable."""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter
from pydantic import BaseModel

from api.beijing import BeijingJSONResponse
from api.deps import EngineDep, ReadEngineDep, TemporalDep
from db.session import ping

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
async def healthz(engine: EngineDep, reads: ReadEngineDep, client: TemporalDep):
    """200 when PostgreSQL and Temporal both answer; 503 naming the one that does not."""

    async def postgresql() -> None:
        for pool in (engine, reads):  # writes, and reads
            await ping(pool)

    async def temporal() -> None:
        # retried within the check's time budget: one RPC cut short (a connection being
        # re-established) is not Temporal down
        await client.service_client.check_health(retry=True)

    pg, tp = await asyncio.gather(_timed(postgresql), _timed(temporal))
    health = Health(
        status="ok" if pg.ok and tp.ok else "unavailable",
        checks={"postgresql": pg, "temporal": tp},
    )
    return BeijingJSONResponse(health.model_dump(mode="json"), status_code=200 if health.status == "ok" else 503)

"""The HTTP API: `uvicorn api.main:app`. OpenAPI docs at /docs and /redoc, served offline."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

import console
from api import auth, docs, error_codes, errors, openapi
from api.beijing import BeijingJSONResponse
from api.limits import BodyLimit, RateLimits
from api.observability import Observe, bind_path_ids, metrics, trace_requests
from api.params import query_as_declared
from api.routes import (
    analytics,
    appeals,
    assessment,
    contact,
    governance,
    health,
    inbox,
    many_hands,
    open311,
    reference,
)
from db.pii import Sealer
from db.reference import DirectoryCache
from db.session import make_engine, make_read_engine
from infra import logging as logs
from infra import tracing as traces
from infra.metrics import DOMAIN
from infra.temporal import connect
from settings import Settings, get_settings

DESCRIPTION = """
jiesu runs Beijing-style 接诉即办 citizen-appeal handling (the 12345 hotline) as durable
workflows. Every error has the shape `{"error": {"code", "message", "details"}}`.
"""


def create_app(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    temporal: Client | None = None,
    tracing: traces.Tracing | None = None,
) -> FastAPI:
    """The API on `settings`; `engine`, `temporal` and `tracing` replace what the settings would
    make (tests pass their own). Traces are on when `tracing` is given or an OTLP endpoint is
    configured; a given `temporal` client brings its own interceptors."""
    settings = settings or get_settings()
    tracing = tracing or traces.from_settings(settings, "api")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        own_engine = engine is None
        app.state.settings = settings
        # the two pools hold at most 30 connections together, as the API's one pool did
        app.state.engine = engine or make_engine(settings, pool_size=5, max_overflow=5)
        # a request's own lookups (who calls, the appeal, lists, figures) go through this one
        app.state.reads = make_read_engine(settings, url=app.state.engine.url, pool_size=10, max_overflow=10)
        app.state.directory = DirectoryCache(app.state.engine)
        app.state.sealer = Sealer.from_settings(settings)
        # lazy: the API starts (and /healthz can say so) while Temporal is still down
        app.state.temporal = temporal or await connect(
            settings, lazy=True, metrics_port=settings.api_temporal_metrics_port, tracing=tracing
        )
        gauges = asyncio.create_task(DOMAIN.run(app.state.reads, settings.metrics_refresh_seconds))
        try:
            yield
        finally:
            gauges.cancel()
            await asyncio.gather(gauges, return_exceptions=True)
            await app.state.reads.dispose()
            if own_engine:
                await app.state.engine.dispose()

    app = FastAPI(
        title="jiesu — 12345 appeal handling",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # FastAPI's pages load their scripts from a CDN: api.docs serves its own
        redoc_url=None,
        default_response_class=BeijingJSONResponse,
        dependencies=[Depends(query_as_declared), Depends(bind_path_ids)],
        # what any operation may answer; each adds its own codes (api.error_codes)
        responses=error_codes.responses(*error_codes.APP_WIDE),
    )
    errors.install(app)
    docs.install(app)
    openapi.install(app)  # the examples of the seed stories in the document /docs shows
    app.add_middleware(BodyLimit)
    app.add_middleware(Observe)  # outermost: counts the 413s too
    if tracing is not None:
        trace_requests(app, tracing)  # around all of it: Observe's access line carries the trace id
    app.add_route("/metrics", metrics, include_in_schema=False)
    app.state.limits = RateLimits.from_settings(settings)
    app.include_router(health.router)
    app.include_router(reference.router)
    app.include_router(auth.router)
    app.include_router(appeals.router)
    app.include_router(many_hands.router)
    app.include_router(inbox.router)
    app.include_router(contact.router)
    app.include_router(assessment.router)
    app.include_router(analytics.router)
    app.include_router(governance.router)
    app.include_router(open311.router)  # GeoReport v2 for other channels, by api_key
    # the staff console (/console): a client of the routes above, in the same process
    console.install(app)
    return app


logs.configure("api")
app = create_app()

"""What the API tells operators about itself: `/metrics` (Prometheus), a request id on every
request and response, one access line per request, the ids its log lines carry, and (when
traces are on) a server span per request.

The middleware is plain ASGI (no BaseHTTPMiddleware): it sees every request, 413s and 404s
included, and labels it by the route's template (`/appeals/{appeal_no}`) once the router has
matched it, so the series stay one per route however many appeals there are.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from fastapi import FastAPI, Request
from prometheus_client import REGISTRY
from prometheus_client.exposition import choose_encoder
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra import logging as logs
from infra.metrics import HTTP_LATENCY, HTTP_REQUESTS
from infra.tracing import Tracing

access = logging.getLogger("jiesu.access")

REQUEST_ID_HEADER = "x-request-id"
#: A caller's request id is kept when it looks like an id (a proxy's, a client's); anything else
#: is replaced, so a header cannot write arbitrary text into the logs.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
UNMATCHED = "unmatched"  # the route label of a path no route serves (404)
#: Scrapes and health checks: counted, but their access lines are debug, not info (and no traces).
QUIET = {"/metrics", "/healthz"}


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or UNMATCHED


class Observe:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        status = 500  # unless a response starts: an exception escaped to the server's handler
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        # every id reset at the end: requests may share one task (an in-process test client)
        with logs.bound(request_id=request_id, appeal_no=None, workflow_id=None, unit=None):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                method, route = scope["method"], route_template(scope)
                HTTP_REQUESTS.labels(method, route, str(status)).inc()
                HTTP_LATENCY.labels(method, route).observe(elapsed)
                access.log(
                    logging.DEBUG if route in QUIET else logging.INFO,
                    "%s %s %s", method, route, status,
                    extra={"method": method, "route": route, "status": status,
                           "duration_ms": round(elapsed * 1000, 1)},
                )


async def bind_path_ids(request: Request) -> None:
    """An app-wide dependency: the appeal a route is about, for every log line of the request."""
    if no := request.path_params.get("appeal_no"):
        logs.bind(appeal_no=str(no)[:32])


async def metrics(request: Request) -> Response:
    """Prometheus' scrape: this process's metrics, in the format the scraper asks for."""
    encoder, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encoder(REGISTRY), media_type=content_type)


def trace_requests(app: FastAPI, tracing: Tracing) -> None:
    """A server span for every request but scrapes and health checks, named by the route's
    template (`POST /appeals/{appeal_no}/accept`), continuing the caller's trace when it sends a
    `traceparent` header; the Temporal calls the route makes are its children. Like the access
    line, a span never holds a query string (a search term may be a name), a body or a header."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=tracing.provider,
        excluded_urls=",".join(f"^https?://[^/]+{path}(\\?|$)" for path in sorted(QUIET)),
        exclude_spans=["receive", "send"],  # one span per request, not one per ASGI message
        server_request_hook=_without_query,
    )


#: The span attributes that hold the query string, by OpenTelemetry's old and new conventions.
_URL_ATTRIBUTES = ("http.url", "http.target", "url.full")


def _without_query(span, scope: Scope) -> None:
    if not scope.get("query_string") or not span.is_recording():
        return
    attributes = getattr(span, "attributes", None) or {}
    for key in _URL_ATTRIBUTES:
        value = attributes.get(key)
        if isinstance(value, str) and "?" in value:
            span.set_attribute(key, value.split("?", 1)[0])
    if "url.query" in attributes:
        span.set_attribute("url.query", "")

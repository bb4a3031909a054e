"""Traces (OpenTelemetry): one trace from an HTTP request through the Temporal call it makes
(the start of an appeal, a staff action's update) into the workflow's handler and the
activities that handler runs, exported by OTLP over HTTP.

Off unless an endpoint is configured (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
`OTEL_EXPORTER_OTLP_ENDPOINT`): then `from_settings` returns None, nothing of the OpenTelemetry
SDK is imported, no interceptor or middleware is installed, and a request costs what it did.

The Temporal side is the SDK's tracing interceptor, adapted in `infra.temporal_tracing`; the
HTTP side is FastAPI's instrumentation (`api.observability.trace_requests`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from temporalio.client import Interceptor

log = logging.getLogger("jiesu.tracing")

_providers: dict[str, TracerProvider] = {}


class Tracing:
    """The traces of one process: its tracer provider, the Temporal client's interceptors, and
    the ids a log line carries."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider

    def interceptors(self) -> list[Interceptor]:
        """For `Client.connect`; a worker built on that client takes them over."""
        from infra.temporal_tracing import RequestTracing

        return [RequestTracing(self.provider.get_tracer("jiesu.temporal"))]

    @classmethod
    def exporting_to(cls, exporter: SpanExporter, process: str, *, batch: bool = True) -> Tracing:
        """A provider naming the service `jiesu-<process>` and sending its spans to `exporter`
        (in batches off the request path; `batch=False` sends each span as it ends, for tests).
        The log lines of the process carry the current span's ids from then on."""
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        from infra import logging as logs

        provider = TracerProvider(resource=Resource.create({"service.name": f"jiesu-{process}"}))
        provider.add_span_processor(BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter))
        logs.add_ids(span_ids)
        return cls(provider)


def from_settings(settings: Settings, process: str) -> Tracing | None:
    """The process's traces when an OTLP endpoint is configured, else None. One provider per
    process name, installed as OpenTelemetry's global one (for any library that traces on
    its own); the sampler follows `OTEL_TRACES_SAMPLER` (default: every trace its parent
    samples, all of them at the root)."""
    endpoint = settings.otlp_traces_endpoint
    if endpoint is None:
        return None
    if process not in _providers:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        tracing = Tracing.exporting_to(OTLPSpanExporter(endpoint=endpoint), process)
        trace.set_tracer_provider(tracing.provider)
        _providers[process] = tracing.provider
        log.info("traces go to %s", endpoint)
    return Tracing(_providers[process])


def span_ids() -> dict[str, str]:
    """The current span's trace and span id (hex, as tracing back ends show them), if any."""
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": trace.format_trace_id(context.trace_id), "span_id": trace.format_span_id(context.span_id)}

"""Traces: a staff action is one trace from its HTTP request through the Temporal update into
the workflow's handler and the activity it runs; the intake likewise through the start into the
workflow's run. Spans go to an in-memory exporter, through the same code the OTLP one uses; one
test sends them to a small OTLP/HTTP collector of its own. Off, nothing of it is loaded."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import pytest_asyncio
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_trace_id
from temporalio.client import Client

from api.main import create_app
from infra import logging as logs
from infra import tracing as traces
from settings import PROJECT_ROOT, Settings
from tests.api.conftest import serve
from worker import build_worker

STREET_LIGHTS = {
    "appeal_type": "complaint",
    "category": "MUNI.STREETLIGHT",
    "location": {"street": "110101-ANDINGMEN", "address": "方家胡同"},
    "content": "胡同里路灯昏暗，晚上经常有人摔跤",
    "citizen": {"name": "刘先生", "phone": "13812345678"},
}


@pytest_asyncio.fixture(scope="module")
async def traced(settings, engine, dev_env, tokens):
    """The API and a worker on a Temporal client with tracing, on a task queue of their own."""
    exporter = InMemorySpanExporter()
    tracing = traces.Tracing.exporting_to(exporter, "test", batch=False)
    client = Client(**(dev_env.client.config() | {"interceptors": tracing.interceptors()}))
    own = settings.model_copy(update={"temporal_task_queue": f"traced-{uuid.uuid4().hex[:8]}"})
    async with build_worker(client, engine, task_queue=own.temporal_task_queue, settings=own):
        async with serve(create_app(own, engine=engine, temporal=client, tracing=tracing)) as api:
            yield api, exporter


async def spans_of(exporter: InMemorySpanExporter, trace_id: int, names: set[str], timeout: float = 10) -> dict:
    """The trace's spans by name, once every name in `names` is there."""
    deadline = time.monotonic() + timeout
    while True:
        spans = {s.name: s for s in exporter.get_finished_spans() if s.context.trace_id == trace_id}
        if names <= spans.keys() or time.monotonic() > deadline:
            return spans
        await asyncio.sleep(0.05)


def server_span(exporter: InMemorySpanExporter, name: str):
    found = [s for s in exporter.get_finished_spans() if s.name == name and s.kind is SpanKind.SERVER]
    assert len(found) == 1, [s.name for s in exporter.get_finished_spans()]
    return found[0]


def child_of(span, parent) -> bool:
    return span.parent is not None and span.parent.span_id == parent.context.span_id


async def test_a_staff_action_is_one_trace_from_request_to_activity(traced, tokens):
    """路灯不亮: the lighting centre accepts the order. The request's server span, the client's
    update, the workflow's update handler and the projection it runs share one trace, each the
    child of the one before."""
    api, exporter = traced
    created = await api.post("/appeals", json=STREET_LIGHTS, headers=tokens["op"])
    assert created.status_code == 201, created.text
    no = created.json()["appeal"]["appeal_no"]
    assert created.json()["appeal"]["handling_unit"] == "BJ-LIGHTING"
    intake = server_span(exporter, "POST /appeals").context.trace_id
    exporter.clear()

    accepted = await api.post(f"/appeals/{no}/accept", json={}, headers=tokens["lighting"])
    assert accepted.status_code == 200, accepted.text

    http = server_span(exporter, "POST /appeals/{appeal_no}/accept")
    names = {
        "StartWorkflowUpdate:accept",
        "HandleUpdate:accept",
        "StartActivity:project_appeal",
        "RunActivity:project_appeal",
    }
    spans = await spans_of(exporter, http.context.trace_id, names)
    assert names <= spans.keys(), sorted(spans)
    update, handler = spans["StartWorkflowUpdate:accept"], spans["HandleUpdate:accept"]
    start, run = spans["StartActivity:project_appeal"], spans["RunActivity:project_appeal"]
    assert update.kind is SpanKind.CLIENT and update.attributes["temporalWorkflowID"] == f"appeal-{no}"
    # the update call is made within the request (between them: FastAPI's own spans, if any)
    assert http.start_time <= update.start_time and update.end_time <= http.end_time
    assert child_of(handler, update) and child_of(start, update) and child_of(run, start)
    assert run.attributes["temporalWorkflowID"] == f"appeal-{no}"
    # the workflow's own trace (the intake's) is linked from the handler, not its parent
    assert intake != http.context.trace_id
    assert [link.context.trace_id for link in handler.links] == [intake]
    # no query string, body or header on the server span
    assert "13812345678" not in json.dumps(dict(http.attributes), ensure_ascii=False)


async def test_the_intake_is_one_trace_from_request_into_the_workflow(traced, tokens):
    """The start (with its update asking where intake left the order), the workflow's run, and
    the projection of the intake share the request's trace."""
    api, exporter = traced
    exporter.clear()
    created = await api.post("/appeals", json=STREET_LIGHTS, headers=tokens["op"])
    assert created.status_code == 201, created.text
    no = created.json()["appeal"]["appeal_no"]

    http = server_span(exporter, "POST /appeals")
    names = {
        "StartUpdateWithStartWorkflow:AppealWorkflow",
        "RunWorkflow:AppealWorkflow",
        "HandleUpdate:intake_view",
        "RunActivity:project_appeal",
    }
    spans = await spans_of(exporter, http.context.trace_id, names)
    assert names <= spans.keys(), sorted(spans)
    assert {s.attributes.get("temporalWorkflowID") for n, s in spans.items() if n in names} == {f"appeal-{no}"}


async def test_log_lines_carry_the_trace_id_and_a_query_string_stays_out_of_the_span(traced, tokens):
    api, exporter = traced
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter("api"))
    access = logging.getLogger("jiesu.access")
    access.addHandler(handler)
    exporter.clear()
    try:
        r = await api.get("/appeals", params={"q": "刘先生"}, headers=tokens["op"])
    finally:
        access.removeHandler(handler)
    assert r.status_code == 200, r.text
    http = server_span(exporter, "GET /appeals")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line.get("trace_id") for line in lines] == [format_trace_id(http.context.trace_id)]
    attributes = json.dumps(dict(http.attributes), ensure_ascii=False)
    assert "刘先生" not in attributes and "q=" not in attributes and "%E5%88%98" not in attributes


async def test_a_caller_s_traceparent_is_continued(traced, tokens):
    api, exporter = traced
    exporter.clear()
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    r = await api.get("/units", headers=tokens["op"] | {"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})
    assert r.status_code == 200, r.text
    assert format_trace_id(server_span(exporter, "GET /units").context.trace_id) == trace_id


async def test_health_checks_and_scrapes_make_no_spans(traced):
    api, exporter = traced
    exporter.clear()
    await api.get("/metrics")
    await api.get("/healthz")
    assert exporter.get_finished_spans() == ()


# --- configuration ---------------------------------------------------------------------------


def test_off_by_default_and_the_endpoint_follows_the_otlp_rule():
    assert Settings().otlp_traces_endpoint is None
    assert traces.from_settings(Settings(), "api") is None
    base = Settings(OTEL_EXPORTER_OTLP_ENDPOINT="http://collector:4318/")
    assert base.otlp_traces_endpoint == "http://collector:4318/v1/traces"
    both = Settings(OTEL_EXPORTER_OTLP_ENDPOINT="http://a:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="http://b/t")
    assert both.otlp_traces_endpoint == "http://b/t"
    with pytest.raises(ValueError, match="http"):
        Settings(OTEL_EXPORTER_OTLP_ENDPOINT="collector:4317")


def test_off_nothing_of_opentelemetry_s_sdk_is_loaded_nor_installed():
    """The API and the worker as they start without an endpoint: no SDK, no exporter, no
    interceptor, no middleware; a request costs what it did before traces existed."""
    code = (
        "import sys, api.main, worker\n"
        "from api.main import app\n"
        "loaded = [m for m in sys.modules if m.startswith(('opentelemetry.sdk', 'opentelemetry.exporter',"
        " 'opentelemetry.instrumentation', 'temporalio.contrib.opentelemetry'))]\n"
        "assert not loaded, loaded\n"
        "assert not [m for m in app.user_middleware if 'OpenTelemetry' in str(m)], app.user_middleware\n"
        "print('off')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and out.stdout.strip() == "off", out.stderr[-2000:]


def test_spans_reach_an_otlp_collector(monkeypatch):
    """With an endpoint, spans are exported by OTLP over HTTP (protobuf) to <endpoint>/v1/traces."""
    received: list[tuple[str, str, bytes]] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr("opentelemetry.trace.set_tracer_provider", lambda provider: None)  # keep the test's global
    monkeypatch.setattr(traces, "_providers", {})
    try:
        settings = Settings(OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{server.server_port}")
        tracing = traces.from_settings(settings, "worker")
        assert tracing is not None
        with tracing.provider.get_tracer("test").start_as_current_span("RunActivity:project_appeal"):
            pass
        assert tracing.provider.force_flush(10_000)
        tracing.provider.shutdown()
    finally:
        server.shutdown()
    assert [(path, kind) for path, kind, _ in received] == [("/v1/traces", "application/x-protobuf")]
    request = ExportTraceServiceRequest.FromString(received[0][2])
    (resource,) = request.resource_spans
    assert {a.key: a.value.string_value for a in resource.resource.attributes}["service.name"] == "jiesu-worker"
    assert [s.name for scope in resource.scope_spans for s in scope.spans] == ["RunActivity:project_appeal"]

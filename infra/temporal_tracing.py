"""The Temporal SDK's OpenTelemetry interceptor (`TracingInterceptor`) with one change: an
update's or a signal's handler span, and the activities the handler runs, belong to the trace of
the caller that sent the message (a staff action's HTTP request), linked to the workflow's own
trace (the intake that started it, maybe days ago). The SDK's default is the other way round,
which would end a staff action's trace at its update call and file the handler's work under the
intake. Imported only when traces are on (`infra.tracing`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.trace import SpanKind
from temporalio import worker as temporal_worker
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor


class RequestTracing(TracingInterceptor):
    """The SDK's tracing interceptor, whose workflow side files an update's or a signal's
    handler under the caller's trace (`RequestTracedWorkflow`)."""

    def workflow_interceptor_class(
        self, input: temporal_worker.WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        super().workflow_interceptor_class(input)  # registers the span-making function the workflow calls
        return RequestTracedWorkflow


class RequestTracedWorkflow(TracingWorkflowInboundInterceptor):
    """Handlers of updates and signals run in the context their caller sent (the client's
    `StartWorkflowUpdate` span), with a link to the workflow's trace; what they start
    (activities, child workflows, signals) is then part of the caller's trace too. A message
    sent without a context (the CLI, the UI) is handled as the SDK does: in the workflow's
    trace. Spans are made only on first execution, never on replay, and they add no command
    to the history."""

    def handle_update_validator(self, input: temporal_worker.HandleUpdateInput) -> None:
        with self._caller_context(input.headers, f"ValidateUpdate:{input.update}") as traced:
            if traced:
                return self.next.handle_update_validator(input)
        return super().handle_update_validator(input)

    async def handle_update_handler(self, input: temporal_worker.HandleUpdateInput) -> Any:
        with self._caller_context(input.headers, f"HandleUpdate:{input.update}") as traced:
            if traced:
                return await self.next.handle_update_handler(input)
        return await super().handle_update_handler(input)

    async def handle_signal(self, input: temporal_worker.HandleSignalInput) -> None:
        with self._caller_context(input.headers, f"HandleSignal:{input.signal}") as traced:
            if traced:
                return await self.next.handle_signal(input)
        return await super().handle_signal(input)

    @contextmanager
    def _caller_context(self, headers: Mapping[str, Any], name: str) -> Iterator[bool]:
        """Within: the caller's context with this handler's span made, and True; or False when
        the message carries no context."""
        payload = headers.get(self.header_key)
        carrier = self.payload_converter.from_payloads([payload])[0] if payload else None
        if not carrier:
            yield False
            return
        context = self._set_on_context(self.text_map_propagator.extract(carrier))
        token = otel_context.attach(context)
        try:
            self._completed_span(name, link_context_carrier=self._load_workflow_context_carrier(), kind=SpanKind.SERVER)
            yield True
        finally:
            _detach(context, token)


def _detach(context: Any, token: Any) -> None:
    """Detach what was attached, if this is still the context it was attached in: a handler
    abandoned by an evicted workflow is finalized wherever garbage collection runs, where the
    token means nothing (OpenTelemetry would log "Failed to detach context")."""
    if otel_context.get_current() is not context:
        return
    try:
        token.var.reset(token)
    except ValueError:  # the token belongs to another contextvars.Context
        pass

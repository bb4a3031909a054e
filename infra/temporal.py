"""Connecting to Temporal and preparing a namespace for jiesu."""

from __future__ import annotations

import logging
import os
import shutil
import sys

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError, RPCStatusCode

from infra.tracing import Tracing
from settings import Settings, get_settings
from workflows.converter import DATA_CONVERTER
from workflows.search_attributes import ALL_KEYS

_runtimes: dict[str, Runtime] = {}


def sdk_runtime(settings: Settings, port: int | None) -> Runtime | None:
    """A Temporal runtime whose Rust core serves the SDK's metrics (`temporal_…`: task slots,
    schedule-to-start latency, task failures, RPC failures) for Prometheus on
    METRICS_HOST:port. None without a port, or when the port is taken: the process runs on
    without those metrics rather than not at all. One per address and process."""
    if port is None:
        return None
    address = f"{settings.metrics_host}:{port}"
    if address not in _runtimes:
        try:
            _runtimes[address] = Runtime(telemetry=TelemetryConfig(
                metrics=PrometheusConfig(bind_address=address, durations_as_seconds=True),
            ))
        except ValueError as e:  # "Failed starting Prometheus exporter: Address already in use"
            logging.error("Temporal SDK metrics are off: %s", e)
            return None
    return _runtimes[address]


async def connect(
    settings: Settings | None = None, *, metrics_port: int | None = None, tracing: Tracing | None = None, **kwargs
) -> Client:
    """A client of the settings' Temporal; with `metrics_port`, on a runtime serving the SDK's
    metrics there (`sdk_runtime`); with `tracing`, carrying each call's trace into the
    workflows (a worker on this client traces its workflows and activities too)."""
    settings = settings or get_settings()
    if runtime := sdk_runtime(settings, metrics_port):
        kwargs["runtime"] = runtime
    if tracing is not None:
        kwargs["interceptors"] = [*kwargs.get("interceptors", ()), *tracing.interceptors()]
    return await Client.connect(
        settings.temporal_target,
        namespace=settings.temporal_namespace,
        data_converter=DATA_CONVERTER,
        **kwargs,
    )


async def register_search_attributes(client: Client, namespace: str) -> list[str]:
    """Add the project's search attributes that are missing. Returns the names added."""
    added = []
    for key in ALL_KEYS:
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(
                    namespace=namespace,
                    search_attributes={key.name: IndexedValueType.ValueType(key.indexed_value_type)},
                )
            )
            added.append(key.name)
        except RPCError as e:
            if e.status != RPCStatusCode.ALREADY_EXISTS:
                raise
    return added


def unreachable(exc: BaseException) -> bool:
    """Temporal could not be reached: an RPC error, or a lazy client failing to connect (the SDK
    raises a plain RuntimeError for that)."""
    return isinstance(exc, RPCError) or (isinstance(exc, RuntimeError) and "client connect" in str(exc))


def venv_bin(name: str) -> str:
    """A binary installed by pip into this interpreter's environment (temporal,
    temporal-test-server). Never lets the SDK fall back to downloading one."""
    path = shutil.which(name) or os.path.join(os.path.dirname(sys.executable), name)
    if not os.path.exists(path):
        raise RuntimeError(f"{name} is missing: install the project with `pip install -e .[test]`")
    return path

"""Connecting to Temporal and preparing a namespace for jiesu."""

from __future__ import annotations

import os
import shutil
import sys

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from settings import Settings, get_settings
from workflows.converter import DATA_CONVERTER
from workflows.search_attributes import ALL_KEYS


async def connect(settings: Settings | None = None, **kwargs) -> Client:
    settings = settings or get_settings()
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

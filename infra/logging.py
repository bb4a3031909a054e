"""Logging for jiesu's processes: one JSON object a line when stderr is not a terminal (a
container, a log shipper), readable text when it is.

Every line carries what ties it to the work without saying who the citizen is: the request id,
the appeal number, the workflow id, the unit. These come from context variables (set by the
API's middleware and its per-route dependency, `bind`) and from the Temporal SDK's own extras on
workflow and activity loggers (`temporal_workflow`, `temporal_activity`); and, when traces are on
(infra.tracing), the current `trace_id` and `span_id`. Nothing else of a
record's extras is written: a stray `extra={"citizen": ...}` cannot leak into the logs, and the
API never logs bodies, query strings or headers.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

#: The ids a log line may carry, by the key written.
FIELDS = ("request_id", "appeal_no", "workflow_id", "unit")
_context: dict[str, contextvars.ContextVar[str | None]] = {
    name: contextvars.ContextVar(f"jiesu_log_{name}", default=None) for name in FIELDS
}
#: Extras the API's access line passes (method, route template, status, duration); never values
#: a caller typed.
ACCESS_FIELDS = ("method", "route", "status", "duration_ms")
#: More ids for every line, from elsewhere (the current trace: `add_ids`).
_sources: list[Callable[[], dict[str, str]]] = []


def add_ids(source: Callable[[], dict[str, str]]) -> None:
    """From now on, every line also carries what `source()` returns (cheap: called per line)."""
    if source not in _sources:
        _sources.append(source)


def bind(**values: str | None) -> None:
    """Set ids for the rest of this task (a request, say): request_id, appeal_no, workflow_id,
    unit."""
    for name, value in values.items():
        _context[name].set(value)


@contextmanager
def bound(**values: str | None) -> Iterator[None]:
    tokens = {name: _context[name].set(value) for name, value in values.items()}
    try:
        yield
    finally:
        for name, token in tokens.items():
            _context[name].reset(token)


def current() -> dict[str, str]:
    ids = {name: value for name, var in _context.items() if (value := var.get()) is not None}
    for source in _sources:
        ids |= source()
    return ids


def _temporal_ids(record: logging.LogRecord) -> dict[str, str]:
    """workflow_id from the SDK's extras on workflow and activity loggers."""
    out = {}
    for key in ("temporal_workflow", "temporal_activity"):
        extra = getattr(record, key, None)
        if isinstance(extra, dict) and extra.get("workflow_id"):
            out["workflow_id"] = str(extra["workflow_id"])
            if key == "temporal_activity" and extra.get("activity_type"):
                out["activity"] = str(extra["activity_type"])
            if key == "temporal_workflow" and extra.get("workflow_type"):
                out["workflow_type"] = str(extra["workflow_type"])
    return out


class JsonFormatter(logging.Formatter):
    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "process": self.process,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line |= current()
        line |= _temporal_ids(record)
        line |= {key: getattr(record, key) for key in ACCESS_FIELDS if hasattr(record, key)}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """For a terminal: the usual line, then the ids in brackets."""

    def __init__(self, process: str) -> None:
        super().__init__(f"%(asctime)s {process} %(levelname)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        ids = current() | _temporal_ids(record)
        ids |= {key: getattr(record, key) for key in ACCESS_FIELDS if hasattr(record, key)}
        return f"{text} [{' '.join(f'{k}={v}' for k, v in ids.items())}]" if ids else text


def configure(process: str, *, json_lines: bool | None = None, level: int = logging.INFO) -> logging.Handler:
    """Install one stderr handler on the root logger (replacing the one installed before, if any),
    and route uvicorn's loggers through it. Uvicorn's access log is silenced: it writes the raw
    path with its query string, which may hold a search term; the API writes its own access line
    by route template (api.observability)."""
    json_lines = (not sys.stderr.isatty()) if json_lines is None else json_lines
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(process) if json_lines else TextFormatter(process))
    handler._jiesu = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_jiesu", False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = True
    access.setLevel(logging.WARNING)
    return handler

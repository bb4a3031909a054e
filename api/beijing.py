"""Every time the API answers with is Beijing time with its offset (`+08:00`).

Times are stored and computed in UTC or with whatever offset they were made with (PostgreSQL's
`timestamptz`, `workflow.now()`, the timeline's details written by the workflow); people read
Beijing time. One place turns them: the JSON every route answers with (its default response
class) and the error shape, so a route, a nested timeline detail or a new field cannot forget."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fastapi.responses import JSONResponse

from domain.calendar import CHINA_TZ

#: An ISO 8601 date and time with an offset, as the API writes times (never a bare date).
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})")


def beijing(value: datetime) -> datetime:
    """An aware time in Beijing time; a naive one is taken to be UTC, as PostgreSQL hands it."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(CHINA_TZ)


def _text(value: str) -> str:
    if len(value) > 40 or not _ISO_TIME.fullmatch(value):
        return value
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return beijing(moment).isoformat()


def in_beijing_time(content: Any) -> Any:
    """`content` (JSON-ready data) with every time in it, however deep, in Beijing time."""
    if isinstance(content, str):
        return _text(content)
    if isinstance(content, datetime):
        return beijing(content).isoformat()
    if isinstance(content, dict):
        return {k: in_beijing_time(v) for k, v in content.items()}
    if isinstance(content, (list, tuple)):
        return [in_beijing_time(v) for v in content]
    return content


class BeijingJSONResponse(JSONResponse):
    """JSON with every time in Beijing time: the app's default response class."""

    def render(self, content: Any) -> bytes:
        return super().render(in_beijing_time(content))

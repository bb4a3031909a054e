"""Query parameters are read as the route declares them, for every route at once (an
app-level dependency): a name the route does not know is a 422 naming it (a misspelt filter
would otherwise be ignored and the answer silently cover more than was asked), and a date or
a time must be written in ISO 8601 (pydantic alone would also take `0.5` or `86400` as a Unix
time)."""

from __future__ import annotations

import re
import types
import typing
from datetime import date, datetime

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.errors import ApiError

_ISO = {
    date: (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "a date, YYYY-MM-DD"),
    datetime: (
        re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$"),
        "a time, YYYY-MM-DDTHH:MM[:SS]+08:00",
    ),
}


def _kind(annotation) -> type | None:
    """date or datetime when the parameter is one (or an optional one)."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        found = [a for a in typing.get_args(annotation) if a in _ISO]
        return found[0] if found else None
    return annotation if annotation in _ISO else None


def declared(route: APIRoute) -> dict[str, type | None]:
    """The route's query parameters, by the name a client writes, with the date kind if any
    (worked out once per route, kept on it)."""
    known = getattr(route, "_jiesu_query", None)
    if known is not None:
        return known
    out: dict[str, type | None] = {}

    def walk(d: Dependant) -> None:
        for f in d.query_params:
            out[f.alias] = _kind(f.field_info.annotation)
        for sub in d.dependencies:
            walk(sub)

    walk(route.dependant)
    route._jiesu_query = out
    return out


async def query_as_declared(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or getattr(route.endpoint, "takes_any_query", False):
        return  # (Open311 reads the spec's own names, such as attribute[...], itself)
    known = declared(route)
    details = [
        {"field": name, "message": "not a parameter of this route", "type": "unknown_parameter"}
        for name in dict.fromkeys(request.query_params) if name not in known
    ]
    for name, kind in known.items():
        if kind is None:
            continue
        pattern, what = _ISO[kind]
        details += [
            {"field": name, "message": f"should be {what}", "type": "iso_format"}
            for value in request.query_params.getlist(name) if not pattern.match(value)
        ]
    if details:
        fields = ", ".join(d["field"] for d in details)
        raise ApiError(422, "validation_error", f"invalid input: {fields}", details)

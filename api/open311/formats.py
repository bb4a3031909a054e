"""GeoReport v2 answers in JSON or XML, and its error list (`[{"code", "description"}]`).

The spec names the XML elements: a list's root (`services`, `service_requests`, ...) holding one
element per item (`service`, `request`, ...); nested lists (a definition's `attributes`, an
attribute's `values`, a service's `keywords`) follow the same rule. In JSON a list is an array,
and `keywords` a comma-separated string in both formats, as the spec has it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from fastapi.responses import Response

from api.beijing import BeijingJSONResponse, beijing

FORMATS = ("json", "xml")

#: element name of one item of each list, by the list's name
ITEM = {
    "services": "service",
    "service_requests": "request",
    "service_requests_updates": "request_update",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
}


class Open311Error(Exception):
    """An error answered in the spec's format with its HTTP status (400, 403, 404, 429, 503)."""

    def __init__(self, status: int, description: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.headers = status, description, headers


def text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return beijing(value).isoformat(timespec="seconds")
    return str(value)


def _element(name: str, value: Any) -> ET.Element:
    node = ET.Element(name)
    if isinstance(value, list):
        for item in value:
            node.append(_element(ITEM[name], item))
    elif isinstance(value, dict):
        for key, inner in value.items():
            node.append(_element(key, inner))
    elif value is not None:
        node.text = text(value)
    return node


def to_xml(root: str, items: list[dict]) -> bytes:
    tree = _element(root, items)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(tree, encoding="utf-8")


def _json_ready(value: Any) -> Any:
    if isinstance(value, datetime):
        return text(value)
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    return value


def answer(fmt: str, root: str, items: list[dict] | dict, status: int = 200, headers: dict | None = None) -> Response:
    """`items` as the spec's list (a definition is a single object in JSON, an element in XML)."""
    if fmt == "xml":
        body = _element(root, items) if isinstance(items, dict) else None
        data = (b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(body, encoding="utf-8")) if body is not None \
            else to_xml(root, items)
        return Response(data, status_code=status, media_type="text/xml; charset=utf-8", headers=headers)
    return BeijingJSONResponse(_json_ready(items), status_code=status, headers=headers)


def error(fmt: str, status: int, description: str, headers: dict | None = None) -> Response:
    return answer(fmt if fmt in FORMATS else "json", "errors", [{"code": status, "description": description}],
                  status=status, headers=headers)

"""GeoReport v2's field lists (http://wiki.open311.org/GeoReport_v2/), written from the spec, and
FixMyStreet's service request updates extension: what each answer may hold, what it must hold,
and the XML element names. `check_json` / `check_xml` validate an answer against them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

W3_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True)
class Item:
    element: str  # the XML element of one item
    fields: frozenset[str]  # every field the spec names
    required: frozenset[str]  # present and non-empty in every item
    times: frozenset[str] = frozenset()
    enums: dict[str, frozenset[str]] = field(default_factory=dict)
    numbers: frozenset[str] = frozenset()
    extensions: frozenset[str] = frozenset()  # ours, documented in the README


SERVICE = Item(
    "service",
    frozenset({"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}),
    frozenset({"service_code", "service_name", "metadata", "type"}),
    enums={"type": frozenset({"realtime", "batch", "blackbox"}), "metadata": frozenset({"true", "false"})},
)
VALUE = Item("value", frozenset({"key", "name"}), frozenset({"key", "name"}))
ATTRIBUTE = Item(
    "attribute",
    frozenset({"variable", "code", "datatype", "required", "datatype_description", "order", "description", "values"}),
    frozenset({"variable", "code", "datatype", "required", "order", "description"}),
    enums={
        "datatype": frozenset({"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}),
        "variable": frozenset({"true", "false"}),
        "required": frozenset({"true", "false"}),
    },
    numbers=frozenset({"order"}),
)
REQUEST = Item(
    "request",
    frozenset({
        "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
        "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
        "address", "address_id", "zipcode", "lat", "long", "media_url",
    }),
    frozenset({"service_request_id", "status", "service_code", "requested_datetime"}),
    times=frozenset({"requested_datetime", "updated_datetime", "expected_datetime"}),
    enums={"status": frozenset({"open", "closed"})},
    numbers=frozenset({"lat", "long"}),
)
CREATED = Item(
    "request",
    frozenset({"service_request_id", "token", "service_notice", "account_id"}),
    frozenset({"service_request_id"}),
    extensions=frozenset({"citizen_token"}),
)
TOKEN = Item("request", frozenset({"service_request_id", "token"}), frozenset({"token"}))
UPDATE = Item(  # FixMyStreet's servicerequestupdates
    "request_update",
    frozenset({"update_id", "service_request_id", "status", "updated_datetime", "description", "media_url"}),
    frozenset({"update_id", "service_request_id", "status", "updated_datetime", "description"}),
    times=frozenset({"updated_datetime"}),
    enums={"status": frozenset({"open", "closed"})},
)
ERROR = Item("error", frozenset({"code", "description"}), frozenset({"code", "description"}), numbers=frozenset({"code"}))

#: the root element of each list
ROOTS = {
    "services": SERVICE, "service_requests": REQUEST, "service_requests_updates": UPDATE, "errors": ERROR,
}


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_item(item: Item, data: dict, where: str) -> None:
    assert isinstance(data, dict), where
    unknown = set(data) - item.fields - item.extensions - ({"attributes"} if item is ATTRIBUTE else set())
    assert not unknown, f"{where}: fields outside the spec: {sorted(unknown)}"
    for name in item.required:
        assert _text(data.get(name)) not in (None, ""), f"{where}: {name} is required"
    for name in item.times:
        value = _text(data.get(name))
        if value:
            assert W3_TIME.match(value), f"{where}: {name} is not a w3 time with its zone: {value}"
            assert value.endswith("+08:00"), f"{where}: {name} is not Beijing time: {value}"
    for name, allowed in item.enums.items():
        value = _text(data.get(name))
        if value is not None:
            assert value in allowed, f"{where}: {name}={value!r} not in {sorted(allowed)}"
    for name in item.numbers:
        value = data.get(name)
        if value not in (None, ""):
            float(value)


def check_json(items: Item, body, *, one: bool = False) -> None:
    """A JSON answer: a list of items (a service definition: one object)."""
    if one:
        body = [body]
    assert isinstance(body, list), body
    for i, data in enumerate(body):
        _check_item(items, data, f"{items.element}[{i}]")
        if items is SERVICE and data.get("keywords") is not None:
            assert isinstance(data["keywords"], str), "keywords is a comma-separated string"


def check_definition_json(body: dict) -> None:
    assert set(body) == {"service_code", "attributes"}, set(body)
    for i, attribute in enumerate(body["attributes"]):
        _check_item(ATTRIBUTE, attribute, f"attribute[{i}]")
        for value in attribute.get("values") or []:
            _check_item(VALUE, value, f"attribute[{i}].value")


def _flat(node: ET.Element) -> dict:
    """An item element as a dict of its child elements' text (lists kept as elements)."""
    out = {}
    for child in node:
        assert child.tag not in out, f"<{node.tag}> repeats <{child.tag}>"
        out[child.tag] = child if len(child) else child.text
    return out


def check_xml(items: Item, raw: bytes, root: str) -> ET.Element:
    """Well-formed, UTF-8 declared, the spec's root and item elements."""
    assert raw.startswith(b'<?xml version="1.0" encoding="UTF-8"?>'), raw[:60]
    tree = ET.fromstring(raw)
    assert tree.tag == root, tree.tag
    for i, node in enumerate(tree):
        assert node.tag == items.element, f"<{root}> holds <{node.tag}>, not <{items.element}>"
        _check_item(items, _flat(node), f"<{node.tag}>[{i}]")
    return tree


def check_definition_xml(raw: bytes) -> ET.Element:
    assert raw.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    tree = ET.fromstring(raw)
    assert tree.tag == "service_definition"
    assert [c.tag for c in tree] == ["service_code", "attributes"]
    for node in tree.find("attributes"):
        assert node.tag == "attribute"
        _check_item(ATTRIBUTE, _flat(node), "<attribute>")
        for value in node.find("values") if node.find("values") is not None else []:
            assert value.tag == "value"
            _check_item(VALUE, _flat(value), "<value>")
    return tree


def check_error(response, status: int, fmt: str) -> str:
    """The spec's error body with the right HTTP status; the description."""
    assert response.status_code == status, response.text
    if fmt == "json":
        body = response.json()
        check_json(ERROR, body)
        assert body[0]["code"] == status
        return body[0]["description"]
    tree = check_xml(ERROR, response.content, "errors")
    assert tree[0].find("code").text == str(status)
    return tree[0].find("description").text

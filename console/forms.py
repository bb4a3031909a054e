"""Forms made from an action's body schema (what `GET /appeals/{no}/actions` describes), and
the body made back from what the form sends. One form per action of the table, none written by
hand: a new action or field shows up on the page by itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: fields that name a unit: offered as a choice among the directory's units
UNIT_FIELDS = frozenset({"unit", "suggested_unit", "new_unit", "units"})


@dataclass
class FormField:
    name: str
    kind: str  # text | textarea | bool | int | date | datetime | choice | units
    required: bool
    label_key: str
    choices: list[str] = field(default_factory=list)
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    default: Any = None


def _plain(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """The property's own schema: `$ref` resolved, `anyOf [X, null]` reduced to X."""
    if "$ref" in prop:
        prop = {**defs[prop["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in prop.items() if k != "$ref"}}
    for option in prop.get("anyOf", []):
        if option.get("type") != "null":
            merged = {**prop, **_plain(option, defs)}
            merged.pop("anyOf", None)
            return merged
    return prop


def fields_of(schema: dict[str, Any]) -> list[FormField]:
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    found = []
    for name, raw in schema.get("properties", {}).items():
        prop = _plain(raw, defs)
        kind = "text"
        if name in UNIT_FIELDS:
            kind = "units" if prop.get("type") == "array" else "unit"
        elif "enum" in prop:
            kind = "choice"
        elif prop.get("type") == "boolean":
            kind = "bool"
        elif prop.get("type") == "integer":
            kind = "int"
        elif prop.get("format") == "date":
            kind = "date"
        elif prop.get("format") == "date-time":
            kind = "datetime"
        elif prop.get("type") == "string" and (prop.get("maxLength") or 2000) > 200:
            kind = "textarea"
        found.append(FormField(
            name=name, kind=kind, required=name in required, label_key=f"field.{name}",
            choices=[str(c) for c in prop.get("enum", [])],
            max_length=prop.get("maxLength"), minimum=prop.get("minimum"), maximum=prop.get("maximum"),
            default=raw.get("default", prop.get("default")),
        ))
    return found


def body_from(fields: list[FormField], form: dict[str, list[str]]) -> dict[str, Any]:
    """The JSON body from the form's values. Left empty: not sent (the API applies its default
    or says the field is required). Values are passed on as typed text where they do not parse,
    so the API's own validation names the field and the reason."""
    body: dict[str, Any] = {}
    for f in fields:
        values = [v.strip() for v in form.get(f.name, []) if v.strip()]
        if f.kind == "bool":
            if values:
                body[f.name] = values[-1] in ("true", "on", "1", "yes")
            elif f.required:
                body[f.name] = False
            continue
        if not values:
            continue
        value = values[-1]
        if f.kind == "units":
            body[f.name] = [u.strip() for v in values for u in v.replace("，", ",").split(",") if u.strip()]
        elif f.kind == "int":
            body[f.name] = int(value) if value.lstrip("-").isdigit() else value
        elif f.kind == "datetime" and len(value) == 16:  # <input type=datetime-local>: Beijing time
            body[f.name] = f"{value}:00+08:00"
        else:
            body[f.name] = value
    return body

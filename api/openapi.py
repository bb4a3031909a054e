"""The OpenAPI document as /docs and /redoc show it: FastAPI's, plus the examples a reader needs.

- **Request bodies**: each model declares its examples once (`model_config`'s
  `json_schema_extra`, from the seed stories: the street lights of 方家胡同, the objection at 朝外,
  the whistle of 亚运村); every operation taking that body offers them by name too, as the
  media type's `examples` (the pick list of Swagger UI's "Try it out").
- **Responses**: each operation's success answer has an example recorded from the seed stories
  run against the real stack (`api/examples.json`, written by `Recorder`; docs/development.md
  says how to record it again). Tokens are blanked, long lists cut to their first items.
- **Errors**: each operation lists its error codes with their meaning and an example of each
  (`api.error_codes`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

EXAMPLES_FILE = Path(__file__).with_name("examples.json")
#: A recorded answer keeps at most this many items of a list, and of a CSV this many lines
KEEP_ITEMS = 2
KEEP_LINES = 4
#: Values never kept in a recorded answer (they would be valid credentials on a dev stack)
SECRETS = {"access_token", "citizen_token", "token"}
BLANKED = "…"


def install(app: FastAPI, examples_file: Path = EXAMPLES_FILE) -> None:
    """Make `app.openapi()` add the examples (once; FastAPI caches the document)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            recorded = json.loads(examples_file.read_text(encoding="utf-8")) if examples_file.exists() else {}
            add_examples(schema, recorded)
        return app.openapi_schema  # type: ignore[return-value]  # set by build()

    app.openapi = openapi  # type: ignore[method-assign]


def add_examples(schema: dict[str, Any], recorded: dict[str, dict[str, Any]]) -> None:
    components = schema.get("components", {}).get("schemas", {})
    shared = schema.setdefault("components", {}).setdefault("examples", {})
    errors: dict[str, str] = {}  # an error response's JSON → its name under components/responses
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for media in (operation.get("requestBody") or {}).get("content", {}).values():
                _name_body_examples(media, components)
            for status, response in operation["responses"].items():
                if status >= "400" and "$ref" not in response:
                    _share_error_examples(response, shared)
                    operation["responses"][status] = _shared_response(schema, errors, status, response)
            answer = recorded.get(f"{method.upper()} {path}")
            if answer is not None:
                response = operation["responses"].get(str(answer["status"]))
                media = (response or {}).get("content", {}).get(answer["content_type"])
                if media is not None:
                    media["example"] = answer["body"]


def _share_error_examples(response: dict[str, Any], shared: dict[str, Any]) -> None:
    """An error code's example is the same on every operation: kept once, under
    `components/examples`, and referred to (the document stays small enough for a browser)."""
    examples = response.get("content", {}).get("application/json", {}).get("examples", {})
    for name, example in examples.items():
        if "$ref" not in example:
            shared.setdefault(f"error-{name}", example)
            examples[name] = {"$ref": f"#/components/examples/error-{name}"}


def _shared_response(schema: dict[str, Any], names: dict[str, str], status: str, response: dict[str, Any]):
    """Most operations answer the same errors in the same words (the app-wide ones, a staff
    action's refusals): each such response is kept once, under `components/responses`."""
    key = json.dumps(response, sort_keys=True)
    if key not in names:
        codes = re.findall(r"^`(\w+)`", response.get("description", ""), flags=re.M)
        base = f"{status}-{'-'.join(codes) or 'error'}"
        taken = schema["components"].setdefault("responses", {})
        name = base if base not in taken else f"{base}-{sum(n.startswith(base) for n in taken) + 1}"
        taken[name] = response
        names[key] = name
    return {"$ref": f"#/components/responses/{names[key]}"}


def _name_body_examples(media: dict[str, Any], components: dict[str, Any]) -> None:
    """The body model's examples as the media type's named examples, unless it has its own."""
    if "example" in media or "examples" in media:
        return
    schema = media.get("schema", {})
    ref = _ref(schema)
    examples = components.get(ref, {}).get("examples") if ref else schema.get("examples")
    if examples:
        media["examples"] = {_summary(e, i): {"summary": _summary(e, i), "value": e} for i, e in enumerate(examples)}


def _ref(schema: dict[str, Any]) -> str | None:
    """The component a body's schema names (directly, or as the one non-null choice)."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    refs = [s["$ref"] for s in schema.get("anyOf", []) if "$ref" in s]
    return refs[0].rsplit("/", 1)[-1] if len(refs) == 1 else None


def _summary(example: dict[str, Any], index: int) -> str:
    """An example's name: its first text (a reason, a result, a title), else its fields."""
    for value in example.values():
        if isinstance(value, str) and not value.isascii():
            return value if len(value) <= 40 else value[:39] + "…"
    if not example:
        return "no fields: an empty body (or none)"
    return (
        ", ".join(f"{k}={v}" for k, v in example.items() if not isinstance(v, (dict, list)))[:60]
        or f"example {index + 1}"
    )


# --- recording the answers ---------------------------------------------------------------------


class Recorder:
    """ASGI middleware that keeps the first successful answer of each operation (by the route's
    template), for `api/examples.json`. Used by the test suite's story runs when asked
    (docs/development.md); never in a running service."""

    def __init__(self, app: ASGIApp, into: Path) -> None:
        self.app, self.into = app, into

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status, content_type, chunks = 0, "", []

        async def keep(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = dict(message.get("headers") or [])
                content_type = headers.get(b"content-type", b"").decode("latin-1").split(";")[0]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, keep)
        route = getattr(scope.get("route"), "path", None)
        if route is None or not 200 <= status < 300 or content_type not in ("application/json", "text/csv"):
            return
        key = f"{scope['method']} {route}"
        recorded = json.loads(self.into.read_text(encoding="utf-8")) if self.into.exists() else {}
        if key in recorded.get("_this_run", []):
            return
        text = b"".join(chunks).decode("utf-8")
        body = shortened(json.loads(text)) if content_type == "application/json" else _first_lines(text)
        recorded[key] = {"status": status, "content_type": content_type, "body": body}
        recorded["_this_run"] = [*recorded.get("_this_run", []), key]
        self.into.write_text(json.dumps(recorded, ensure_ascii=False, indent=1, sort_keys=True) + "\n", "utf-8")


def shortened(value: Any) -> Any:
    """An answer fit for the docs: lists cut to their first items, secrets blanked."""
    if isinstance(value, list):
        return [shortened(v) for v in value[:KEEP_ITEMS]]
    if isinstance(value, dict):
        return {k: BLANKED if k in SECRETS and isinstance(v, str) else shortened(v) for k, v in value.items()}
    return value


def _first_lines(text: str) -> str:
    return "".join(text.splitlines(keepends=True)[:KEEP_LINES])


def finish_recording(into: Path) -> None:
    """Drop the run's bookkeeping from the recorded file."""
    if into.exists():
        recorded = json.loads(into.read_text(encoding="utf-8"))
        recorded.pop("_this_run", None)
        into.write_text(json.dumps(recorded, ensure_ascii=False, indent=1, sort_keys=True) + "\n", "utf-8")

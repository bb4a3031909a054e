"""The OpenAPI document tells a reader what each call takes, gives back and may answer: every
request body has examples, every operation an example of its success answer (recorded from the
seed stories, and still of the shape the operation answers), and every error response its
codes, each with its meaning and an example. Every code the API can answer is in the catalogue
and in docs/api.md's table."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import TypeAdapter

from api.error_codes import ACTION, APP_WIDE, CODES, HTTP_CODES
from api.errors import _HTTP_CODES, REFUSAL_STATUS
from api.main import create_app
from api.openapi import EXAMPLES_FILE
from domain import collaboration, parts
from settings import Settings

ROOT = Path(__file__).resolve().parents[2]
APP = create_app(Settings(database_url="postgresql+asyncpg://docs@localhost/docs", JIESU_ENV="test"))
SPEC = APP.openapi()
RECORDED = json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))
#: Open311 GeoReport v2 answers errors in its own spec's shape (tests/api/test_open311.py)
OPEN311 = "/open311/"
#: (method path, route) of every operation: its response model and body
ROUTES = {
    f"{method} {context.path}": context
    for context in iter_route_contexts(APP.routes)
    if isinstance(context.original_route, APIRoute)
    for method in context.methods
}
#: The paths of the staff actions sent to workflows as Updates
ACTION_PATHS = {f"/appeals/{{appeal_no}}/{r.path}" for a in collaboration.ALL_ACTIONS.values() for r in a.routes} | {
    f"/appeals/{{appeal_no}}/{{segment}}/{{unit}}/{r.path}" for a in parts.ACTIONS.values() for r in a.routes
}


def operations(*, open311: bool = True):
    for path, ops in SPEC["paths"].items():
        for method, op in ops.items():
            if open311 or not path.startswith(OPEN311):
                yield f"{method.upper()} {path}", path, op


def component(schema: dict) -> dict:
    refs = [schema.get("$ref")] + [s.get("$ref") for s in schema.get("anyOf", [])]
    names = [r.rsplit("/", 1)[-1] for r in refs if r]
    return SPEC["components"]["schemas"][names[0]] if len(names) == 1 else schema


def resolved_response(response: dict) -> dict:
    if "$ref" in response:
        return SPEC["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    return response


def resolved(example: dict) -> dict:
    if "$ref" in example:
        return SPEC["components"]["examples"][example["$ref"].rsplit("/", 1)[-1]]
    return example


def codes_of(response: dict) -> list[str]:
    response = resolved_response(response)
    return re.findall(r"^`(\w+)`: ", response.get("description", ""), flags=re.M)


# --- request bodies ----------------------------------------------------------------------------


def test_every_request_body_has_examples():
    missing = []
    for label, _, op in operations():
        for media_type, media in (op.get("requestBody") or {}).get("content", {}).items():
            examples = (
                [media["example"]] if "example" in media else [e["value"] for e in media.get("examples", {}).values()]
            )
            if not examples:
                missing.append(f"{label} ({media_type})")
    assert not missing, f"request bodies without an example: {missing}"


def test_the_body_examples_are_valid_bodies():
    """Each example is one the operation's body model accepts (the fuzz run sends them too)."""
    bad = []
    for key, context in ROUTES.items():
        route = context.original_route
        if route.body_field is None:
            continue
        model = route.body_field.field_info.annotation
        for example in (getattr(model, "model_config", {}).get("json_schema_extra") or {}).get("examples", []):
            try:
                TypeAdapter(model).validate_python(example)
            except ValueError as e:
                bad.append(f"{key}: {example}: {e}")
    assert not bad, bad


def test_an_action_offers_only_the_examples_that_fit_its_route():
    """The whistle and co-handling share one input: each route shows its own story."""
    bodies = {
        path: SPEC["paths"][f"/appeals/{{appeal_no}}/{path}"]["post"]["requestBody"]["content"]["application/json"]
        for path in ("whistle", "co-handling")
    }
    whistle = [e["value"] for e in bodies["whistle"]["examples"].values()]
    co = [e["value"] for e in bodies["co-handling"]["examples"].values()]
    assert [e["units"] for e in whistle] == [["110105-CGW", "110105-ZJW", "110105-YLLH", "110105-DLYH"]]
    assert [e["units"] for e in co] == [["110101-CGW"]]
    assert all("kind" not in e for e in whistle + co)


# --- success answers ------------------------------------------------------------------------


def test_every_operation_has_an_example_of_its_success_answer():
    missing = []
    for label, _, op in operations():
        success = [r for status, r in op["responses"].items() if status.startswith("2")]
        if not any("example" in m or "examples" in m for r in success for m in r.get("content", {}).values()):
            missing.append(label)
    assert not missing, f"operations without an example answer (record them: docs/development.md): {missing}"


def test_recorded_answers_have_the_shape_the_operations_answer():
    """A recorded answer that its operation's response model no longer reads (a field renamed,
    added or dropped since) is to be recorded again."""
    stale = []
    for key, answer in RECORDED.items():
        route = ROUTES.get(key)
        assert route is not None, f"{key} is recorded but no longer served: record again"
        if answer["content_type"] != "application/json" or route.response_model is None:
            continue
        adapter = TypeAdapter(route.response_model)
        try:
            parsed = adapter.validate_python(answer["body"])
        except ValueError as e:
            stale.append(f"{key}: {e}")
            continue
        body, dumped = answer["body"], adapter.dump_python(parsed, mode="json", by_alias=True)
        if isinstance(body, list) and body:
            body, dumped = body[0], dumped[0]
        if isinstance(body, dict) and body.keys() != dumped.keys():
            stale.append(f"{key}: fields {sorted(body.keys() ^ dumped.keys())} differ from the model's")
    assert not stale, stale


def test_recorded_answers_hold_no_credentials():
    text = EXAMPLES_FILE.read_text(encoding="utf-8")
    assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}\.", text), "a bearer token is in the recorded answers"
    for answer in RECORDED.values():
        for key in ("access_token", "citizen_token"):
            if isinstance(answer["body"], dict) and key in answer["body"]:
                assert answer["body"][key] == "…"


# --- errors ----------------------------------------------------------------------------------


def test_every_error_response_lists_its_codes_with_meaning_and_example():
    problems = []
    for label, path, op in operations(open311=False):
        for status, response in op["responses"].items():
            if not status.startswith(("4", "5")) or (path == "/healthz" and status == "503"):
                continue  # /healthz's 503 is its report of which store is down
            codes = codes_of(response)
            if not codes:
                problems.append(f"{label} {status}: no code listed")
                continue
            wrong = [c for c in codes if c not in CODES or CODES[c].status != int(status)]
            examples = resolved_response(response).get("content", {}).get("application/json", {}).get("examples", {})
            shown = {name: resolved(e)["value"]["error"]["code"] for name, e in examples.items()}
            if wrong:
                problems.append(f"{label} {status}: {wrong} are not codes of {status}")
            if shown != {c: c for c in codes}:
                problems.append(f"{label} {status}: examples {sorted(shown)} for codes {codes}")
    assert not problems, "\n".join(problems)


def test_every_operation_lists_the_errors_it_can_answer():
    """What the app answers anywhere; 404 where the path names something; a staff action's
    refusals and its unconfirmed 503; a period's 422; the intake's reused key."""
    problems = []
    for label, path, op in operations(open311=False):
        listed = {c for r in op["responses"].values() for c in codes_of(r)}
        expected = set(APP_WIDE) - ({"temporal_unavailable", "database_unavailable"} if path == "/healthz" else set())
        if re.search(r"\{(appeal_no|code|task_id|month|unit)\}", path) and path != "/assessment/months/{month}/freeze":
            expected.add("not_found")
        if label.startswith("POST") and path in ACTION_PATHS:
            expected |= set(ACTION)
        if any(p["name"] == "period" for p in op.get("parameters", [])):
            expected.add("invalid_period")
        if label == "POST /appeals":
            expected |= {"idempotency_conflict", "invalid"}
        if missing := expected - listed:
            problems.append(f"{label}: {sorted(missing)}")
    assert not problems, "\n".join(problems)


def test_open311_errors_are_described():
    for label, _, op in operations():
        if label.split(" ", 1)[1].startswith(OPEN311):
            errors = {s: r for s, r in op["responses"].items() if s.startswith("4")}
            assert {"400", "403", "404", "429"} <= errors.keys(), label
            assert all(resolved_response(r).get("description") for r in errors.values()), label


def raised_codes() -> dict[str, set[int]]:
    """Every code the API's source answers with, and the statuses it uses it with."""
    found: dict[str, set[int]] = {}
    for path in (ROOT / "api").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for status, code in re.findall(r"(?:ApiError|error_response)\(\s*(\d{3}),\s*\"(\w+)\"", text):
            found.setdefault(code, set()).add(int(status))
        for code in re.findall(r"\brefused\(\s*\"(\w+)\"", text):
            found.setdefault(code, set()).add(REFUSAL_STATUS[code])
    for code, status in REFUSAL_STATUS.items():
        found.setdefault(code, set()).add(status)
    for status, code in _HTTP_CODES.items():
        found.setdefault(code, set()).add(status)
    return found


def test_every_code_the_api_answers_is_catalogued():
    everything = CODES | HTTP_CODES
    found = raised_codes()
    assert {"validation_error", "not_found", "wrong_state", "temporal_unavailable", "internal_error"} <= found.keys()
    missing = {code: statuses for code, statuses in found.items() if code not in everything}
    assert not missing, f"codes answered but not in api/error_codes.py: {missing}"
    wrong = {code: statuses for code, statuses in found.items() if code in CODES and statuses != {CODES[code].status}}
    assert not wrong, f"codes answered with another status than catalogued: {wrong}"


def test_docs_table_lists_every_code():
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    table = text.split("<!-- error-codes -->", 1)[1].split("<!-- /error-codes -->", 1)[0]
    rows = re.findall(r"^\| (\d{3}) \| `(\w+)` \| (.+) \|$", table, flags=re.M)
    assert {code: (int(status), meaning) for status, code, meaning in rows} == {
        code: (c.status, c.meaning) for code, c in (CODES | HTTP_CODES).items()
    }


@pytest.mark.parametrize("status", sorted({c.status for c in CODES.values()}))
def test_app_wide_responses_are_in_the_document(status):
    """A sanity check of the catalogue's use: each status of an app-wide code is declared for
    GET /appeals (an operation that adds nothing of its own but a 403's meaning)."""
    responses = SPEC["paths"]["/appeals"]["get"]["responses"]
    if any(CODES[c].status == status for c in APP_WIDE):
        assert str(status) in responses

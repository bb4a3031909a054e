"""Every error code the API answers with, its HTTP status and its meaning, declared once; and
the OpenAPI `responses` of an operation built from the codes it can answer (`responses`).

An operation's documented error response lists each of its codes with what it means there and
an example of the body, so a reader of /docs (and docs/api.md's table, which
tests/api/test_openapi_docs.py keeps in step) knows every answer a call may get.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.errors import REFUSAL_STATUS, ErrorResponse


@dataclass(frozen=True)
class Code:
    status: int
    meaning: str
    #: an answer as the API writes it (message, details), from the seed stories
    message: str
    details: Any = None


def _field(field: str | None, message: str, type: str, status: str | None = None) -> list[dict[str, Any]]:
    entry: dict[str, Any] = {"field": field, "message": message, "type": type}
    return [entry | {"status": status}] if status else [entry]


CODES: dict[str, Code] = {
    # --- 4xx: the caller can fix it -------------------------------------------------------
    "validation_error": Code(
        422,
        "the input is malformed: a field missing, of the wrong type or out of bounds, an unknown unit or "
        "category, a query parameter the operation does not declare; `details` names each field at fault",
        "invalid input: category",
        _field("category", "Field required", "missing"),
    ),
    "invalid": Code(
        422,
        "the workflow refused a value of the input (a late completion without `late_reason`, an objection "
        "suggesting the objecting unit …); `details` names the field, the reason and the status then",
        "the limit has passed: give the reason for the delay (late_reason)",
        _field(
            "late_reason", "the limit has passed: give the reason for the delay (late_reason)", "invalid", "contacted"
        ),
    ),
    "invalid_period": Code(
        422,
        "a period that is not of the form asked (`2026-10`, `2026-W49`, `2026`; a month `YYYY-MM`), a `from` "
        "without its `to`, or one outside 1990–2100",
        "a month is YYYY-MM",
        {"field": "month"},
    ),
    "no_route": Code(
        422,
        "the dispatch catalogue has no rule for this category at this place: name the unit",
        "no routing rule applies and no district is given to fall back on",
        {"field": "district"},
    ),
    "unauthorized": Code(
        401,
        "no bearer token (or citizen token) where one is needed, an expired or forged one, or a wrong "
        "username or password at login",
        "a bearer token is required (POST /auth/token)",
    ),
    "forbidden": Code(
        403,
        "the caller's role, unit or district may not do this (the message names the role needed)",
        "this needs the role unit_staff",
    ),
    "not_found": Code(
        404,
        "what the path names (an appeal, a part, a unit, a task, a month's theme) does not exist, or is not "
        "visible to the caller (another unit's appeal)",
        "appeal 'BJ-20261203-000042' not found",
        {"key": "BJ-20261203-000042"},
    ),
    "wrong_state": Code(
        409,
        "not possible in the current status of the appeal (part, task), or it is closed already; `details` "
        "gives the status",
        "the appeal is dispatched; this needs it to be accepted, contacted, in_progress, rehandling",
        _field(
            None,
            "the appeal is dispatched; this needs it to be accepted, contacted, in_progress, rehandling",
            "wrong_state",
            "dispatched",
        ),
    ),
    "wrong_unit": Code(
        409,
        "the appeal (part, task) is with another unit: only the unit holding it acts (first-receiver responsibility)",
        "the appeal is with BJ-LIGHTING, not 110105-CHAOWAI (first-receiver responsibility)",
        _field(
            None,
            "the appeal is with BJ-LIGHTING, not 110105-CHAOWAI (first-receiver responsibility)",
            "wrong_unit",
            "dispatched",
        ),
    ),
    "window_passed": Code(
        409,
        "the window for this action has closed (a jurisdiction objection after its working day)",
        "the objection window closed at 2026-12-04T18:00:00+08:00; the unit must handle the order",
        _field(
            None,
            "the objection window closed at 2026-12-04T18:00:00+08:00; the unit must handle the order",
            "window_passed",
            "accepted",
        ),
    ),
    "refused": Code(
        409,
        "the workflow refused the action for a reason of its own (the message says which)",
        "the workflow refused the action",
    ),
    "conflict": Code(
        409,
        "it exists or was done already (the month's theme is set, the order's review recorded, the month frozen)",
        "2026-12 has its theme already",
        {"month": "2026-12"},
    ),
    "idempotency_conflict": Code(
        409,
        "the Idempotency-Key was used before for a different request",
        "this Idempotency-Key was used for a different request (appeal BJ-20261203-000042)",
    ),
    "payload_too_large": Code(413, "the body is over 1 MiB", "the body is over 1048576 bytes"),
    "too_many_requests": Code(
        429,
        "over a rate limit (logins per client and username, intakes per operator, Open311 calls per key); "
        "the `Retry-After` header says when to try again",
        "too many requests: try again in 42 s",
        {"retry_after": 42},
    ),
    # --- 5xx: the service ----------------------------------------------------------------
    "not_confirmed": Code(
        503,
        "the workflow did not confirm the action within 15 s (its worker or PostgreSQL slow or down): it may "
        "still be recorded; send it again with the same Idempotency-Key, or look at the appeal first",
        "the workflow did not confirm the action within 15 s (its worker or PostgreSQL may be slow or down): it "
        "may still be recorded; send it again with the same Idempotency-Key (done once whatever happened), or "
        "look at the appeal first",
    ),
    "temporal_unavailable": Code(503, "Temporal does not answer; nothing was done", "Temporal is unavailable"),
    "database_unavailable": Code(503, "PostgreSQL does not answer; nothing was done", "PostgreSQL is unavailable"),
    "internal_error": Code(
        500,
        "an error nobody expected (a bug): logged with the request id, never a half-done action to retry blindly",
        "internal error; it has been logged",
    ),
}

#: Answered by the HTTP layer itself: a path no route serves, a wrong method, a body type an
#: operation does not read. In the table of docs/api.md, on no operation.
HTTP_CODES = {
    "bad_request": Code(400, "the request could not be read (a malformed form body)", "bad request"),
    "method_not_allowed": Code(405, "the path exists, the method does not", "Method Not Allowed"),
    "unsupported_media_type": Code(415, "a body of a type the operation does not read", "unsupported media type"),
    "unavailable": Code(503, "the server is not ready to answer (starting or stopping)", "Service Unavailable"),
    "http_error": Code(400, "any other HTTP-level refusal, its status kept", "bad request"),
}

assert {code: CODES[code].status for code in REFUSAL_STATUS} == REFUSAL_STATUS, "a refusal code lacks its entry"

#: What every operation may answer (declared app-wide in api.main); an operation's own
#: `responses(...)` adds to these, or replaces a status's list where it names that status.
APP_WIDE = (
    "unauthorized",
    "forbidden",
    "payload_too_large",
    "validation_error",
    "too_many_requests",
    "internal_error",
    "temporal_unavailable",
    "database_unavailable",
)

#: The codes of a staff action sent to a workflow as an Update (`api.temporal_calls`).
ACTION = (
    "not_found",
    "forbidden",
    "validation_error",
    "invalid",
    "wrong_state",
    "wrong_unit",
    "window_passed",
    "refused",
    "not_confirmed",
    "temporal_unavailable",
    "database_unavailable",
)


def responses(*codes: str, **meanings: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for these codes, one per status: its description lists each code with
    its meaning (`meanings` says it in the operation's own words, by code), and its body has an
    example of each."""
    by_status: dict[int, list[str]] = {}
    for code in dict.fromkeys(codes):
        by_status.setdefault(CODES[code].status, []).append(code)
    for code in APP_WIDE:  # a status declared here replaces the app-wide one: keep its codes
        if CODES[code].status in by_status and code not in by_status[CODES[code].status]:
            by_status[CODES[code].status].append(code)
    out: dict[int | str, dict[str, Any]] = {}
    for status, names in sorted(by_status.items()):
        examples = {
            name: {
                "summary": name,
                "value": {"error": {"code": name, "message": CODES[name].message, "details": CODES[name].details}},
            }
            for name in names
        }
        out[status] = {
            "model": ErrorResponse,
            "description": "\n\n".join(f"`{name}`: {meanings.get(name, CODES[name].meaning)}" for name in names),
            "content": {"application/json": {"examples": examples}},
        }
    return out

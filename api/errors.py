"""One error shape for the whole API: `{"error": {"code", "message", "details"}}`.

Bad input is a 4xx with the field at fault; an unreachable PostgreSQL or Temporal is a 503;
nothing escapes as a bare 500.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.beijing import BeijingJSONResponse

log = logging.getLogger("jiesu.api")


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class ApiError(Exception):
    """A business error with its HTTP status, raised anywhere below a route."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def not_found(what: str, key: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} {key!r} not found", {"key": key})


def not_answered(waited) -> ApiError:
    """A workflow that took the action but did not confirm it in time: the worker is busy or
    down, or PostgreSQL is (the workflow waits until its record is written). Not "Temporal is
    unavailable": the action may well have been taken."""
    return ApiError(
        503,
        "not_confirmed",
        f"the workflow did not confirm the action within {int(waited.total_seconds())} s (its worker or PostgreSQL "
        "may be slow or down): it may still be recorded; send it again with the same Idempotency-Key (done "
        "once whatever happened), or look at the appeal first",
    )


#: HTTP status of each refusal code of the rules (`domain.core.Refused`)
REFUSAL_STATUS = {"wrong_state": 409, "wrong_unit": 409, "window_passed": 409, "forbidden": 403, "invalid": 422}


def refused(code: str, message: str, status: str, field: str | None = None) -> ApiError:
    """A workflow's refusal, in the shape of a malformed body's 422: `details` is a list of one
    entry naming the field at fault (null when the refusal is about the state, not one field),
    the reason, the refusal code as its type, and the appeal's or task's status at the time."""
    detail = {"field": field, "message": message, "type": code, "status": status}
    return ApiError(REFUSAL_STATUS.get(code, 409), code, message, [detail])


def workflow_refusal(cause: BaseException, status: str) -> ApiError | None:
    """The refusal a workflow's Update failed with (`workflows.common.refusal`), or None if it
    failed otherwise."""
    if not (isinstance(cause, ApplicationError) and cause.type == "Refused"):
        return None
    details = cause.details[0] if cause.details and isinstance(cause.details[0], dict) else {}
    return refused(details.get("code", "wrong_state"), cause.message, status, details.get("field"))


def error_response(status: int, code: str, message: str, details: Any = None, headers=None):
    body = ErrorResponse(error=ErrorBody(code=code, message=message, details=details))
    return BeijingJSONResponse(body.model_dump(), status_code=status, headers=headers)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    503: "unavailable",
}


#: PostgreSQL answering but refusing the work: too many connections, shutting down (by an
#: administrator or a crash), still starting up; and the whole class 08, connection failures
_REFUSING = ("53300", "57P01", "57P02", "57P03")


def _db_unreachable(exc: Exception) -> bool:
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    if isinstance(exc, DBAPIError):
        state = getattr(exc.orig, "sqlstate", None) or ""
        return exc.connection_invalidated or state.startswith("08") or state in _REFUSING
    return isinstance(exc, (ConnectionError, OSError, TimeoutError))


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError):
        headers = None
        if exc.status == 429 and isinstance(exc.details, dict):
            headers = {"Retry-After": str(exc.details.get("retry_after", 60))}
        return error_response(exc.status, exc.code, exc.message, exc.details, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        details = [
            {
                # a body that is not JSON: its loc is the offset of the fault, the field is the body
                "field": "body" if err["type"] == "json_invalid"
                else ".".join(str(p) for p in err["loc"] if p != "body") or "body",
                "message": err["msg"],
                "type": err["type"],
            }
            for err in exc.errors()
        ]
        fields = ", ".join(d["field"] for d in details)
        return error_response(422, "validation_error", f"invalid input: {fields}", details)

    @app.exception_handler(RPCError)
    async def _temporal(_: Request, exc: RPCError):
        if exc.status == RPCStatusCode.NOT_FOUND:
            return error_response(404, "not_found", exc.message)
        log.warning("Temporal error: %s", exc)
        return error_response(503, "temporal_unavailable", f"Temporal is unavailable: {exc.message}")

    async def _infrastructure(_: Request, exc: Exception):
        return unexpected(exc)

    # These classes go through Starlette's exception middleware, which answers and stops. A
    # handler of `Exception` itself would answer too, but Starlette re-raises it for the server
    # to log, and uvicorn then closes the client's keep-alive connection: `LastResort` answers
    # everything else instead.
    for cls in (RuntimeError, OSError, TimeoutError, DBAPIError):
        app.add_exception_handler(cls, _infrastructure)
    app.add_middleware(LastResort)


def unexpected(exc: Exception) -> JSONResponse:
    """The answer to an exception no route expected: 503 for a store that is down, else 500."""
    if isinstance(exc, RuntimeError) and "client connect" in str(exc):
        log.warning("Temporal unreachable: %s", exc)
        return error_response(503, "temporal_unavailable", "Temporal is unavailable")
    if _db_unreachable(exc):
        log.warning("PostgreSQL unreachable: %s", exc)
        return error_response(503, "database_unavailable", "PostgreSQL is unavailable")
    log.error("unhandled error", exc_info=exc)
    return error_response(500, "internal_error", "internal error; it has been logged")


class LastResort:
    """Answers any exception a route let through in the one error shape, logged, and keeps the
    connection serving. Once the answer has started there is nothing to say: re-raised."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if started:
                raise
            await unexpected(exc)(scope, receive, send)

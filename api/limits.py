"""Limits against hostile or runaway clients: a cap on request bodies (413) and rate limits on
logging in and on intake (429 with Retry-After). Counted per API process, in memory: behind
several replicas each replica counts on its own."""

from __future__ import annotations

import math
import re
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import ApiError, error_response
from settings import Settings

MAX_BODY_BYTES = 1 << 20  # 1 MiB: an appeal's text and references, never files
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # in a path (decoded): never part of a code or number


class BodyLimit:
    """Refuses bodies over the cap (413), a body that is not UTF-8 text (422: the API takes JSON,
    never files), any request carrying a NUL character, which PostgreSQL text cannot hold, and a
    path with a control character (422). The body (at most the cap) is read before the app sees
    it."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._too_large(scope, receive, send)
        # the whole body is read before any answer, so the connection stays usable after a 4xx
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _replay([message]), send)
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                return await self._too_large(scope, receive, send)
        if b"%00" in scope.get("query_string", b""):
            return await self._nul(scope, receive, send, "query")
        if _CONTROL.search(scope.get("path", "")):
            return await self._answer(scope, receive, send, 422, "validation_error",
                                      "a path may not contain control characters", [{"field": "path"}])
        if b"\\u0000" in body or b"\x00" in body:
            return await self._nul(scope, receive, send, "body")
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as e:
            return await self._answer(scope, receive, send, 422, "validation_error",
                                      f"the body is not UTF-8 text (byte {e.start})", [{"field": "body"}])
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        # the rest of the body is not read: the server closes the connection after this answer
        await error_response(413, "payload_too_large", f"the body is over {self.limit} bytes",
                             headers={"Connection": "close"})(scope, receive, send)

    async def _nul(self, scope: Scope, receive: Receive, send: Send, where: str) -> None:
        await self._answer(scope, receive, send, 422, "validation_error", "text may not contain a NUL character", [{"field": where}])

    @staticmethod
    async def _answer(scope, receive, send, status, code, message, details) -> None:
        await error_response(status, code, message, details)(scope, receive, send)


def _replay(messages: list[dict], then: Receive | None = None) -> Receive:
    """A receive() that hands out the buffered messages, then waits on the real one."""
    queue = list(messages)

    async def receive() -> dict:
        if queue:
            return queue.pop(0)
        if then is None:
            return {"type": "http.disconnect"}
        return await then()

    return receive


class RateLimit:
    """At most `count` calls per `seconds` for one key (a sliding window)."""

    def __init__(self, count: int, seconds: float) -> None:
        self.count, self.seconds = count, seconds
        self.calls: dict[str, deque[float]] = defaultdict(deque)

    def hit(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        calls = self.calls[key]
        while calls and calls[0] <= now - self.seconds:
            calls.popleft()
        if len(calls) >= self.count:
            retry = math.ceil(calls[0] + self.seconds - now)
            raise ApiError(429, "too_many_requests", f"too many requests: try again in {retry} s",
                           {"retry_after": retry})
        calls.append(now)
        if len(self.calls) > 10_000:  # forget idle clients
            for idle in [k for k, v in self.calls.items() if not v or v[-1] <= now - self.seconds]:
                del self.calls[idle]


@dataclass(frozen=True)
class RateLimits:
    """The API's rate limits, one set per app (the counts come from the settings)."""

    login: RateLimit  # per client and username
    login_client: RateLimit  # per client, whatever the usernames: one password sprayed over many
    intake: RateLimit  # per operator
    open311: RateLimit  # per Open311 channel key (per client address for a GET without one)

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        return cls(
            login=RateLimit(settings.login_rate_per_minute, 60),
            login_client=RateLimit(settings.login_client_rate_per_minute, 60),
            intake=RateLimit(settings.intake_rate_per_minute, 60),
            open311=RateLimit(settings.open311_rate_per_minute, 60),
        )


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"

"""An HTTP client that retries as a careful client would: on a 503 or a broken connection, with
backoff, sending the very same request (the same Idempotency-Key) again. Every attempt is logged,
so recovery times and the statuses seen can be told afterwards."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

#: Answers worth trying again: the service said it is unavailable, or never answered.
RETRY_STATUSES = {502, 503, 504}


@dataclass(frozen=True)
class Attempt:
    kind: str  # intake, accept, …, read
    started: float  # time.monotonic()
    ended: float
    outcome: str  # the status code, or the name of the transport error
    ok: bool


@dataclass
class Log:
    attempts: list[Attempt] = field(default_factory=list)
    requests: int = 0
    #: what must never happen, in words: a 500, a request that never got through
    problems: list[str] = field(default_factory=list)

    def outcomes(self) -> Counter:
        return Counter(a.outcome for a in self.attempts)

    @property
    def retries(self) -> int:
        return len(self.attempts) - self.requests

    def first_success(self, kind: str, since: float) -> float | None:
        """When the first attempt of this kind sent at or after `since` succeeded."""
        ends = [a.ended for a in self.attempts if a.kind == kind and a.ok and a.started >= since]
        return min(ends, default=None)

    def tried_since(self, kind: str, since: float) -> bool:
        return any(a.kind == kind and a.started >= since for a in self.attempts)


@dataclass
class Answer:
    status: int
    body: Any
    tries: list[str]  # the outcome of each attempt, in order

    @property
    def attempts(self) -> int:
        return len(self.tries)


class RetryingClient:
    def __init__(
        self, base_url: str, log: Log, *, deadline: float = 120, attempt_timeout: float = 30, max_backoff: float = 1.0
    ) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=attempt_timeout)
        self.log = log
        self.in_flight: Counter = Counter()  # kind → attempts sent and not answered yet
        self.deadline = deadline
        self.max_backoff = max_backoff

    async def aclose(self) -> None:
        await self.http.aclose()

    async def request(
        self, kind: str, method: str, path: str, *, json: Any = None, headers: dict | None = None, what: str = ""
    ) -> Answer:
        """Send until an answer other than "unavailable" comes, or the deadline passes (then
        a 599 is returned and the problem logged)."""
        self.log.requests += 1
        give_up = time.monotonic() + self.deadline
        last, tries = "", []
        while True:
            started = time.monotonic()
            self.in_flight[kind] += 1
            try:
                r = await self.http.request(method, path, json=json, headers=headers)
            except httpx.TransportError as e:  # refused, reset, timed out: the answer, if any, is lost
                r, last = None, type(e).__name__
                tries.append(last)
                self.log.attempts.append(Attempt(kind, started, time.monotonic(), last, False))
            finally:
                self.in_flight[kind] -= 1
            if r is not None:
                tries.append(str(r.status_code))
                self.log.attempts.append(Attempt(kind, started, time.monotonic(), str(r.status_code), r.is_success))
                if r.status_code >= 500 and r.status_code not in RETRY_STATUSES:
                    self.log.problems.append(f"{r.status_code} answered to {method} {path} ({what}): {r.text[:300]}")
                elif r.status_code not in RETRY_STATUSES:
                    return Answer(r.status_code, _json(r), tries)
                last = str(r.status_code)
            if time.monotonic() >= give_up:
                self.log.problems.append(
                    f"{method} {path} ({what}) still failing after {self.deadline:.0f}s and {len(tries)} attempts (last: {last})"
                )
                return Answer(599, None, tries)
            backoff = min(self.max_backoff, 0.1 * 2 ** min(len(tries), 6))
            await asyncio.sleep(backoff * random.uniform(0.5, 1.0))


def _json(r: httpx.Response) -> Any:
    try:
        return r.json()
    except ValueError:
        return r.text

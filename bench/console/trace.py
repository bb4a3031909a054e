"""Where a page's time goes. `Recorder` sits outermost in the app: it times each request the
server hands in, from the moment uvicorn passes it to the app until the last byte of the answer
is sent (the page's server time), and — since a console page calls the API on the same app,
through the same middleware — each API call the page makes, by its route. The SQL listener
times every statement the app's engines run. The benchmark sends one request at a time, so what
is recorded while a page runs is that page's.

`explain` runs EXPLAIN (ANALYZE, BUFFERS) on a recorded statement, with its parameters, through
the app's own read engine (the same driver, codecs and settings as the page's query)."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.observability import route_template


@dataclass
class Call:
    route: str  # GET /appeals/{appeal_no}
    status: int
    ms: float


@dataclass
class Statement:
    sql: str
    params: Any
    ms: float
    call: int  # the index of the API call it ran in (len(calls) at the time: calls are recorded as they end)


@dataclass
class Trace:
    ms: float = 0.0
    status: int = 0
    cpu_ms: float = 0.0  # this process's CPU while the server had the request (the console and the API)
    pg_cpu_ms: float | None = None  # PostgreSQL's processes' CPU over the load (embedded server only)
    calls: list[Call] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)


class Recorder:
    """ASGI middleware: the server time of each outer request, and the API calls inside it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.depth = 0
        self.current: Trace | None = None
        self.last: Trace | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        depth, status = self.depth, 0
        self.depth += 1
        if depth == 0:
            self.current = Trace()
        started, cpu = time.perf_counter(), time.process_time()

        async def seen(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, seen)
        finally:
            self.depth -= 1
            ms = (time.perf_counter() - started) * 1000
            trace = self.current
            if trace is not None and depth == 0:
                trace.ms, trace.status = ms, status
                trace.cpu_ms = (time.process_time() - cpu) * 1000
                self.last, self.current = trace, None
            elif trace is not None:
                trace.calls.append(Call(f"{scope['method']} {route_template(scope)}", status, ms))

    def watch(self, engine: AsyncEngine) -> None:
        """Time every statement this engine runs (while a request is being recorded)."""
        started: list[float] = []

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def before(conn, cursor, statement, parameters, context, executemany) -> None:
            started.append(time.perf_counter())

        @event.listens_for(engine.sync_engine, "after_cursor_execute")
        def after(conn, cursor, statement, parameters, context, executemany) -> None:
            ms = (time.perf_counter() - started.pop()) * 1000 if started else 0.0
            if self.current is not None:
                self.current.statements.append(Statement(statement, parameters, ms, len(self.current.calls)))


class ServerCpu:
    """The CPU time PostgreSQL's processes (the postmaster's children: the backends serving the
    app's pools among them) spent, from /proc/<pid>/schedstat (nanoseconds, unlike the 10 ms ticks
    of /proc/<pid>/stat). Linux only; None elsewhere or for a server not on this machine."""

    def __init__(self, postmaster: int | None) -> None:
        self.postmaster = postmaster
        self.pids: list[int] = []
        self.refresh()

    def refresh(self) -> None:
        """Find the children again (the pools may have opened connections)."""
        if self.postmaster is None:
            return
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.postmaster:
                    pids.append(int(entry.name))
        self.pids = pids

    def ns(self) -> int | None:
        if self.postmaster is None or not self.pids:
            return None
        total = 0
        for pid in self.pids:
            try:
                total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
        return total


# --- the breakdown --------------------------------------------------------------------------------


@dataclass
class Part:
    name: str  # an API call's route, or a statement's text
    ms: float  # median per page load
    per_page: float  # how many times a page load runs it
    example: Statement | None = None  # the slowest run of a statement


def breakdown(traces: list[Trace]) -> tuple[list[Part], list[Part], float]:
    """Median time per page load of each API route and of each SQL statement (all its runs in
    one load summed), the slowest first, and the median time outside the API calls (the
    page's own work: its session lookup aside, rendering the template)."""
    calls: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    sql: dict[str, list[float]] = {}
    sql_counts: dict[str, int] = {}
    slowest: dict[str, Statement] = {}
    outside = []
    for t in traces:
        per_call: dict[str, float] = {}
        for c in t.calls:
            per_call[c.route] = per_call.get(c.route, 0.0) + c.ms
            counts[c.route] = counts.get(c.route, 0) + 1
        for route, ms in per_call.items():
            calls.setdefault(route, []).append(ms)
        per_sql: dict[str, float] = {}
        for s in t.statements:
            key = " ".join(s.sql.split())
            per_sql[key] = per_sql.get(key, 0.0) + s.ms
            sql_counts[key] = sql_counts.get(key, 0) + 1
            if key not in slowest or s.ms > slowest[key].ms:
                slowest[key] = s
        for key, ms in per_sql.items():
            sql.setdefault(key, []).append(ms)
        outside.append(t.ms - sum(c.ms for c in t.calls))
    n = max(1, len(traces))
    by_call = [Part(r, _median(v, n), counts[r] / n) for r, v in calls.items()]
    by_sql = [Part(k, _median(v, n), sql_counts[k] / n, slowest[k]) for k, v in sql.items()]
    return (
        sorted(by_call, key=lambda p: -p.ms),
        sorted(by_sql, key=lambda p: -p.ms),
        statistics.median(outside) if outside else 0.0,
    )


def _median(values: list[float], n: int) -> float:
    """The median over all page loads (a load that did not run it counts as 0)."""
    return statistics.median(values + [0.0] * (n - len(values)))


async def explain(engine: AsyncEngine, statement: Statement) -> str:
    """The plan of a recorded statement, run again with its parameters: EXPLAIN (ANALYZE, BUFFERS)."""
    async with engine.connect() as conn:
        result = await conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement.sql, statement.params)
        return "\n".join(str(row[0]) for row in result)

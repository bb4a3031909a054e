"""`make bench-analytics`: the assessment and analytics endpoints over N synthetic appeals.

Starts an embedded PostgreSQL with its data in `.data/bench-analytics` (kept, so a second run
reuses the generated appeals) — or uses DATABASE_URL when it is set — migrates it, generates N
appeals unless the database already holds that dataset (`python -m bench.generate` does the work),
runs ANALYZE, serves the API in-process with uvicorn on a free port, and calls every GET route
tagged `assessment` or `analytics` (and the list routes of `governance`) as an analyst would:
R calls each, spread over a few periods and filters (see `bench.analytics.endpoints`), after one
warm-up call per variant. Prints p50/p95/max per endpoint and marks every p95 at or over the
threshold. Temporal is not needed: these routes read PostgreSQL only.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import shutil
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import uvicorn

from bench.analytics import endpoints, store
from bench.generate import DEFAULT_SEED, VERSION, fill_derived, generate
from db.migrate import migrate
from db.session import make_engine
from db.users import DemoUser, ensure_users
from devstack.ports import free_port
from devstack.postgres import EmbeddedPostgres
from domain.calendar import CHINA_TZ
from domain.types import Role
from settings import PROJECT_ROOT, Settings

DATABASE = "jiesu_bench"
#: The embedded server is set up like a small production one, not like initdb's defaults.
SERVER_SETTINGS = {
    "shared_buffers": "1GB",
    "effective_cache_size": "4GB",
    "random_page_cost": "1.1",  # SSD
    "max_wal_size": "4GB",  # the load writes gigabytes: fewer checkpoints
    "checkpoint_timeout": "30min",
    "jit": "off",  # compiling plans costs more than it saves on queries of a few hundred ms
}
READER = DemoUser("bench-analyst", "Benchmark analyst", Role.ANALYST)
SUPERVISOR = DemoUser("bench-supervisor", "Benchmark supervisor", Role.SUPERVISOR)


@dataclass
class Measured:
    endpoint: endpoints.Endpoint
    latencies: list[float] = field(default_factory=list)
    by_variant: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# --- the database ----------------------------------------------------------------------------


EXPLAIN_SETTINGS = ("session_preload_libraries", "auto_explain.log_min_duration", "auto_explain.log_analyze",
                    "auto_explain.log_buffers")


async def tune(pg: EmbeddedPostgres, explain_ms: int | None) -> None:
    """The server settings; with `explain_ms`, auto_explain logs the plan (with actual times) of
    every statement that takes that long, for `--explain`."""
    conn = await asyncpg.connect(pg.url())
    try:
        for name, value in SERVER_SETTINGS.items():
            await conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        if explain_ms is not None:
            for name, value in zip(EXPLAIN_SETTINGS, ("auto_explain", f"{explain_ms}ms", "on", "on")):
                await conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        else:
            for name in EXPLAIN_SETTINGS:
                await conn.execute(f"ALTER SYSTEM RESET {name}")
        await conn.execute("SELECT pg_reload_conf()")
        await asyncio.sleep(0.5)
        restart = await conn.fetchval("SELECT count(*) FROM pg_settings WHERE pending_restart")
    finally:
        await conn.close()
    if restart:
        pg.stop()
        pg.start()


async def ensure_dataset(url: str, n: int, seed: int, jobs: int | None, fresh: bool, external: bool) -> store.Dataset:
    """The dataset, generated now unless the database already holds it (same N, seed and
    version, generated this month within the last week)."""
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        current = await store.dataset(conn)
        appeals = await conn.fetchval("SELECT count(*) FROM appeal")
    finally:
        await conn.close()
    now = datetime.now(UTC)
    if (
        not fresh and current is not None and current.status == "done"
        and (current.n, current.seed, current.version) == (n, seed, VERSION) and appeals == n
        and current.as_of.astimezone(CHINA_TZ).strftime("%Y-%m") == now.astimezone(CHINA_TZ).strftime("%Y-%m")
        and now - current.as_of < timedelta(days=7)
    ):
        print(f"reusing the {n:,} appeals generated for {current.as_of.astimezone(CHINA_TZ):%Y-%m-%d %H:%M} "
              f"(generation took {_took(current.timings)})")
        await fill_derived(url, print, only_empty=True)  # a table another module added since
        return current
    if appeals and external and current is None:
        raise SystemExit(f"{dsn.rsplit('@', 1)[-1]} holds {appeals:,} appeals the generator did not write: "
                         "give the benchmark an empty database")
    print(f"generating {n:,} appeals (seed {seed}) …")
    report = await asyncio.to_thread(generate, dsn, n, seed=seed, jobs=jobs, replace=True)
    for note in report.notes:
        print(f"  note: {note}")
    conn = await asyncpg.connect(dsn)
    try:
        return await store.dataset(conn)
    finally:
        await conn.close()


STEPS = ("prepare", "rows", "indexes", "vacuum")


def _took(timings: dict[str, float]) -> str:
    """Generation time (the steps that write the appeals), then freezing the months on its own."""
    core = sum(timings.get(k, 0.0) for k in STEPS)
    parts = ", ".join(f"{k} {timings[k]:.1f} s" for k in STEPS if k in timings)
    if "worker_cpu" in timings:
        parts += f"; the row workers used {timings['worker_cpu']:.0f} s of CPU"
    later = ("derived", "freeze")  # in the order they ran
    extra = "".join(f"; then {k} {timings[k]:.1f} s" for k in later if k in timings)
    return f"{core:.1f} s ({parts}){extra}"


# --- the calls ----------------------------------------------------------------------------------


async def serve(settings: Settings) -> tuple[uvicorn.Server, asyncio.Task, str]:
    from api.main import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False, lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    return server, task, f"http://127.0.0.1:{port}"


async def tokens(settings: Settings) -> dict[str, dict[str, str]]:
    """An analyst's and a supervisor's token (accounts with a throw-away password)."""
    from sqlmodel import select

    from api.auth import issue_token
    from db.models import User
    from db.session import session_factory

    engine = make_engine(settings)
    try:
        await ensure_users(engine, (READER, SUPERVISOR), secrets.token_urlsafe(24))
        async with session_factory(engine)() as session:
            users = (await session.exec(select(User).where(User.username.in_([READER.username, SUPERVISOR.username])))).all()
    finally:
        await engine.dispose()
    return {u.role.value: {"Authorization": f"Bearer {issue_token(settings.secret_key, u)}"} for u in users}


async def measure(api: str, found: list[endpoints.Endpoint], repeat: int, headers: dict[str, dict[str, str]]) -> list[Measured]:
    results = []
    async with httpx.AsyncClient(base_url=api, timeout=120) as http:
        for ep in found:
            m = Measured(ep)
            results.append(m)
            if ep.skipped:
                continue
            auth = headers["analyst"]

            async def call(params: dict) -> float | None:
                t = time.perf_counter()
                r = await http.get(ep.path, params=params, headers=auth)
                await r.aread()
                elapsed = (time.perf_counter() - t) * 1000
                if r.status_code >= 400:
                    key = f"{r.status_code} {r.text[:160]}"
                    m.errors[key] = m.errors.get(key, 0) + 1
                    return None
                return elapsed

            for v in ep.variants:  # warm-up, and the right role
                r = await http.get(ep.path, params=v, headers=auth)
                if r.status_code == 403:
                    auth = headers["supervisor"]
                    await http.get(ep.path, params=v, headers=auth)
            for i in range(repeat):
                v = ep.variants[i % len(ep.variants)]
                elapsed = await call(v)
                if elapsed is not None:
                    m.latencies.append(elapsed)
                    m.by_variant.setdefault(_label(v), []).append(elapsed)
    return results


def _label(params: dict) -> str:
    return "&".join(f"{k}={v}" for k, v in params.items()) or "(defaults)"


# --- the report -----------------------------------------------------------------------------------


def report(results: list[Measured], threshold: float, header: list[str]) -> None:
    print()
    for line in header:
        print(line)
    print()
    width = max([len(m.endpoint.name) for m in results] + [20]) + 2
    print(f"  {'endpoint':<{width}}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'calls':>7}{'errors':>8}")
    slow = []
    for m in results:
        ep = m.endpoint
        if ep.skipped:
            print(f"  {ep.name:<{width}}  skipped: {ep.skipped}")
            continue
        if not m.latencies:
            print(f"  {ep.name:<{width}}{'—':>9}{'—':>9}{'—':>9}{0:>7}{sum(m.errors.values()):>8}")
            continue
        p95 = percentile(m.latencies, 95)
        limit = endpoints.OPEN311_TARGET_MS if ep.tag == "open311" else threshold  # its own, tighter target
        flag = f"  ! p95 ≥ {limit:d} ms" if p95 >= limit else ""
        if flag:
            slow.append(m)
        print(f"  {ep.name:<{width}}{percentile(m.latencies, 50):>9.1f}{p95:>9.1f}{max(m.latencies):>9.1f}"
              f"{len(m.latencies):>7}{sum(m.errors.values()):>8}{flag}")
    ok = sum(1 for m in results if m.latencies and m not in slow)
    print()
    print(f"  {ok} of {sum(1 for m in results if not m.endpoint.skipped)} endpoints answer with p95 < {threshold:.0f} ms"
          + (f"; over: {', '.join(m.endpoint.name for m in slow)}" if slow else ""))
    for m in slow:
        print(f"  {m.endpoint.name}, by variant (median / max ms):")
        for label, values in sorted(m.by_variant.items(), key=lambda kv: -statistics.median(kv[1])):
            print(f"    {statistics.median(values):>8.1f} {max(values):>8.1f}  ?{label}")
    for m in results:
        for error, count in m.errors.items():
            print(f"  {m.endpoint.name}: {count} × {error}")


async def main(args: argparse.Namespace) -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # api.main logs at INFO
    external = bool(os.environ.get("DATABASE_URL"))
    pg = None
    if external:
        url = Settings().database_url
        where = f"PostgreSQL at {url.rsplit('@', 1)[-1]}"
    else:
        data = Path(args.data_dir)
        if args.fresh and data.exists():
            shutil.rmtree(data)
        pg = EmbeddedPostgres(data, free_port(), port_setting="(a free port)")
        if pg.running():
            pg.stop()
        pg.start()
        await tune(pg, args.explain)
        await pg.ensure_database(DATABASE)
        url = pg.url(DATABASE)
        where = f"embedded PostgreSQL in {data.relative_to(PROJECT_ROOT) if data.is_relative_to(PROJECT_ROOT) else data}"
    try:
        settings = Settings(database_url=url, JIESU_ENV="dev")
        engine = make_engine(settings)
        try:
            await migrate(engine)
        finally:
            await engine.dispose()
        dataset = await ensure_dataset(url, args.n, args.seed, args.jobs, args.fresh, external)
        conn = await asyncpg.connect(settings.asyncpg_dsn)
        try:
            t = time.perf_counter()
            await conn.execute("ANALYZE")
            analyzed = time.perf_counter() - t
            counts = await store.counts(conn)
            version = await conn.fetchval("SHOW server_version")
            frozen = await conn.fetch("SELECT to_char(month, 'YYYY-MM') FROM assessment_run ORDER BY month") \
                if await conn.fetchval("SELECT to_regclass('assessment_run') IS NOT NULL") else []
            ctx = await endpoints.context(conn, dataset.as_of.astimezone(CHINA_TZ).date())
        finally:
            await conn.close()
        headers = await tokens(settings)
        server, task, api = await serve(settings)
        try:
            from api.main import create_app

            found = endpoints.discover(create_app(settings).openapi(), ctx)
            if args.only:
                found = [e for e in found if args.only in e.template]
            if args.list:
                for ep in found:
                    print(f"{ep.name}: {ep.skipped or ''}")
                    for v in ep.variants:
                        print(f"    ?{_label(v)}")
                return
            print(f"calling {len(found)} endpoints, {args.repeat} times each …")
            load_before = os.getloadavg()[0]
            log_start = pg.log_file.stat().st_size if pg is not None and pg.log_file.exists() else 0
            results = await measure(api, found, args.repeat, headers)
            if args.explain is not None and pg is not None:
                plans = Path(args.data_dir) / "slow-plans.log"
                with open(pg.log_file, "rb") as log:
                    log.seek(log_start)
                    plans.write_bytes(log.read())
                print(f"plans of the statements that took {args.explain} ms or more: {plans}")
        finally:
            server.should_exit = True
            await task
        header = [
            f"jiesu analytics benchmark — N={dataset.n:,} appeals, {os.cpu_count()} CPUs "
            f"(load average {load_before:.1f} before the calls, {os.getloadavg()[0]:.1f} after), "
            f"PostgreSQL {version.split()[0]} ({where})",
            f"  rows: {counts['appeals']:,} appeals, {counts['events']:,} timeline events; "
            f"generated for {dataset.as_of.astimezone(CHINA_TZ):%Y-%m-%d %H:%M} (Beijing) in {_took(dataset.timings)}",
            f"  frozen months: {frozen[0][0]} … {frozen[-1][0]} ({len(frozen)})" if frozen else "  frozen months: none",
            f"  ANALYZE {analyzed:.1f} s; each endpoint {args.repeat} calls, one at a time, over its variants "
            f"(this month {ctx.this_month}, closed month {ctx.closed_month}, quarter {ctx.quarter[0]}..{ctx.quarter[1]}, "
            f"district {ctx.district}, unit {ctx.unit}, street {ctx.street}, category {ctx.category}), "
            "after a warm-up call per variant",
        ]
        if pg is not None:
            header.append("  server settings: " + ", ".join(f"{k}={v}" for k, v in SERVER_SETTINGS.items()))
        report(results, args.threshold, header)
    finally:
        if pg is not None:
            pg.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=1_000_000, help="appeals in the dataset (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("-r", "--repeat", type=int, default=30, help="calls per endpoint (default 30)")
    parser.add_argument("--threshold", type=float, default=300.0, help="mark endpoints whose p95 is at or over (ms)")
    parser.add_argument("--jobs", type=int, default=None, help="generator worker processes (default: the CPUs)")
    parser.add_argument("--data-dir", default=str(Path(PROJECT_ROOT) / ".data" / "bench-analytics"))
    parser.add_argument("--fresh", action="store_true", help="generate again even when the dataset is there")
    parser.add_argument("--only", default=None, help="only endpoints whose path contains this")
    parser.add_argument("--list", action="store_true", help="print the endpoints and their variants, call nothing")
    parser.add_argument("--explain", type=int, default=None, metavar="MS",
                        help="embedded server: log the plans (EXPLAIN ANALYZE) of statements taking MS ms or more "
                             "to slow-plans.log in the data folder (the instrumentation slows every query a little)")
    asyncio.run(main(parser.parse_args()))

"""`make bench-console`: every page of the staff console as each role, over N generated appeals.

Sets up the database as `make bench-analytics` does (an embedded PostgreSQL, by default the same
data folder, so the million appeals are generated once for both; or DATABASE_URL), serves the
app in-process with uvicorn on a free port, makes one account per role bound to a unit or district
with data (the unit with the most open orders, the unit with the most open parts, the busiest
district), logs each in through the console's login form, and loads every GET page under
/console — found in the app itself, its parameters filled from the data — R times each, one
request at a time. Prints p50/p95/max server time per page and role against the target (p95 <
200 ms; the inbox, the queues and the parts inbox < 100 ms), and for each page over it where the
time went: the API calls the page made, the page's own work, the slowest SQL statements, and with
`--explain` their plans. Temporal is not needed: pages are GETs and read PostgreSQL through the API.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import os
import secrets
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import uvicorn

from bench.analytics import endpoints
from bench.analytics.__main__ import DATABASE, SERVER_SETTINGS, _took, ensure_dataset, tune
from bench.console import measure, people, trace
from bench.console.pages import Page, discover
from bench.generate import DEFAULT_SEED
from db.migrate import migrate
from db.session import make_engine
from devstack.ports import free_port
from devstack.postgres import EmbeddedPostgres
from domain.calendar import CHINA_TZ
from settings import PROJECT_ROOT, Settings

DEFAULT_N = 1_000_000
_CSV = Page("/console/list.csv")
QUICK_N = 2_000


def data_dir(n: int) -> Path:
    """The default N shares `make bench-analytics`'s folder (one million appeals, generated
    once); another N gets a folder of its own, so a quick run never replaces the big one."""
    root = Path(PROJECT_ROOT) / ".data"
    return root / "bench-analytics" if n == DEFAULT_N else root / f"bench-console-{n}"


@dataclass
class Served:
    server: uvicorn.Server
    task: asyncio.Task
    url: str
    recorder: trace.Recorder
    app: object


async def serve(settings: Settings) -> Served:
    """The app with the recorder outermost, on a free port."""
    from api.main import create_app

    app = create_app(settings)
    app.add_middleware(trace.Recorder)
    port = free_port()
    # each person keeps their connection while the others load theirs (seconds, for a download)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on", timeout_keep_alive=600
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    recorder = _recorder(app)
    for engine in (app.state.engine, app.state.reads):
        recorder.watch(engine)
    return Served(server, task, f"http://127.0.0.1:{port}", recorder, app)


def _recorder(app) -> trace.Recorder:
    """The recorder instance in the built middleware stack."""
    node = app.middleware_stack
    while node is not None and not isinstance(node, trace.Recorder):
        node = getattr(node, "app", None)
    if node is None:
        raise RuntimeError("the recorder is not in the app's middleware stack")
    return node


def app_settings(url: str) -> Settings:
    # the domain gauges re-read every 15 s would land inside some page loads: once, at start
    return Settings(database_url=url, JIESU_ENV="dev", metrics_refresh_seconds=3600, api_temporal_metrics_port=None)


async def bench(
    url: str,
    args: argparse.Namespace,
    *,
    where: str,
    pg: EmbeddedPostgres | None = None,
    external: bool = False,
    log=print,
) -> measure.Outcome:
    """Migrate, generate (unless the dataset is there), log everyone in, measure, report."""
    settings = app_settings(url)
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
        appeals = await conn.fetchval("SELECT count(*) FROM appeal")
        version = await conn.fetchval("SHOW server_version")
        ctx = await endpoints.context(conn, dataset.as_of.astimezone(CHINA_TZ).date())
        persons = await people.people(conn, ctx)
    finally:
        await conn.close()
    password = secrets.token_urlsafe(24)
    await people.accounts(settings, persons, password)
    served = await serve(settings)
    try:
        conn = await asyncpg.connect(settings.asyncpg_dsn)
        try:
            for p in persons:
                await people.log_in(p, served.url, password)
                await people.fill_values(p, conn, ctx, settings.secret_key)
        finally:
            await conn.close()
        pages = discover(served.app)  # type: ignore[arg-type]
        if args.list:
            for page in pages:
                print(f"{page.label}  (target {page.target_ms:.0f} ms)")
            return measure.Outcome(pages=pages)
        out = await measure.warm_up(pages, persons, served.recorder, args.pages)
        log(f"loading {len(out.rows)} page × role, {args.repeat} rounds …")
        load_before = os.getloadavg()[0]

        def progress(i: int, n: int) -> None:
            if i == n or i % max(1, n // 5) == 0:
                log(f"  round {i}/{n}")

        await measure.rounds(
            out, served.recorder, trace.ServerCpu(pg.postmaster_pid() if pg else None), args.repeat, progress
        )
        load_after = os.getloadavg()[0]
        explained = {}
        if args.explain:
            for row in out.rows:
                if row.traces and (not row.ok or args.why):
                    _, statements, _ = trace.breakdown(row.traces)
                    if statements and statements[0].example is not None:
                        try:
                            explained[id(row)] = await trace.explain(served.app.state.reads, statements[0].example)  # type: ignore[attr-defined]
                        except Exception as e:  # a plan is a help, not the benchmark
                            explained[id(row)] = f"(EXPLAIN failed: {type(e).__name__}: {e})"
    finally:
        for p in persons:
            if p.http is not None:
                await p.http.aclose()
        served.server.should_exit = True
        await served.task
    roles = ", ".join(f"{p.label}" for p in persons)
    header = [
        f"jiesu console benchmark — N={appeals:,} appeals, {os.cpu_count()} CPUs (load average {load_before:.1f} "
        f"before the loads, {load_after:.1f} after), PostgreSQL {version.split()[0]} ({where})",
        f"  generated for {dataset.as_of.astimezone(CHINA_TZ):%Y-%m-%d %H:%M} (Beijing) in {_took(dataset.timings)}",
        f"  ANALYZE {analyzed:.1f} s; {args.repeat} rounds (downloads {measure.loads_of(_CSV, args.repeat)}), "
        "one request at a time, after a warm-up load each; "
        "server time (uvicorn hands the request to the app … the last byte sent); cpu: the median CPU of a load, "
        "the app's" + (" and PostgreSQL's" if pg is not None else ""),
        f"  roles: {roles}",
    ]
    if pg is not None:
        header.append("  server settings: " + ", ".join(f"{k}={v}" for k, v in SERVER_SETTINGS.items()))
    log("")
    for line in header + [""] + measure.table(out) + [""] + measure.summary(out):
        log(line)
    shown = [r for r in out.rows if r.traces and (not r.ok or args.why)]
    if shown:
        log("")
        log("where the time goes" + (" (pages over their target)" if not args.why else ""))
        for row in shown:
            for line in measure.where_the_time_goes(row):
                log(line)
            if id(row) in explained:
                log("    plan of the slowest statement:")
                for line in explained[id(row)].splitlines():
                    log("      " + line)
    return out


async def main(args: argparse.Namespace) -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("jiesu.access").setLevel(logging.WARNING)
    external = bool(os.environ.get("DATABASE_URL"))
    pg = None
    if external:
        url = Settings().database_url
        where = f"PostgreSQL at {url.rsplit('@', 1)[-1]}"
    else:
        data = Path(args.data_dir) if args.data_dir else data_dir(args.n)
        if args.fresh and data.exists():
            shutil.rmtree(data)
        pg = EmbeddedPostgres(data, free_port(), port_setting="(a free port)")
        if pg.running():
            pg.stop()
        pg.start()
        await tune(pg, None)
        await pg.ensure_database(DATABASE)
        url = pg.url(DATABASE)
        where = (
            f"embedded PostgreSQL in {data.relative_to(PROJECT_ROOT) if data.is_relative_to(PROJECT_ROOT) else data}"
        )
    try:
        out = await bench(url, args, where=where, pg=pg, external=external, log=functools.partial(print, flush=True))
    finally:
        if pg is not None:
            pg.stop()
    return 0 if all(r.ok for r in out.rows) else 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.console", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("-n", type=int, default=None, help=f"appeals in the dataset (default {DEFAULT_N:,})")
    p.add_argument("-r", "--repeat", type=int, default=None, help="loads of each page per role (default 30)")
    p.add_argument("--pages", default=None, help="only pages whose address contains this (e.g. /inbox)")
    p.add_argument("--quick", action="store_true", help=f"a smoke test: -n {QUICK_N:,} -r 3 unless given")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--jobs", type=int, default=None, help="generator worker processes (default: the CPUs)")
    p.add_argument(
        "--data-dir",
        default=None,
        help="embedded PostgreSQL's folder (default .data/bench-analytics for 1,000,000 appeals, "
        "shared with make bench-analytics; .data/bench-console-N for another N)",
    )
    p.add_argument("--fresh", action="store_true", help="generate again even when the dataset is there")
    p.add_argument("--why", action="store_true", help="where the time goes for every page, not only those over")
    p.add_argument(
        "--explain",
        action="store_true",
        help="EXPLAIN ANALYZE the slowest statement of each page over its target (with --why: of each page)",
    )
    p.add_argument("--list", action="store_true", help="print the pages found, load nothing")
    return p


def options(argv: list[str] | None = None) -> argparse.Namespace:
    args = parser().parse_args(argv)
    if args.n is None:
        args.n = QUICK_N if args.quick else DEFAULT_N
    if args.repeat is None:
        args.repeat = 3 if args.quick else 30
    return args


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # asyncio.run cancels the run: the finally blocks stop the server


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupt)
    sys.exit(asyncio.run(main(options())))

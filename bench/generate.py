"""Fill PostgreSQL with N synthetic appeals and their timelines:
`python -m bench.generate -n 1000000 --database-url postgresql://…`.

The database must be migrated with its reference data (`python -m db.migrate`). Appeals are
spread over the last ~13 months (the first of the month 13 months back, up to now) the way the
hotline sees them — see `bench.analytics.mix` — and each one lives its life through the real
rules of `domain.appeal` (`bench.analytics.life`), so its row, `state` and timeline are what the
workflow's projection would have written. The same seed and the same `--as-of` give the same data.

How: the days are planned (counts adding up to N, numbers in order of receipt), the secondary
indexes of the filled tables are taken off, worker processes generate chunks of days and COPY
them in, the indexes are put back exactly as they were, the numbering sequence moves past the
generated numbers, and VACUUM ANALYZE leaves the tables as autovacuum would. Topics of the text
are written with the appeals (as at intake). Then the closed months are frozen through the
monthly assessment's own activity (`--no-freeze` to skip).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
import sqlalchemy as sa

from analytics.periods import month_start, next_month
from bench.analytics import load, mix, store
from bench.analytics.world import load_world
from domain.calendar import CHINA_TZ
from settings import Settings

#: Bumped when the generated data changes shape: an older dataset is then generated again.
VERSION = 3
DEFAULT_SEED = 12345


@dataclass
class Report:
    appeals: int = 0
    events: int = 0
    parts: int = 0
    exclusions: int = 0
    topics: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    frozen: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def generation_seconds(self) -> float:
        return sum(v for k, v in self.timings.items() if k in ("prepare", "rows", "indexes", "vacuum"))


class NotEmpty(RuntimeError):
    """The database already holds appeals and replacing them was not asked for."""


def dsn_of(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def generate(url: str, n: int, *, seed: int = DEFAULT_SEED, as_of: datetime | None = None, jobs: int | None = None,
             replace: bool = False, freeze: bool = True, log=print) -> Report:
    """Generate the dataset; returns what was written and how long each step took."""
    dsn = dsn_of(url)
    as_of = (as_of or datetime.now(UTC)).replace(microsecond=0)
    jobs = jobs or os.cpu_count() or 2
    report = Report()
    t = time.perf_counter()
    days, indexes = asyncio.run(_prepare(dsn, n, seed, as_of, replace, log))
    report.timings["prepare"] = time.perf_counter() - t

    t = time.perf_counter()
    chunks = load.chunks(days)
    for i, result in enumerate(_run_chunks(chunks, jobs, (dsn, seed, as_of, n)), start=1):
        report.appeals += result.appeals
        report.events += result.events
        report.parts += result.parts
        report.exclusions += result.exclusions
        report.topics += result.topics
        report.timings["worker_cpu"] = report.timings.get("worker_cpu", 0.0) + result.cpu
        if i % max(1, len(chunks) // 8) == 0 or i == len(chunks):
            log(f"  {i:>3}/{len(chunks)} chunks: {report.appeals:>10,} appeals, {report.events:>11,} events "
                f"({time.perf_counter() - t:6.1f} s)")
    report.timings["rows"] = time.perf_counter() - t

    t = time.perf_counter()
    asyncio.run(_restore(dsn, indexes, days, jobs))
    report.timings["indexes"] = time.perf_counter() - t
    t = time.perf_counter()
    asyncio.run(store.vacuum_analyze(dsn, jobs))
    report.timings["vacuum"] = time.perf_counter() - t

    t = time.perf_counter()
    if asyncio.run(fill_derived(url, log)):
        report.timings["derived"] = time.perf_counter() - t

    if freeze:
        t = time.perf_counter()
        asyncio.run(_freeze(url, days, report, log))
        report.timings["freeze"] = time.perf_counter() - t
    asyncio.run(_done(dsn, report))
    return report


def _run_chunks(chunks, jobs: int, init_args):
    """The chunks' results as they finish: in worker processes, or here when `jobs` is 1."""
    if jobs == 1:
        load.init(*init_args)
        yield from map(load.load_chunk, chunks)
        return
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(jobs, initializer=load.init, initargs=init_args) as pool:
        yield from pool.imap_unordered(load.load_chunk, chunks)


async def _prepare(dsn: str, n: int, seed: int, as_of: datetime, replace: bool, log):
    conn = await asyncpg.connect(dsn)
    try:
        lost = await store.pending(conn)
        if lost:
            log(f"  putting back {len(lost)} indexes an interrupted load took off")
            await store.put_back(dsn, lost, 1)
            await store.indexes_restored(conn)
        existing = await conn.fetchval("SELECT count(*) FROM appeal")
        if existing:
            if not replace:
                raise NotEmpty(f"the database already holds {existing:,} appeals; --replace deletes them (and "
                               "everything derived from them) first")
            log(f"  deleting the {existing:,} appeals already there")
            await store.empty(conn)
        world = await load_world(dsn, Settings())
        holidays = set(world.terms[next(iter(world.terms))].holidays)
        days = mix.plan_days(n, as_of, seed, holidays, await store.next_number(conn))
        await store.mark_loading(conn, seed=seed, n=n, as_of=as_of, version=VERSION)
        indexes = await store.secondary_indexes(conn)
        await store.take_off(conn, indexes)
        return days, indexes
    finally:
        await conn.close()


async def _restore(dsn: str, indexes, days, jobs: int) -> None:
    await store.put_back(dsn, indexes, jobs)
    conn = await asyncpg.connect(dsn)
    try:
        await store.indexes_restored(conn)
        last = days[-1]
        await store.numbers_used(conn, last.first_no + last.count - 1)
    finally:
        await conn.close()


#: Tables other modules fill from the appeal rows, at intake or in bulk for appeals already there:
#: (module, its bulk function taking an engine, the table). Their own functions, since what they
#: hold may depend on earlier rows (`appeal_return` follows chains of returns in order of receipt).
DERIVED = (("analytics.recurring", "backfill_returns", "appeal_return"),)


async def fill_derived(url: str, log, *, only_empty: bool = False) -> list[str]:
    """Fill them (skipping, with a word, those not there yet; with `only_empty`, those already
    filled). Topics are not here: the workers write them with the appeals, as the intake does."""
    import importlib

    from db.session import make_engine

    done = []
    engine = make_engine(Settings(database_url=url), pool_size=2, max_overflow=0,
                         connect_args={"command_timeout": 600})
    try:
        for module_name, function, table in DERIVED:
            async with engine.connect() as conn:
                if not await conn.scalar(sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table}):
                    continue
                if only_empty and await conn.scalar(sa.text(f"SELECT EXISTS (SELECT 1 FROM {table})")):
                    continue
            try:
                fill = getattr(importlib.import_module(module_name), function)
            except (ImportError, AttributeError) as e:
                log(f"  {table} left empty: {module_name}.{function} cannot be loaded ({type(e).__name__}: {e})")
                continue
            t = time.perf_counter()
            await fill(engine)
            async with engine.begin() as conn:
                rows = await conn.scalar(sa.text(f"SELECT count(*) FROM {table}"))
                await conn.execute(sa.text(f"ANALYZE {table}"))
            done.append(f"{table}: {rows:,} rows by {module_name}.{function} in {time.perf_counter() - t:.1f} s")
            log(f"  {done[-1]}")
    finally:
        await engine.dispose()
    return done


def closed_months(days) -> list[str]:
    """The months of the window that have ended (Beijing time)."""
    this_month = month_start(days[-1].day)
    out, m = [], month_start(days[0].day)
    while m < this_month:
        out.append(f"{m:%Y-%m}")
        m = next_month(m)
    return out


async def _freeze(url: str, days, report: Report, log) -> None:
    """Freeze the closed months through the monthly assessment's activity, so the benchmark
    measures the frozen path too. Skipped (with a note) while that activity is not there yet."""
    try:
        from activities.assessment import AssessmentActivities
        from db.session import make_engine
    except ImportError as e:  # pragma: no cover
        report.notes.append(f"months not frozen: {e}")
        return
    settings = Settings(database_url=url)
    engine = make_engine(settings, pool_size=2, max_overflow=0, connect_args={"command_timeout": 600})
    activities = AssessmentActivities(engine, settings)
    try:
        for month in closed_months(days):
            try:
                await activities.freeze_month(month)
            except Exception as e:
                report.notes.append(f"freezing {month} failed: {type(e).__name__}: {e}"[:300])
                break
            report.frozen.append(month)
    finally:
        await engine.dispose()
    if report.frozen:
        log(f"  froze {report.frozen[0]} … {report.frozen[-1]} ({len(report.frozen)} months)")


async def _done(dsn: str, report: Report) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await store.mark_done(conn, appeals=report.appeals, events=report.events, timings=report.timings)
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=50_000, help="appeals to generate (default 50,000)")
    parser.add_argument("--database-url", default=None, help="default: DATABASE_URL")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--as-of", type=datetime.fromisoformat, default=None,
                        help="the moment the data ends (ISO 8601 with offset; default: now)")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: the CPUs)")
    parser.add_argument("--replace", action="store_true", help="delete the appeals already in the database first")
    parser.add_argument("--no-freeze", action="store_true", help="do not freeze the closed months")
    args = parser.parse_args(argv)
    url = args.database_url or Settings().database_url
    if not url:
        parser.error("give --database-url or set DATABASE_URL")
    if args.as_of is not None and args.as_of.tzinfo is None:
        args.as_of = args.as_of.replace(tzinfo=CHINA_TZ)
    print(f"generating {args.n:,} appeals (seed {args.seed}, {args.jobs or os.cpu_count()} workers)")
    try:
        report = generate(url, args.n, seed=args.seed, as_of=args.as_of, jobs=args.jobs, replace=args.replace,
                          freeze=not args.no_freeze)
    except NotEmpty as e:
        print(f"generate: {e}", file=sys.stderr)
        return 2
    steps = ", ".join(f"{k.replace('_', ' ')} {v:.1f} s" for k, v in report.timings.items())
    print(f"{report.appeals:,} appeals, {report.events:,} events, {report.parts:,} parts, "
          f"{report.exclusions:,} exclusion reviews, {report.topics:,} topic rows "
          f"in {report.generation_seconds:.1f} s ({steps})")
    for note in report.notes:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

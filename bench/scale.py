"""`make bench-scale`: the city's open orders on one box. Fills a private dev stack with open
appeals in a realistic mix of states (`bench.fill`: the API's own intake in-process, then the
workflows' real Updates; their limits are the policy's, days long), time-boxed by `--minutes`,
and at each checkpoint (default 10,000, 25,000, 50,000 open) prints:

- bytes per open appeal in Temporal's store (the dev server's SQLite file and its WAL) and in
  PostgreSQL (`pg_database_size`), as the growth since the start over the appeals added;
- the worker's resident memory and its workflow cache (the SDK's sticky cache: size, hits and
  misses while the actions below ran);
- p50/p95 of staff actions (a phased report over HTTP) on random open appeals;
- p95 of the stuck-case queries of docs/operations.md against Temporal's visibility (a count and
  the first page of each);
- the time a worker killed and started again takes to answer an action, and p95 of the actions
  right after (every appeal replays from its history);

then each extrapolated to 400,000 open appeals along the measured line. Before filling, the bare
floor and `make bench`'s closed loop give the ratio of the run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
import psutil

from bench.fill import HANDLED, PASSWORD, Filled, Filler, staff
from bench.http import JsonClient
from bench.stack import BenchStack, measure_ratio, ratio_line, rss_bytes
from bench.stats import extrapolate, fit_line, percentile
from db.users import DEMO_PASSWORD
from infra.temporal import connect
from settings import Settings

CITY_OPEN = 400_000


def stuck_case_queries(now: datetime) -> dict[str, str]:
    """The queries docs/operations.md gives administrators (its table "Finding stuck cases")."""
    at = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    running = "WorkflowType = 'AppealWorkflow' AND ExecutionStatus = 'Running'"
    return {
        "every open order": f"{running} AND AppealStatus != 'answered'",
        "past the deadline": f"{running} AND ReplyDeadline < '{at}'",
        "flagged overdue": f"{running} AND Overdue = true",
        "dispatched, never accepted": "AppealStatus = 'dispatched' AND ExecutionStatus = 'Running'",
        "accepted, past the deadline": f"AppealStatus IN ('accepted', 'contacted', 'in_progress') AND ReplyDeadline < '{at}'",
        "one unit's open orders": "HandlingUnit = '{unit}' AND ExecutionStatus = 'Running'",
        "a street's": "Street = '{street}'",
        "waiting on a co-handling unit": "WorkflowType = 'CoHandlingWorkflow' AND ExecutionStatus = 'Running'",
        "task failures": "TemporalReportedProblems IN ('category=WorkflowTaskFailed')",
    }


@dataclass
class Checkpoint:
    n: int
    temporal_bytes: float
    pg_bytes: float
    worker_rss: int
    cache_size: float
    cache_hit_rate: float | None
    cache_misses_per_action: float
    action_p50: float
    action_p95: float
    query_p95: float
    query_worst: tuple[str, float]
    restart_s: float | None
    polling_s: float | None
    after_restart_p95: float | None
    fill_rate: float
    notes: list[str] = field(default_factory=list)


class Scale:
    def __init__(self, stack: BenchStack, filler: Filler, client, seed: int) -> None:
        self.stack, self.filler, self.client = stack, filler, client
        self.rng = random.Random(seed)
        self.filled: list[Filled] = []
        self.base_temporal = 0
        self.base_pg = 0
        self.base_n = 0
        self.tokens: dict[str, dict[str, str]] = {}
        self.polling_s = 0.0  # the restarted worker's start, until it polls its task queue

    async def pg_size(self) -> int:
        conn = await asyncpg.connect(self.stack.database_url.replace("+asyncpg", ""))
        try:
            return await conn.fetchval("SELECT pg_database_size(current_database())")
        finally:
            await conn.close()

    async def open_count(self) -> int:
        conn = await asyncpg.connect(self.stack.database_url.replace("+asyncpg", ""))
        try:
            return await conn.fetchval("SELECT count(*) FROM appeal WHERE status <> 'closed'")
        finally:
            await conn.close()

    async def baseline(self) -> None:
        self.base_temporal = self.stack.temporal_store_bytes()
        self.base_pg = await self.pg_size()
        self.base_n = await self.open_count()

    async def fill(self, target: int, deadline: float, concurrency: int) -> float:
        """Add open appeals until `target` are filled or the deadline passes; returns appeals/s."""
        started, count = time.perf_counter(), len(self.filled)
        next_i = len(self.filled)
        last_log = started

        async def worker() -> None:
            nonlocal next_i, last_log
            while len(self.filled) < target and time.monotonic() < deadline:
                i, next_i = next_i, next_i + 1
                try:
                    done = await self.filler.one(i, self.filler.state_for(i))
                except Exception as e:  # one appeal's failure is reported, not the run's end
                    if asyncio.current_task().cancelling():  # Ctrl-C: the SDK reports it as its own error
                        raise
                    print(f"  appeal #{i}: {type(e).__name__}: {e}"[:300])
                    continue
                if done is not None:
                    self.filled.append(done)
                if time.perf_counter() - last_log > 60:
                    last_log = time.perf_counter()
                    rate = (len(self.filled) - count) / (last_log - started)
                    print(f"  … {len(self.filled):,} open appeals ({rate:.1f}/s)", flush=True)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return (len(self.filled) - count) / max(1e-9, time.perf_counter() - started)

    async def login(self) -> None:
        if self.tokens:
            return  # logins are rate-limited per client; the tokens outlive the run
        async with JsonClient(self.stack.api_url) as http:
            for place in self.filler.places:
                user = staff(place.unit).user
                status, answer = await http.post("/auth/token", {"username": user, "password": PASSWORD})
                if status != 200:
                    raise RuntimeError(f"login {user}: {status} {answer}")
                self.tokens[place.unit] = {"Authorization": f"Bearer {answer['access_token']}"}
            status, answer = await http.post("/auth/token", {"username": "operator", "password": DEMO_PASSWORD})
            self.tokens["operator"] = {"Authorization": f"Bearer {answer['access_token']}"}

    async def actions(self, n: int, *, timeout: float = 60) -> tuple[list[float], int]:
        """A phased report on each of `n` random open appeals a unit is handling, one after the
        other, over HTTP as the unit's staff: latencies (ms) and errors."""
        await self.login()
        handled = [f for f in self.filled if f.state in HANDLED]
        latencies, errors = [], 0
        async with JsonClient(self.stack.api_url) as http:
            for f in self.rng.sample(handled, min(n, len(handled))):
                t = time.perf_counter()
                try:
                    async with asyncio.timeout(timeout):
                        status, answer = await http.post(
                            f"/appeals/{f.appeal_no}/phased-report",
                            {"progress": "进展：已联系相关部门"},
                            self.tokens[f.unit],
                        )
                except (TimeoutError, OSError):
                    status, answer = 599, "timed out"
                if status == 200:
                    latencies.append((time.perf_counter() - t) * 1000)
                else:
                    errors += 1
                    if errors <= 3:
                        print(f"  action on {f.appeal_no}: {status} {str(answer)[:200]}")
        return latencies, errors

    async def queries(self, rounds: int = 3) -> tuple[list[float], dict[str, float]]:
        place = self.filler.places[0]
        times, worst = [], {}
        for name, q in stuck_case_queries(datetime.now(UTC)).items():
            q = q.format(unit=place.unit, street=place.street)
            for _ in range(rounds):
                t = time.perf_counter()
                await self.client.count_workflows(q)
                seen = 0
                async for _ in self.client.list_workflows(q, page_size=100):
                    seen += 1
                    if seen >= 100:
                        break
                ms = (time.perf_counter() - t) * 1000
                times.append(ms)
                worst[name] = max(worst.get(name, 0.0), ms)
        return times, worst

    async def restart(self, probes: int) -> tuple[float, float]:
        """Kill the worker, start it again, and time until an action on an open appeal is
        answered; then p95 of `probes` more (each a cache miss: a replay)."""
        self.stack.kill("worker")
        t = time.perf_counter()
        await self.stack.restart("worker")
        self.polling_s = time.perf_counter() - t
        first, errors = await self.actions(1, timeout=120)
        took = time.perf_counter() - t
        if errors:
            print("  the first action after the restart failed")
        after, _ = await self.actions(probes)
        return took, percentile(after, 95)

    async def checkpoint(self, n_target: int, fill_rate: float, probes: int, restart: bool) -> Checkpoint:
        n = len(self.filled)
        before = await self.stack.scrape("worker-sdk")
        lat, errors = await self.actions(probes)
        after = await self.stack.scrape("worker-sdk")
        hit = after.total("temporal_sticky_cache_hit") - before.total("temporal_sticky_cache_hit")
        miss = after.total("temporal_sticky_cache_miss") - before.total("temporal_sticky_cache_miss")
        q_times, q_worst = await self.queries()
        worst = max(q_worst.items(), key=lambda kv: kv[1])
        open_now = await self.open_count() - self.base_n
        cp = Checkpoint(
            n=n,
            temporal_bytes=(self.stack.temporal_store_bytes() - self.base_temporal) / max(1, open_now),
            pg_bytes=(await self.pg_size() - self.base_pg) / max(1, open_now),
            worker_rss=rss_bytes(self.stack.pid("worker")),
            cache_size=after.total("temporal_sticky_cache_size"),
            cache_hit_rate=hit / (hit + miss) if hit + miss else None,
            cache_misses_per_action=miss / max(1, len(lat) + errors),
            action_p50=percentile(lat, 50),
            action_p95=percentile(lat, 95),
            query_p95=percentile(q_times, 95),
            query_worst=worst,
            restart_s=None,
            polling_s=None,
            after_restart_p95=None,
            fill_rate=fill_rate,
        )
        if errors:
            cp.notes.append(f"{errors} of {probes} actions failed")
        if n < n_target:
            cp.notes.append(f"time box reached at {n:,} of {n_target:,}")
        if restart:
            cp.restart_s, cp.after_restart_p95 = await self.restart(probes // 2)
            cp.polling_s = self.polling_s
        print_checkpoint(cp)
        return cp


def print_checkpoint(cp: Checkpoint) -> None:
    hit = "n/a" if cp.cache_hit_rate is None else f"{cp.cache_hit_rate:.0%}"
    print(f"\n{cp.n:,} open appeals (filled at {cp.fill_rate:.1f}/s)", flush=True)
    print(
        f"  Temporal store {cp.temporal_bytes / 1024:8.1f} KiB per open appeal; PostgreSQL {cp.pg_bytes / 1024:.1f} KiB"
    )
    print(
        f"  worker RSS {cp.worker_rss / 2**20:.0f} MiB; workflow cache {cp.cache_size:.0f} runs; during the actions "
        f"{hit} of the workflow tasks hit it, {cp.cache_misses_per_action:.2f} misses per action"
    )
    print(f"  actions on random open appeals: p50 {cp.action_p50:.0f} ms, p95 {cp.action_p95:.0f} ms")
    print(
        f"  stuck-case queries (count + first page of 100): p95 {cp.query_p95:.0f} ms, slowest "
        f"{cp.query_worst[0]!r} {cp.query_worst[1]:.0f} ms"
    )
    if cp.restart_s is not None:
        print(
            f"  worker killed and restarted: polling after {cp.polling_s or 0:.1f} s, first action answered after "
            f"{cp.restart_s:.1f} s; p95 of the next actions {cp.after_restart_p95:.0f} ms (a run cached by the killed "
            "worker waits out its sticky queue's schedule-to-start timeout, 10 s, before any worker replays it)"
        )
    for note in cp.notes:
        print(f"  note: {note}")


def print_extrapolation(cps: list[Checkpoint]) -> None:
    total_ram = psutil.virtual_memory().total
    free_disk = psutil.disk_usage("/tmp").free
    rows = [
        (
            "Temporal store, GiB",
            lambda c: c.temporal_bytes * c.n / 2**30,
            f"disk free here {free_disk / 2**30:.0f} GiB",
        ),
        ("PostgreSQL, GiB", lambda c: c.pg_bytes * c.n / 2**30, ""),
        ("worker RSS, MiB", lambda c: c.worker_rss / 2**20, f"RAM here {total_ram / 2**30:.1f} GiB"),
        ("action p95, ms", lambda c: c.action_p95, "target 300 ms"),
        ("stuck-case query p95, ms", lambda c: c.query_p95, ""),
        ("restart to first answer, s", lambda c: c.restart_s, ""),
    ]
    print(f"\nextrapolated to {CITY_OPEN:,} open appeals along the measured line (x = open appeals):")
    for name, get, limit in rows:
        points = [(float(c.n), float(get(c))) for c in cps if get(c) is not None]
        if not points:
            continue
        slope, _ = fit_line(points)
        shown = " → ".join(f"{y:,.2f}" for _, y in points)
        if slope <= 0:  # no growth measured (noise around a level): the level, not a line below it
            at_400k = f"no growth measured: ~{max(y for _, y in points):,.2f} at 400k"
        else:
            at_400k = f"slope {slope * 10_000:+,.2f} per 10k → {extrapolate(points, CITY_OPEN):,.1f} at 400k"
        print(f"  {name:<28} {shown:<36} {at_400k}  {limit}")


async def main(args: argparse.Namespace) -> None:
    stack = BenchStack("jiesu-bench-scale-", extra_env={"INTAKE_RATE_PER_MINUTE": "1000000"})
    stack.keep = args.keep
    deadline = time.monotonic() + args.minutes * 60
    checkpoints: list[Checkpoint] = []
    filler = None
    try:
        await stack.start(floor=True)
        client = await connect(Settings(temporal_address=stack.temporal_address))
        floor, closed = await measure_ratio(client, stack.api_url, args.ratio_n)
        print("\n" + ratio_line(floor, closed), flush=True)
        filler = Filler(stack.database_url, client, seed=args.seed)
        places = await filler.prepare()
        print(f"filling: {len(places)} units, {', '.join(p.unit for p in places)}; {args.concurrency} in flight")
        scale = Scale(stack, filler, client, args.seed)
        await scale.baseline()
        for target in args.checkpoints:
            rate = await scale.fill(target, deadline, args.concurrency)
            if len(scale.filled) == 0:
                break
            checkpoints.append(await scale.checkpoint(target, rate, args.probes, restart=not args.no_restart))
            if time.monotonic() >= deadline:
                print(
                    f"\ntime box of {args.minutes:g} min reached; checkpoints past {len(scale.filled):,} not measured"
                )
                break
        print(f"\njiesu scale benchmark — {os.cpu_count()} CPUs; {ratio_line(floor, closed)}")
        if len(checkpoints) >= 1:
            print_extrapolation(checkpoints)
    finally:
        if filler is not None:
            await filler.close()
        stack.stop()
        if args.keep:
            print(f"data kept in {stack.data_dir}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--checkpoints", type=lambda s: [int(x) for x in s.split(",")], default=[10_000, 25_000, 50_000]
    )
    parser.add_argument("--minutes", type=float, default=60, help="time box for filling (default 60)")
    parser.add_argument("-c", "--concurrency", type=int, default=16, help="appeals filled at once")
    parser.add_argument("--probes", type=int, default=40, help="actions per checkpoint")
    parser.add_argument("--ratio-n", type=int, default=100, help="workflows in the floor and closed-loop runs")
    parser.add_argument("--no-restart", action="store_true", help="skip the worker restart at each checkpoint")
    parser.add_argument("--keep", action="store_true", help="keep the data folder (logs, SQLite, PostgreSQL)")
    parser.add_argument("--seed", type=int, default=18)
    asyncio.run(main(parser.parse_args()))

"""`make bench-load`: latency at a steady load. An open loop through the HTTP API of a private
dev stack: appeals arrive at a fixed rate (Poisson; arrivals never wait for answers), and each
lives its life — intake, accept, contact, phased report, complete, evaluation — with its steps
spaced as in life but compressed into `--life` seconds. At each rate (multiples of Beijing's
record-day average, 0.65 appeals/s) it prints p50/p95/p99/max per endpoint, and at the end the
knee: the highest rate at which every endpoint's p99 is under 300 ms. It goes up the rates until
one breaks (errors, or a p99 over `--break-ms`).

In the same run: the bare Temporal floor and `make bench`'s closed loop (the ratio of full
appeals to the floor), and, per rate, where the time goes: the API's own histograms per route,
the Temporal calls it makes (the SDK's request latency), the worker's workflow-task latencies,
and the CPU each piece spent.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench.__main__ import BODY, cpu_seconds
from bench.http import JsonClient
from bench.stack import BenchStack, Metrics, mean_ms_by, measure_ratio, print_profiles, ratio_line
from bench.stats import PEAK_RATE, knee, poisson_arrivals, summary
from db.users import DEMO_PASSWORD
from infra.temporal import connect
from settings import Settings

#: An appeal's steps after intake: (endpoint, who, path under /appeals/{no}, body, when, as a share
#: of the compressed life). In life: accepted within hours of dispatch, the citizen contacted
#: within a day, a phased report mid-way, done within the seven days, the return visit after.
STEPS = (
    ("accept", "unit", "accept", {}, 0.02),
    ("contact", "unit", "contact", {"note": "called the citizen"}, 0.10),
    ("phased-report", "unit", "phased-report", {"progress": "lamps ordered"}, 0.40),
    ("complete", "unit", "complete", {"result": "replaced the lamps"}, 0.75),
    ("evaluation", "operator", "evaluation", {"resolved": True, "satisfaction": "satisfied"}, 1.00),
)
ENDPOINTS = ("POST /appeals", *(name for name, *_ in STEPS))
#: The issue's targets at 5x: the operator waits on the intake while the citizen is on the line.
TARGET_MS = {"POST /appeals": 150.0} | {name: 100.0 for name, *_ in STEPS}


@dataclass
class RateResult:
    multiple: float
    rate: float
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    appeals: int = 0
    finished: int = 0
    late_ms: list[float] = field(default_factory=list)  # how far behind schedule the driver sent
    where: list[str] = field(default_factory=list)

    def p99s(self) -> dict[str, float]:
        return {name: summary(v)["p99"] for name, v in self.latencies.items() if v}

    def broken(self, break_ms: float) -> str | None:
        calls = sum(len(v) for v in self.latencies.values()) + sum(self.errors.values())
        if sum(self.errors.values()) > 0.01 * max(1, calls):
            return f"{sum(self.errors.values())} errors in {calls} calls"
        worst = max(self.p99s().items(), key=lambda kv: kv[1], default=None)
        if worst and worst[1] > break_ms:
            return f"{worst[0]} p99 {worst[1]:.0f} ms > {break_ms:.0f} ms"
        if self.finished < 0.95 * self.appeals:
            return f"only {self.finished} of {self.appeals} appeals finished their life"
        return None


async def login(http: JsonClient) -> dict[str, dict[str, str]]:
    tokens = {}
    for who, user in (("operator", "operator"), ("unit", "lighting")):
        status, answer = await http.post("/auth/token", {"username": user, "password": DEMO_PASSWORD})
        if status != 200:
            raise RuntimeError(f"login {user}: {status} {answer}")
        tokens[who] = {"Authorization": f"Bearer {answer['access_token']}"}
    return tokens


async def drive_rate(api: str, multiple: float, duration: float, life: float, seed: int) -> RateResult:
    """Appeals arriving at `multiple` x 0.65/s for `duration` seconds, each living `life` seconds;
    returns once every life has ended (or given up)."""
    rng = random.Random(seed)
    result = RateResult(multiple, multiple * PEAK_RATE)
    arrivals = poisson_arrivals(result.rate, duration, rng)
    # each appeal's steps at its own jittered points of its life (in order, never before the last)
    plans = [
        sorted(min(1.0, max(0.0, share + rng.uniform(-0.02, 0.02))) * life for *_, share in STEPS) for _ in arrivals
    ]
    result.appeals = len(arrivals)
    async with JsonClient(api) as http:
        tokens = await login(http)
        start = time.perf_counter() + 0.5

        async def call(name: str, path: str, body: dict, headers: dict, due: float) -> dict | None:
            now = time.perf_counter()
            if now < due:
                await asyncio.sleep(due - now)
            sent = time.perf_counter()
            result.late_ms.append(max(0.0, sent - due) * 1000)
            try:
                async with asyncio.timeout(60):
                    status, answer = await http.post(path, body, headers | {"Idempotency-Key": uuid.uuid4().hex})
            except (TimeoutError, OSError, asyncio.IncompleteReadError):
                result.errors[name] += 1
                return None
            if status >= 300:
                result.errors[name] += 1
                return None
            result.latencies[name].append((time.perf_counter() - sent) * 1000)
            return answer

        async def one(at: float, offsets: list[float]) -> None:
            created = await call("POST /appeals", "/appeals", BODY, tokens["operator"], start + at)
            if created is None:
                return
            no = created["appeal"]["appeal_no"]
            for (name, who, path, body, _), offset in zip(STEPS, offsets, strict=True):
                if await call(name, f"/appeals/{no}/{path}", body, tokens[who], start + at + offset) is None:
                    return
            result.finished += 1

        await asyncio.gather(*(one(at, offsets) for at, offsets in zip(arrivals, plans, strict=True)))
    return result


async def where_the_time_goes(stack: BenchStack, before: dict[str, Metrics], after: dict[str, Metrics]) -> list[str]:
    """Mean server-side times between two scrapes: the API per route, the Temporal calls the API
    made, the worker's workflow tasks and local activities."""
    lines = []
    routes = mean_ms_by(before["api"], after["api"], "jiesu_http_request_duration_seconds", "route", method="POST")
    if routes:
        lines.append(
            "API, mean per route: "
            + ", ".join(
                f"{r.removeprefix('/appeals/{appeal_no}/') or r} {ms * 1000:.0f} ms"
                for r, (ms, n) in sorted(routes.items())
            )
        )
    calls = mean_ms_by(before["api-sdk"], after["api-sdk"], "temporal_request_latency", "operation")
    calls |= mean_ms_by(before["api-sdk"], after["api-sdk"], "temporal_long_request_latency", "operation")
    if calls:
        lines.append(
            "API's Temporal calls, mean: "
            + ", ".join(
                f"{op} {ms * 1000:.0f} ms ×{n}"
                for op, (ms, n) in sorted(calls.items(), key=lambda kv: -kv[1][1])
                if n > 1
            )
        )
    worker = []
    for base, label in (
        ("temporal_workflow_task_schedule_to_start_latency", "wft schedule→start"),
        ("temporal_workflow_task_execution_latency", "wft execution"),
        ("temporal_workflow_task_replay_latency", "wft replay"),
        ("temporal_local_activity_execution_latency", "local activity"),
        ("temporal_activity_execution_latency", "activity"),
    ):
        got = mean_ms_by(before["worker-sdk"], after["worker-sdk"], base, "service_name")
        for ms, n in got.values():
            worker.append(f"{label} {ms * 1000:.1f} ms ×{n}")
    if worker:
        lines.append("worker, mean: " + ", ".join(worker))
    hit = after["worker-sdk"].total("temporal_sticky_cache_hit") - before["worker-sdk"].total(
        "temporal_sticky_cache_hit"
    )
    miss = after["worker-sdk"].total("temporal_sticky_cache_miss") - before["worker-sdk"].total(
        "temporal_sticky_cache_miss"
    )
    if hit + miss:
        lines.append(f"worker's workflow cache: {hit / (hit + miss):.1%} hits ({int(hit)} hits, {int(miss)} misses)")
    return lines


async def scrape_all(stack: BenchStack) -> dict[str, Metrics]:
    return {w: await stack.scrape(w) for w in ("api", "api-sdk", "worker-sdk")}


def print_rate(r: RateResult) -> None:
    print(
        f"\n{r.multiple:g}x = {r.rate:.2f} appeals/s ({r.rate * (1 + len(STEPS)):.1f} requests/s): "
        f"{r.appeals} appeals, {r.finished} lived to the end; driver late p99 {summary(r.late_ms)['p99']:.0f} ms"
    )
    print(
        f"  {'endpoint':<16}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'calls':>7}{'errors':>7}  target p99 at 5x"
    )
    for name in ENDPOINTS:
        s = summary(r.latencies.get(name, []))
        mark = "" if s["n"] == 0 else ("met" if s["p99"] < TARGET_MS[name] else "MISSED")
        print(
            f"  {name:<16}{s['p50']:>9.1f}{s['p95']:>9.1f}{s['p99']:>9.1f}{s['max']:>9.1f}{int(s['n']):>7}"
            f"{r.errors.get(name, 0):>7}  < {TARGET_MS[name]:.0f} ms {mark}"
        )
    for line in r.where:
        print(f"  {line}")


async def main(args: argparse.Namespace) -> None:
    stack = BenchStack("jiesu-bench-load-")
    profiles = Path(tempfile.mkdtemp(prefix="jiesu-bench-profile-")) if args.profile else None
    if profiles is not None:
        stack.profile(profiles)
    os.environ["JIESU_DATA_DIR"] = str(stack.data_dir)  # cpu_seconds finds this stack's PostgreSQL by it
    results: list[RateResult] = []
    try:
        await stack.start(floor=True)
        api = stack.api_url
        client = await connect(Settings(temporal_address=stack.temporal_address))
        # warm-up, then the closed loop of `make bench` and the floor, for the ratio
        floor, closed = await measure_ratio(client, stack.api_url, args.ratio_n)
        print("\n" + ratio_line(floor, closed), flush=True)
        for i, multiple in enumerate(args.rates):
            before, cpu_before = await scrape_all(stack), cpu_seconds(stack.stack, stack.floor_worker)
            t = time.perf_counter()
            r = await drive_rate(api, multiple, args.duration, args.life, args.seed + i)
            wall = time.perf_counter() - t
            after, cpu_after = await scrape_all(stack), cpu_seconds(stack.stack, stack.floor_worker)
            r.where = await where_the_time_goes(stack, before, after)
            busy = {k: (cpu_after[k] - cpu_before.get(k, 0.0)) / wall for k in cpu_after}
            r.where.append(
                "CPU, cores busy: "
                + ", ".join(f"{k} {v:.2f}" for k, v in sorted(busy.items(), key=lambda kv: -kv[1]) if v >= 0.01)
                + f" (of {os.cpu_count()})"
            )
            results.append(r)
            print_rate(r)
            why = r.broken(args.break_ms)
            if why:
                print(f"  broke at {multiple:g}x: {why}; not going higher")
                break
        print_verdict(results, floor, closed)
    finally:
        stack.stop()
    if profiles is not None:
        print_profiles(profiles)
        shutil.rmtree(profiles, ignore_errors=True)


def print_verdict(results: list[RateResult], floor: float, closed: float | None) -> None:
    found = knee({r.rate: r.p99s() for r in results})
    print()
    print(f"jiesu load benchmark — {os.cpu_count()} CPUs; {ratio_line(floor, closed)}")
    print(f"  {'rate':<22}" + "".join(f"{n[:13]:>14}" for n in ENDPOINTS) + "   (p99 ms)")
    for r in results:
        p99 = r.p99s()
        print(
            f"  {r.multiple:>4g}x {r.rate:>5.2f}/s{'':9}"
            + "".join(f"{p99.get(n, float('nan')):>14.0f}" for n in ENDPOINTS)
        )
    if found is None:
        print("  knee: none — already at the lowest rate some endpoint's p99 was 300 ms or more")
    else:
        print(
            f"  knee (every endpoint's p99 < 300 ms): {found:.2f} appeals/s = {found / PEAK_RATE:g}x the record "
            f"day's average, {found / floor:.2f} of the floor's closed-loop throughput"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--rates",
        type=lambda s: [float(x) for x in s.split(",")],
        default=[1, 5, 10, 20, 40],
        help="multiples of 0.65 appeals/s, in order (default 1,5,10,20,40; stops after one breaks)",
    )
    parser.add_argument("--duration", type=float, default=60, help="seconds of arrivals at each rate (default 60)")
    parser.add_argument("--life", type=float, default=60, help="seconds from intake to evaluation (default 60)")
    parser.add_argument("--break-ms", type=float, default=5000, help="a p99 over this means the rate broke")
    parser.add_argument("--ratio-n", type=int, default=100, help="workflows in the floor and closed-loop runs")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument(
        "--profile", action="store_true", help="run the API and the worker under cProfile (slower) and print where"
    )
    asyncio.run(main(parser.parse_args()))

"""`make bench`: full appeals through the HTTP API on a dev stack, against the bare Temporal
floor measured in the same run.

Starts a throw-away dev stack (embedded PostgreSQL, Temporal dev server with the same SQLite
settings as `make dev`, worker, API), then, for each round: the floor (N no-op workflows, each
started with an update and given four more, as an appeal is, straight to Temporal), then N appeals each taken through intake →
dispatch → accept → contact → complete → evaluation → closed over HTTP, with C in flight.
Prints appeals/s, the ratio to the floor, and p50/p95/p99 per endpoint. Medians over rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

from bench.floor import drive as drive_floor
from bench.http import JsonClient
from db.channels import create_channel
from db.session import make_engine
from db.users import DEMO_PASSWORD
from devstack.__main__ import Stack
from devstack.ports import free_port
from infra.temporal import connect
from settings import PROJECT_ROOT, Settings

OPEN311_BODY = {
    "service_code": "MUNI.STREETLIGHT", "lat": 39.9462, "long": 116.4057, "attribute[appeal_type]": "complaint",
    "first_name": "先生", "last_name": "刘", "phone": "13812345678",
}
BODY = {
    "appeal_type": "complaint",
    "category": "MUNI.STREETLIGHT",
    "location": {"street": "110101-ANDINGMEN", "address": "方家胡同"},
    "content": "胡同路灯昏暗",
    "citizen": {"name": "刘先生", "phone": "13812345678"},
}


def cpu_seconds(stack: Stack, floor_worker: subprocess.Popen) -> dict[str, float]:
    """CPU time used so far by each piece of the stack (process trees)."""
    import psutil

    roots = {name: proc.pid for name, proc in stack.children}
    roots["floor worker"] = floor_worker.pid
    if stack.temporal and stack.temporal.process:
        roots["temporal"] = stack.temporal.process.pid
    data_dir = os.environ["JIESU_DATA_DIR"]  # the stack's own server, not another on the machine
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if proc.info["name"] == "postgres" and "-D" in cmdline and cmdline[cmdline.index("-D") + 1].startswith(data_dir):
            roots["postgresql"] = proc.pid
    roots["bench driver"] = os.getpid()
    used = {}
    for name, pid in roots.items():
        try:
            tree = [psutil.Process(pid)]
            tree += tree[0].children(recursive=True) if name != "bench driver" else []
            # user + system, with the children that ended (PostgreSQL backends come and go)
            used[name] = sum(sum(p.cpu_times()[:4]) for p in tree)
        except psutil.NoSuchProcess:
            continue
    return used


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def run_floor(client, n: int, concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            await drive_floor(client)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return n / (time.perf_counter() - started)


async def run_appeals(api: str, n: int, concurrency: int) -> tuple[float, dict[str, list[float]]]:
    latencies: dict[str, list[float]] = defaultdict(list)
    gate = asyncio.Semaphore(concurrency)
    async with JsonClient(api) as http:
        tokens = {}
        for user in ("operator", "lighting"):
            status, answer = await http.post("/auth/token", {"username": user, "password": DEMO_PASSWORD})
            if status != 200:
                raise RuntimeError(f"login {user}: {status} {answer}")
            tokens[user] = {"Authorization": f"Bearer {answer['access_token']}"}

        async def call(name: str, path: str, body: dict, headers: dict) -> dict:
            t = time.perf_counter()
            async with asyncio.timeout(60):
                status, answer = await http.post(path, body, headers)
            latencies[name].append((time.perf_counter() - t) * 1000)
            if status >= 300:
                raise RuntimeError(f"{name}: {status} {answer}")
            return answer

        async def one(i: int) -> None:
            async with gate:
                op = tokens["operator"] | {"Idempotency-Key": f"bench-{uuid.uuid4().hex}"}
                created = await call("POST /appeals", "/appeals", BODY, op)
                no = created["appeal"]["appeal_no"]
                unit = tokens["lighting"]
                await call("accept", f"/appeals/{no}/accept", {}, unit)
                await call("contact", f"/appeals/{no}/contact", {"note": "called"}, unit)
                await call("complete", f"/appeals/{no}/complete", {"result": "fixed"}, unit)
                final = await call(
                    "evaluation",
                    f"/appeals/{no}/evaluation",
                    {"resolved": True, "satisfaction": "satisfied"},
                    tokens["operator"],
                )
                if final["status"] != "closed":
                    raise RuntimeError(f"{no} ended {final['status']}")

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return n / (time.perf_counter() - started), latencies


async def run_open311(api: str, key: str, n: int, concurrency: int) -> tuple[float, list[float]]:
    """N appeals filed by a channel through Open311 `POST requests` (the intake and the
    workflow's start, as POST /appeals), C in flight; each filing differs, so none is a retry."""
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)
    async with JsonClient(api) as http:

        async def one(i: int) -> None:
            async with gate:
                body = OPEN311_BODY | {"api_key": key, "description": f"胡同路灯昏暗 {uuid.uuid4().hex[:12]}"}
                t = time.perf_counter()
                async with asyncio.timeout(60):
                    status, answer = await http.post("/open311/v2/requests.json", body)
                latencies.append((time.perf_counter() - t) * 1000)
                if status != 201:
                    raise RuntimeError(f"POST /open311/v2/requests.json: {status} {answer}")

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return n / (time.perf_counter() - started), latencies


async def channel_key(database_url: str) -> str:
    engine = make_engine(Settings(database_url=database_url))
    try:
        return await create_channel(engine, f"bench-{uuid.uuid4().hex[:8]}")
    finally:
        await engine.dispose()


async def main(n: int, concurrency: int, rounds: int) -> None:
    data = Path(tempfile.mkdtemp(prefix="jiesu-bench-"))
    ports = {k: free_port() for k in ("POSTGRES_PORT", "TEMPORAL_PORT", "TEMPORAL_UI_PORT", "API_PORT")}
    os.environ.update({k: str(v) for k, v in ports.items()} | {"JIESU_DATA_DIR": str(data), "JIESU_ENV": "dev"})
    os.environ["INTAKE_RATE_PER_MINUTE"] = "1000000"  # the benchmark is one very fast operator
    os.environ["OPEN311_RATE_PER_MINUTE"] = "1000000"  # and one very fast Open311 channel
    for name in ("DATABASE_URL", "TEMPORAL_ADDRESS"):
        os.environ.pop(name, None)
    # As the image does (its Dockerfile runs compileall): the sandbox imports workflow modules
    # afresh for every workflow run, and without a .pyc (PYTHONDONTWRITEBYTECODE=1) every run
    # would compile their source again. Both the appeal's and the floor's.
    for package in ("workflows", "bench"):
        compileall.compile_dir(PROJECT_ROOT / package, quiet=1)
    stack = Stack(Settings())
    floor_worker = None
    try:
        await stack.start()
        floor_worker = subprocess.Popen(
            [sys.executable, "-m", "bench.floor"], cwd=PROJECT_ROOT, env=stack.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = await connect(Settings(temporal_address=stack.env["TEMPORAL_ADDRESS"]))
        api = f"http://127.0.0.1:{ports['API_PORT']}"
        await run_floor(client, min(20, n), concurrency)  # warm-up
        await run_appeals(api, min(20, n), concurrency)
        key = await channel_key(stack.env["DATABASE_URL"])
        await run_open311(api, key, min(20, n), concurrency)
        floors, appeals, all_latencies = [], [], defaultdict(list)
        filed: list[float] = []
        cpu: dict[str, float] = defaultdict(float)
        floor_cpu: dict[str, float] = defaultdict(float)
        for r in range(rounds):
            before = cpu_seconds(stack, floor_worker)
            floors.append(await run_floor(client, n, concurrency))
            middle = cpu_seconds(stack, floor_worker)
            rate, latencies = await run_appeals(api, n, concurrency)
            after = cpu_seconds(stack, floor_worker)
            for name in after:
                floor_cpu[name] += middle[name] - before.get(name, 0.0)
                cpu[name] += after[name] - middle.get(name, 0.0)
            appeals.append(rate)
            for name, values in latencies.items():
                all_latencies[name].extend(values)
            # outside the CPU accounting above: the per-appeal figures stay those of full appeals
            open311_rate, open311_latencies = await run_open311(api, key, n, concurrency)
            filed.append(open311_rate)
            all_latencies["Open311 POST"].extend(open311_latencies)
            print(f"round {r + 1}: floor {floors[-1]:.1f} wf/s, appeals {rate:.1f}/s, ratio {rate / floors[-1]:.2f}; "
                  f"Open311 filed {open311_rate:.1f}/s")
        floor, rate = statistics.median(floors), statistics.median(appeals)
        print()
        print(f"jiesu benchmark — N={n} appeals per round, concurrency {concurrency}, {rounds} round(s), "
              f"{os.cpu_count()} CPUs")
        print(f"  bare Temporal floor (no-op, 5 updates, 1st with the start): {floor:8.1f} workflows/s")
        print(f"  full appeals through the HTTP API:                         {rate:8.1f} appeals/s")
        print(f"  ratio to the floor:                                        {rate / floor:8.2f}")
        print(f"  Open311 POST requests (intake + start only), filed:        {statistics.median(filed):8.1f} appeals/s"
              f" ({statistics.median(filed) / floor:.2f} x the floor)")
        print("  Open311 GET requests over 1,000,000 appeals: `make bench-analytics` (target p95 < 100 ms a page of 50)")
        print(f"  at Beijing's reported single-day peak (56,000/day = 0.65/s) this is {rate / 0.65:.0f}x headroom")
        print()
        print(f"  {'endpoint':<16}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'calls':>8}")
        for name, values in all_latencies.items():
            print(f"  {name:<16}{percentile(values, 50):>10.1f}{percentile(values, 95):>10.1f}"
                  f"{percentile(values, 99):>10.1f}{len(values):>8}")
        print()
        print("  CPU per workflow, by process:       floor    appeal")
        total = n * rounds
        for name in sorted(cpu, key=lambda k: -cpu[k]):
            print(f"  {name:<28}{floor_cpu[name] / total * 1000:>9.1f}{cpu[name] / total * 1000:>10.1f} ms")
        print(f"  {'all':<28}{sum(floor_cpu.values()) / total * 1000:>9.1f}{sum(cpu.values()) / total * 1000:>10.1f} ms")
    finally:
        if floor_worker is not None:
            floor_worker.terminate()
            floor_worker.wait(20)
        stack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=300, help="appeals (and floor workflows) per round")
    parser.add_argument("-c", "--concurrency", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.n, args.concurrency, args.rounds))

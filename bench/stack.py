"""The private stack the load, scale and storm benchmarks run on: `make dev`'s launcher on a
throw-away data folder and free ports (`chaos.stack.ChaosStack`, whose pieces can also be killed
and started again), with every metrics endpoint on a port of its own, the workflow modules
compiled as the image compiles them, and, where asked, the bare floor's worker beside it.

Also what the benchmarks read from the stack: Prometheus text from the API's and the SDK's
/metrics, the size of Temporal's SQLite store and of the PostgreSQL database, a process's RSS.
"""

from __future__ import annotations

import compileall
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import httpx

from chaos.stack import ChaosStack
from devstack.ports import free_port
from settings import PROJECT_ROOT

METRICS_PORTS = ("METRICS_PORT", "TEMPORAL_METRICS_PORT", "API_TEMPORAL_METRICS_PORT")


class BenchStack(ChaosStack):
    def __init__(self, prefix: str, *, extra_env: dict[str, str] | None = None) -> None:
        super().__init__(Path(tempfile.mkdtemp(prefix=prefix)))
        self.metrics = {k: free_port() for k in METRICS_PORTS}
        self.stack.env.update({k: str(v) for k, v in self.metrics.items()})
        self.stack.env["OPEN311_RATE_PER_MINUTE"] = "1000000"
        self.stack.env.update(extra_env or {})
        self.floor_worker: subprocess.Popen | None = None
        self.keep = False  # keep the data folder after stopping (to look at the logs)

    def profile(self, folder: Path, pieces: tuple[str, ...] = ("api", "worker")) -> None:
        """Run these pieces under cProfile, each writing `folder/<piece>.prof` when it stops
        (SIGTERM ends both cleanly); `print_profiles` reads them."""
        folder.mkdir(parents=True, exist_ok=True)
        argv = self.stack._argv

        def profiled(name: str) -> list[str]:
            args = argv(name)
            if name not in pieces:
                return args
            return [args[0], "-m", "cProfile", "-o", str(folder / f"{name}.prof"), *args[1:]]

        self.stack._argv = profiled  # type: ignore[method-assign]

    async def start(self, *, floor: bool = False) -> None:
        # the sandbox imports workflow modules afresh for every run: without a .pyc each run
        # would compile their source again (the image's Dockerfile runs compileall too)
        for package in ("workflows", "bench"):
            compileall.compile_dir(PROJECT_ROOT / package, quiet=1)
        await super().start()
        if floor:
            self.floor_worker = subprocess.Popen(
                [sys.executable, "-m", "bench.floor"],
                cwd=PROJECT_ROOT,
                env=self.stack.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )

    def stop(self) -> None:
        if self.floor_worker is not None and self.floor_worker.poll() is None:
            self.floor_worker.terminate()
            self.floor_worker.wait(20)
        super().stop()
        if not self.keep:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # --- what the benchmarks read ----------------------------------------------------------
    def metrics_url(self, which: str) -> str:
        """`api` (the API's own), `worker-sdk` (the Temporal SDK in the worker), `api-sdk`."""
        if which == "api":
            return f"{self.api_url}/metrics"
        port = {
            "worker-sdk": "TEMPORAL_METRICS_PORT",
            "api-sdk": "API_TEMPORAL_METRICS_PORT",
            "worker": "METRICS_PORT",
        }[which]
        return f"http://127.0.0.1:{self.metrics[port]}/metrics"

    async def scrape(self, which: str) -> Metrics:
        async with httpx.AsyncClient(timeout=30) as http:
            return Metrics.parse((await http.get(self.metrics_url(which))).text)

    def temporal_store_bytes(self) -> int:
        """Temporal's SQLite file with its write-ahead log (WAL mode: recent pages live there)."""
        base = self.data_dir / "temporal.db"
        return sum(p.stat().st_size for p in (base, Path(f"{base}-wal")) if p.exists())

    def pid(self, piece: str) -> int | None:
        proc = self._process(piece)
        return None if proc is None else proc.pid


def rss_bytes(pid: int | None) -> int:
    """Resident memory of a process and its children."""
    import psutil

    if pid is None:
        return 0
    try:
        root = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
    except psutil.NoSuchProcess:
        return 0


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[^}"]|"(?:[^"\\]|\\.)*")*\})?\s+(\S+)')
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


class Metrics:
    """Prometheus text, as {name: [(labels, value)]}."""

    def __init__(self, samples: dict[str, list[tuple[dict[str, str], float]]]) -> None:
        self.samples = samples

    @classmethod
    def parse(cls, text: str) -> Metrics:
        samples: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
        for line in text.splitlines():
            m = _SAMPLE.match(line)
            if not m or line.startswith("#"):
                continue
            labels = dict(_LABEL.findall(m.group(2) or ""))
            try:
                samples[m.group(1)].append((labels, float(m.group(3))))
            except ValueError:
                continue
        return cls(dict(samples))

    def total(self, name: str, **match: str) -> float:
        """The sum of a metric's samples whose labels include `match`."""
        return sum(v for labels, v in self.samples.get(name, ()) if all(labels.get(k) == w for k, w in match.items()))

    def by(self, name: str, label: str, **match: str) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for labels, v in self.samples.get(name, ()):
            if all(labels.get(k) == w for k, w in match.items()):
                out[labels.get(label, "")] += v
        return dict(out)


def mean_ms_by(before: Metrics, after: Metrics, base: str, label: str, **match: str) -> dict[str, tuple[float, int]]:
    """Mean of a histogram between two scrapes, by one label: {value: (mean, count)}, the mean in
    the histogram's own unit (seconds, for the API's and the Temporal SDK's). `base` is its name
    without `_sum`/`_count`."""
    sums_a, sums_b = before.by(f"{base}_sum", label, **match), after.by(f"{base}_sum", label, **match)
    counts_a, counts_b = before.by(f"{base}_count", label, **match), after.by(f"{base}_count", label, **match)
    out = {}
    for key, count in counts_b.items():
        n = count - counts_a.get(key, 0.0)
        if n > 0:
            out[key] = ((sums_b.get(key, 0.0) - sums_a.get(key, 0.0)) / n, int(n))
    return out


def print_profiles(folder: Path, top: int = 25) -> None:
    """The functions that took the most time of each profiled piece (own time and with callees)."""
    import pstats

    for prof in sorted(folder.glob("*.prof")):
        print(f"\n--- {prof.stem}: the {top} functions with the most time of their own (cProfile, main thread) ---")
        try:
            stats = pstats.Stats(str(prof))
        except (EOFError, ValueError, TypeError):
            print(
                "(not written: the process was killed before it wrote its profile — on a busy machine the "
                "launcher's 20 s to stop may not be enough)"
            )
            continue
        stats.sort_stats("tottime").print_stats(top)


async def measure_ratio(client, api: str, n: int) -> tuple[float, float | None]:
    """The floor and `make bench`'s closed loop on this stack (after a warm-up): workflows/s and
    appeals/s. The closed loop sends 25 appeals at once: on a machine too busy to confirm an
    action within the API's 15 s, it gives up and says so (None) rather than end the run."""
    from bench.__main__ import run_appeals, run_floor

    await run_floor(client, 20, 10)
    floor = await run_floor(client, n, 25)
    try:
        await run_appeals(api, 20, 10)
        closed, _ = await run_appeals(api, n, 25)
    except RuntimeError as e:
        print(f"closed loop not measured: {e}"[:300])
        return floor, None
    return floor, closed


def ratio_line(floor: float, closed: float | None) -> str:
    if closed is None:
        return f"floor {floor:.1f} workflows/s; closed loop not measured (an action timed out)"
    return f"floor {floor:.1f} workflows/s; closed loop (make bench) {closed:.1f} appeals/s; ratio {closed / floor:.2f}"

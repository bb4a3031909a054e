"""The run: appeals flow through a private stack while its pieces are killed and restarted one
at a time, then every appeal is checked and a report printed.

Faults are spread over the appeals: fault k comes once (k+1)·N/(F+1) appeals have started and
the previous fault has recovered; new appeals wait for the fault before them, so each fault hits
a stack with appeals in flight at every step of their life.
"""

from __future__ import annotations

import asyncio
import math
import random
import secrets
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import Client

from chaos.check import check
from chaos.client import Log, RetryingClient
from chaos.life import KINDS, AppealRun, live
from chaos.stack import PIECES, ChaosStack
from db.users import DEMO_PASSWORD
from workflows.converter import DATA_CONVERTER

#: The kills come while one of these is in flight (when one comes within 10 s): the one action
#: the workflow accepts any number of times, so the one a duplicate shows on.
AIM_AT = "phased-report"


@dataclass
class Config:
    appeals: int = 200
    rounds: int = 2  # each round kills every piece once
    concurrency: int = 8
    hold: float = 2.0  # how long a killed piece stays down before it is started again
    recovery_timeout: float = 90.0  # a request kind not back by then is a failure
    seed: int | None = None
    data_dir: Path | None = None  # default: a new temporary folder, deleted after a clean run


@dataclass
class Fault:
    piece: str
    pid: int = 0
    killed_at: float = 0.0  # time.monotonic()
    ready_at: float | None = None
    recovery: dict[str, float | None] = field(default_factory=dict)  # kind → seconds; None: not back
    error: str | None = None

    @property
    def downtime(self) -> float | None:
        return None if self.ready_at is None else self.ready_at - self.killed_at


@dataclass
class Report:
    config: Config
    faults: list[Fault]
    runs: list[AppealRun]
    log: Log
    problems: list[str]
    seconds: float
    data_dir: Path

    @property
    def ok(self) -> bool:
        return not self.problems


async def run(config: Config, say=print) -> Report:
    seed = config.seed if config.seed is not None else secrets.randbelow(10**6)
    config.seed = seed
    order = _order(config.rounds, random.Random(seed))
    own_dir = config.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="jiesu-chaos-")) if own_dir else Path(config.data_dir)
    stack = ChaosStack(data_dir)
    log, faults, runs = Log(), [Fault(p) for p in order], []
    started = time.monotonic()
    problems: list[str] = []
    try:
        say(f"[chaos] starting a private stack in {data_dir}")
        await stack.start()
        http = RetryingClient(stack.api_url, log)
        try:
            tokens = await _login(http)
            workload = Workload(config, http, tokens, runs, len(faults))
            async with asyncio.TaskGroup() as tasks:  # one failing cancels the other
                tasks.create_task(workload.drive())
                tasks.create_task(_inject(config, stack, faults, workload, http, say))
        finally:
            await http.aclose()
        say("[chaos] checking every appeal")
        temporal = await Client.connect(
            stack.temporal_address, namespace=stack.stack.settings.temporal_namespace, data_converter=DATA_CONVERTER
        )
        problems = [f"fault {i + 1} ({f.piece}): {f.error}" for i, f in enumerate(faults) if f.error]
        problems += log.problems
        problems += await check(runs, stack.database_url, temporal, f"chaos-{workload.run_id}-")
    finally:
        say("[chaos] stopping the stack")
        stack.stop()
    report = Report(config, faults, runs, log, problems, time.monotonic() - started, data_dir)
    if own_dir and report.ok:
        shutil.rmtree(data_dir, ignore_errors=True)
    return report


def _order(rounds: int, rng: random.Random) -> list[str]:
    """Every piece once per round; the first round in the fixed order, later ones shuffled."""
    order = list(PIECES)
    for _ in range(rounds - 1):
        shuffled = list(PIECES)
        rng.shuffle(shuffled)
        order += shuffled
    return order[: 4 * rounds]


async def _login(http: RetryingClient) -> dict[str, dict]:
    tokens = {}
    for who, user in (("operator", "operator"), ("unit", "lighting")):
        answer = await http.request("login", "POST", "/auth/token", json={"username": user, "password": DEMO_PASSWORD})
        if answer.status != 200:
            raise RuntimeError(f"login {user}: {answer.status} {answer.body}")
        tokens[who] = {"Authorization": f"Bearer {answer.body['access_token']}"}
    return tokens


class Workload:
    """N appeals through `concurrency` lanes, their starts spread over the faults."""

    def __init__(self, config: Config, http: RetryingClient, tokens: dict, runs: list, faults: int) -> None:
        self.config, self.http, self.tokens, self.runs = config, http, tokens, runs
        n, f = config.appeals, faults
        self.thresholds = [math.ceil((k + 1) * n / (f + 1)) for k in range(f)]
        self.run_id = secrets.token_hex(3).translate(str.maketrans("0123456789", "ghijklmnop"))
        self.started = 0
        self.injected = 0
        self.changed = asyncio.Condition()
        self.done = asyncio.Event()

        self.faults_over = False
        self.aborted = False

    def may_start(self, index: int) -> bool:
        """Appeal `index` waits for every fault due `concurrency` appeals before it."""
        due = sum(1 for t in self.thresholds if t + self.config.concurrency <= index)
        return self.faults_over or self.injected >= due

    async def fault_injected(self) -> None:
        async with self.changed:
            self.injected += 1
            self.changed.notify_all()

    async def no_more_faults(self, *, abort: bool = False) -> None:
        """Nothing to wait for any more; on `abort` (a piece did not come back), no new appeals."""
        async with self.changed:
            self.faults_over = True
            self.aborted = self.aborted or abort
            self.changed.notify_all()

    async def drive(self) -> None:
        next_index = 0

        async def lane() -> None:
            nonlocal next_index
            while next_index < self.config.appeals and not self.aborted:
                index = next_index
                next_index += 1
                async with self.changed:
                    await self.changed.wait_for(lambda: self.may_start(index))
                    if self.aborted:
                        return
                    self.started += 1
                    self.changed.notify_all()
                self.runs.append(await live(self.http, self.tokens, index, self.run_id))

        try:
            await asyncio.gather(*(lane() for _ in range(self.config.concurrency)))
        finally:
            self.done.set()


async def _inject(config: Config, stack: ChaosStack, faults: list[Fault], workload: Workload, http: RetryingClient, say) -> None:
    try:
        await _inject_all(config, stack, faults, workload, http, say)
    except BaseException:
        await workload.no_more_faults(abort=True)
        raise
    await workload.no_more_faults(abort=any(f.ready_at is None for f in faults if f.pid))


async def _inject_all(
    config: Config, stack: ChaosStack, faults: list[Fault], workload: Workload, http: RetryingClient, say
) -> None:
    for k, fault in enumerate(faults):
        # the fault's turn: enough appeals started (bounded: a stuck workload does not stop the run)
        async with workload.changed:
            try:
                await asyncio.wait_for(
                    workload.changed.wait_for(lambda: workload.started >= workload.thresholds[k] or workload.done.is_set()),
                    timeout=300,
                )
            except TimeoutError:
                pass
        await _aim(http)
        fault.killed_at = time.monotonic()
        try:
            fault.pid = await asyncio.to_thread(stack.kill, fault.piece)
        except Exception as e:
            fault.error = f"could not kill it: {e}"
            await workload.fault_injected()
            continue
        say(f"[chaos] fault {k + 1}/{len(faults)}: killed the {fault.piece} (process group {fault.pid})")
        await workload.fault_injected()
        await asyncio.sleep(config.hold)
        try:
            await stack.restart(fault.piece)
            fault.ready_at = time.monotonic()
        except Exception as e:
            fault.error = f"did not start again: {e}"
            say(f"[chaos] the {fault.piece} did not start again: {e}")
            return  # the rest of the run cannot mean much; the lanes give up by their deadlines
        say(f"[chaos]   the {fault.piece} is back after {fault.downtime:.1f}s")
        await _await_recovery(config, fault, workload, http.log)


async def _aim(http: RetryingClient, kind: str = AIM_AT, timeout: float = 10) -> None:
    """Wait (a little) for a request of this kind to be in flight: a kill that loses its answer
    makes the client send it again, which is what the checks are for."""
    deadline = time.monotonic() + timeout
    while http.in_flight[kind] == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


async def _await_recovery(config: Config, fault: Fault, workload: Workload, log: Log) -> None:
    """Until a request of each kind, sent after the kill, succeeded (or the time is up)."""
    deadline = time.monotonic() + config.recovery_timeout
    while True:
        firsts = {kind: log.first_success(kind, fault.killed_at) for kind in KINDS}
        if all(v is not None for v in firsts.values()) or workload.done.is_set() or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    fault.recovery = {kind: None if t is None else t - fault.killed_at for kind, t in firsts.items()}
    stuck = [k for k, t in firsts.items() if t is None and log.tried_since(k, fault.killed_at)]
    if stuck and not workload.done.is_set():
        fault.error = f"{', '.join(stuck)} not answered successfully within {config.recovery_timeout:.0f}s of the kill"


def render(report: Report) -> str:
    c, log = report.config, report.log
    lines = [
        "",
        f"jiesu chaos — {c.appeals} appeals, {c.rounds} round(s) of faults ({len(report.faults)} kills), "
        f"concurrency {c.concurrency}, hold {c.hold:g}s, seed {c.seed}; {report.seconds:.0f}s",
        "",
        f"  {'#':>2}  {'killed':<9}{'down':>7}   recovery: first success after the kill, per request kind (s)",
        f"  {'':>2}  {'':<9}{'':>7}   " + "".join(f"{k:>15}" for k in KINDS),
    ]
    for i, f in enumerate(report.faults, 1):
        down = "—" if f.downtime is None else f"{f.downtime:.1f}s"
        cells = "".join(f"{'—' if f.recovery.get(k) is None else format(f.recovery[k], '.1f'):>15}" for k in KINDS)
        lines.append(f"  {i:>2}  {f.piece:<9}{down:>7}   {cells}")
    for piece in PIECES:
        worst = [max((v for v in f.recovery.values() if v is not None), default=None) for f in report.faults if f.piece == piece]
        worst = [w for w in worst if w is not None]
        if worst:
            lines.append(f"      {piece}: every kind back within {statistics.median(worst):.1f}s (median over its kills)")
    closed = sum(1 for r in report.runs if r.finished)
    outcomes = log.outcomes()
    lines += [
        "",
        f"  appeals {len(report.runs)} (through their whole life: {closed}); requests {log.requests}, "
        f"attempts {len(log.attempts)}, retries {log.retries}",
        "  statuses seen: " + ", ".join(f"{k} ×{v}" for k, v in sorted(outcomes.items())),
        f"  intakes answered before their dispatch (the unit waited for it): "
        f"{sum(1 for r in report.runs if r.dispatch_wait is not None)}",
        f"  409 after a retry (an earlier attempt applied): "
        f"{sum(1 for r in report.runs for s in r.steps if s.outcome == '409 after a retry')}",
        "",
    ]
    if report.ok:
        lines.append("  OK: every appeal has one workflow run, one row, a timeline 1..n without gaps or repeats, "
                     "and its row equals its workflow's state; no 500.")
    else:
        lines.append(f"  FAILED: {len(report.problems)} problem(s); data kept in {report.data_dir}")
        lines += [f"    - {p}" for p in report.problems[:50]]
        if len(report.problems) > 50:
            lines.append(f"    … and {len(report.problems) - 50} more")
    return "\n".join(lines) + "\n"

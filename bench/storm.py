"""`make bench-storm`: K limits falling due in the same minute (the 75 % reminders of a busy
morning, every appeal dispatched at the same time the day before), and staff acting meanwhile.
Measures the lag from each due time to its timeline event (`appeal_event`: the event's
`occurred_at`, the workflow's clock when it fired, and `recorded_at`, PostgreSQL's when the row
was written) and the latency of staff actions (an accept over HTTP) before and during the storm.

How the limits are made to fall due together without waiting a day. The workflow starts every
clock at its own `workflow.now()` when it dispatches (`domain.appeal.start_clock`), not at the
appeal's `received_at`, so an intake with a received time in the past would change nothing
(the API sets `received_at` itself, and the workflow only records it). What carries clocks
started in the past into a new run is the administrator's restart of an appeal whose workflow
ended (`infra.orphans.restart_appeal`): the new run carries on from the view last projected,
limits and all. So each storm appeal is:

1. recorded by the API's intake store (`db.appeals.record_intake`) with its received time D in
   the past — D chosen so that its contact limit's reminder (75 % of the policy's limit, hours)
   falls at the storm's minute;
2. projected as its first run would have projected it at D: the domain's own `open_appeal` and
   `start_clock` at D, the events numbered as the workflow numbers them, written by the
   projection activity's own code (`project_appeal`);
3. restarted by `restart_appeal`, which starts `AppealWorkflow` from that view.

The run then sleeps on its real timer until the reminder; nothing else is simulated.

Runs since the `spread-reminders` patch put each reminder off by its own share of up to half an
hour (`domain.core.reminder_at`: reminders are advisory, limits legal): the K reminders whose
points fall in the storm's minute fire over the half hour after it. The lag is measured from each
run's own alarm (the moment its timer was set for) to the timeline; the report also says how far
the spread moved them from their points.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import random
import time
from datetime import UTC, datetime, timedelta

import asyncpg
from temporalio.testing import ActivityEnvironment

from activities.appeals import AppealActivities, ProjectionInput
from analytics.intake import intake_writes
from bench.__main__ import cpu_seconds
from bench.fill import OPERATOR, PASSWORD, Filler, Place, staff
from bench.http import JsonClient
from bench.load import scrape_all
from bench.stack import BenchStack, Metrics, mean_ms_by, measure_ratio, ratio_line
from bench.stats import summary
from db import appeals as store
from db.pii import FIELDS
from db.reference import Directory
from domain import appeal as rules
from domain.messages import AppealInput, IntakeDecision, Terms
from domain.types import AppealType, Channel
from infra.orphans import restart_appeal
from infra.temporal import connect
from settings import Settings
from workflows.appeal import numbered

BY = "bench-storm"


class Storm:
    def __init__(self, stack: BenchStack, filler: Filler, client) -> None:
        self.stack, self.filler, self.client = stack, filler, client
        self.activities = AppealActivities(filler.engine, filler.settings)
        self.terms: dict[AppealType, Terms] = {}
        self.due: dict[str, tuple[datetime, str]] = {}  # appeal → (its timer's alarm, its unit)
        self.points: dict[str, datetime] = {}  # appeal → its reminder's point (75 %), before the spread
        self.directory: Directory | None = None  # the reference data, once loaded

    async def load_terms(self, appeal_type: AppealType) -> Terms:
        if appeal_type not in self.terms:
            env = ActivityEnvironment()
            env.info = dataclasses.replace(env.info, current_attempt_scheduled_time=datetime.now(UTC))
            self.terms[appeal_type] = await env.run(self.activities.load_terms, appeal_type)
        return self.terms[appeal_type]

    async def offset(self, place: Place, appeal_type: AppealType) -> timedelta:
        """From dispatch to the first alarm (the contact reminder) for this kind of appeal; the
        same whatever the dispatch time only when the limit is counted in hours — checked."""
        terms = await self.load_terms(appeal_type)
        offsets = set()
        for probe in (datetime(2026, 3, 2, 9, tzinfo=UTC), datetime(2026, 3, 7, 15, 30, tzinfo=UTC)):
            view, _ = rules.open_appeal(self.input("BJ-PROBE", place, appeal_type, probe), probe, terms)
            rules.start_clock(view, place.unit, probe, terms)
            alarm = rules.next_alarm(view, terms)
            assert alarm is not None
            offsets.add(alarm.at - probe)
        if len(offsets) != 1:
            raise RuntimeError(f"the first alarm of a {appeal_type} depends on the hour of dispatch: {offsets}")
        return offsets.pop()

    def input(self, no: str, place: Place, appeal_type: AppealType, at: datetime) -> AppealInput:
        return AppealInput(
            appeal_no=no,
            channel=Channel.PHONE,
            appeal_type=appeal_type,
            category=place.category,
            urgency=self.directory.categories[place.category].default_urgency,
            district=place.district,
            street=place.street,
            received_at=at,
            decision=IntakeDecision.DISPATCH,
            unit=place.unit,
            unit_from_catalogue=True,
            operator=OPERATOR,
        )

    async def one(self, i: int, fire_at: datetime, appeal_type: AppealType, offset: timedelta) -> None:
        place = self.filler.places[i % len(self.filler.places)]
        dispatched = fire_at - offset
        body = self.filler.body(place, i)
        details = store.IntakeDetails(
            content=body.content,
            location_address=body.location.address,
            latitude=None,
            longitude=None,
            attachments=[],
            origin_hotline=None,
            origin_no=None,
            contact=store.ContactDetails(
                **{f: self.filler.sealer.seal(v) if f in FIELDS else v for f, v in body.citizen.model_dump().items()}
            ),
        )
        row, _ = await store.record_intake(
            engine=self.filler.engine,
            build_input=lambda no: self.input(no, place, appeal_type, dispatched),
            details=details,
            received_at=dispatched,
            idempotency_key=None,
            request_fingerprint=store.fingerprint(body.model_dump(mode="json")),
            also=await intake_writes(body.content),
        )
        inp = self.input(row.appeal_no, place, appeal_type, dispatched)
        terms = await self.load_terms(appeal_type)
        view, drafts = rules.open_appeal(inp, dispatched, terms)
        rules.start_clock(view, place.unit, dispatched, terms)
        drafts.append(rules.intake_dispatched_draft(view, inp))
        events, notices = numbered(view, drafts, dispatched)
        point = rules.next_alarm(view, terms)
        assert point is not None and abs((point.at - fire_at).total_seconds()) < 1, (point, fire_at)
        alarm = rules.next_alarm(view, terms, spread=True)  # what the new run's timer is set for
        assert alarm is not None and alarm.name == point.name
        await self.activities.project_appeal(ProjectionInput(view=view, events=events, notifications=notices))
        await restart_appeal(
            self.filler.engine, self.client, self.filler.settings.temporal_task_queue, row.appeal_no, by=BY
        )
        self.due[row.appeal_no] = (alarm.at, place.unit)
        self.points[row.appeal_no] = fire_at

    async def fill(self, k: int, at: datetime, spread: float, concurrency: int, appeal_type: AppealType) -> float:
        offsets = {p.unit: await self.offset(p, appeal_type) for p in self.filler.places}
        rng = random.Random(k)
        queue = iter(range(k))
        started = time.perf_counter()

        async def worker() -> None:
            for i in queue:
                place = self.filler.places[i % len(self.filler.places)]
                fire_at = at + timedelta(seconds=rng.uniform(0, spread))
                try:
                    await self.one(i, fire_at, appeal_type, offsets[place.unit])
                except Exception as e:
                    if asyncio.current_task().cancelling():  # Ctrl-C: the SDK reports it as its own error
                        raise
                    print(f"  storm appeal #{i}: {type(e).__name__}: {e}"[:300])

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return k / (time.perf_counter() - started)

    async def recorded(self) -> list[tuple[str, datetime, datetime]]:
        conn = await asyncpg.connect(self.stack.database_url.replace("+asyncpg", ""))
        try:
            rows = await conn.fetch(
                "SELECT appeal_no, occurred_at, recorded_at, detail->>'limit' AS what FROM appeal_event "
                "WHERE kind = 'reminder' AND appeal_no = ANY($1::text[])",
                list(self.due),
            )
        finally:
            await conn.close()
        return [(r["appeal_no"], r["occurred_at"], r["recorded_at"], r["what"]) for r in rows]


@dataclasses.dataclass
class Sample:
    """One reading of the stack during the storm: when, its metrics, the CPU each piece had used."""

    at: float  # epoch seconds
    metrics: dict[str, Metrics]
    cpu: dict[str, float]


async def watch(stack: BenchStack, every: float, until: asyncio.Event) -> list[Sample]:
    """The stack's metrics and CPU every `every` seconds until told (and once more then), to
    say minute by minute where the time went."""
    samples: list[Sample] = []
    while True:
        samples.append(Sample(time.time(), await scrape_all(stack), cpu_seconds(stack.stack, stack.floor_worker)))
        if until.is_set():
            return samples
        try:
            await asyncio.wait_for(until.wait(), timeout=every)
        except TimeoutError:
            pass


async def probe_actions(api: str, storm: Storm, until: asyncio.Event, rate: float) -> list[tuple[float, float, bool]]:
    """Accepts of random storm appeals over HTTP, `rate` a second, open loop, until told:
    (when sent, ms, ok)."""
    tokens = {}
    async with JsonClient(api) as http:
        for place in storm.filler.places:
            status, answer = await http.post("/auth/token", {"username": staff(place.unit).user, "password": PASSWORD})
            if status != 200:
                raise RuntimeError(f"login: {status} {answer}")
            tokens[place.unit] = {"Authorization": f"Bearer {answer['access_token']}"}
        todo = list(storm.due.items())
        random.Random(1).shuffle(todo)
        results: list[tuple[float, float, bool]] = []

        async def accept(no: str, unit: str) -> None:
            t = time.time()
            try:
                async with asyncio.timeout(60):
                    status, _ = await http.post(f"/appeals/{no}/accept", {}, tokens[unit])
            except (TimeoutError, OSError):
                status = 599
            results.append((t, (time.time() - t) * 1000, status == 200))

        tasks = []
        while not until.is_set() and todo:
            no, (_, unit) = todo.pop()
            tasks.append(asyncio.create_task(accept(no, unit)))
            await asyncio.sleep(random.expovariate(rate))
        await asyncio.gather(*tasks)
    return results


async def main(args: argparse.Namespace) -> None:
    env = {"INTAKE_RATE_PER_MINUTE": "1000000"}
    if args.worker_slots:
        env["WORKER_WORKFLOW_TASK_SLOTS"] = str(args.worker_slots)
    stack = BenchStack("jiesu-bench-storm-", extra_env=env)
    os.environ["JIESU_DATA_DIR"] = str(stack.data_dir)  # cpu_seconds finds this stack's PostgreSQL by it
    filler = None
    try:
        await stack.start(floor=True)
        client = await connect(Settings(temporal_address=stack.temporal_address))
        floor, closed = await measure_ratio(client, stack.api_url, args.ratio_n)
        print("\n" + ratio_line(floor, closed), flush=True)
        filler = Filler(stack.database_url, client, seed=args.seed)
        await filler.prepare()
        storm = Storm(stack, filler, client)
        storm.directory = await filler.directories.get()
        appeal_type = AppealType(args.appeal_type)
        # the fill's pace, on a few appeals whose reminders fall a day later (outside the storm)
        t = time.perf_counter()
        probe_at = datetime.now(UTC) + timedelta(days=1)
        await storm.fill(min(60, args.k), probe_at, 60, args.concurrency, appeal_type)
        pace = min(60, args.k) / (time.perf_counter() - t)
        storm.due.clear()
        storm.points.clear()
        lead = args.lead if args.lead is not None else args.k / pace * 1.4 + 60
        at = (datetime.now(UTC) + timedelta(seconds=lead)).replace(microsecond=0)
        print(
            f"filling {args.k:,} appeals at about {pace:.1f}/s; their reminders fall due from "
            f"{at.isoformat()} over {args.spread:g} s",
            flush=True,
        )
        rate = await storm.fill(args.k, at, args.spread, args.concurrency, appeal_type)
        left = (at - datetime.now(UTC)).total_seconds()
        print(f"filled at {rate:.1f}/s; {left:.0f} s before the storm", flush=True)
        if left < 0:
            print(
                "  note: the fill ran past the storm's start: the earliest alarms were already due when their "
                "runs started (their lag counts that)"
            )
        # staff act from 20 s before the storm until every reminder is on the timeline
        stop = asyncio.Event()
        await asyncio.sleep(max(0.0, left - 20))
        prober = asyncio.create_task(probe_actions(stack.api_url, storm, stop, args.action_rate))
        watcher = asyncio.create_task(watch(stack, args.every, stop))
        last = max(due for due, _ in storm.due.values())
        deadline = time.monotonic() + max(0.0, (last - datetime.now(UTC)).total_seconds()) + args.timeout
        seen: list = []
        while time.monotonic() < deadline:
            await asyncio.sleep(2)
            seen = await storm.recorded()
            if len({no for no, *_ in seen}) >= len(storm.due):
                break
        stop.set()
        actions = await prober
        report(storm, seen, actions, at, args, floor, closed)
        print_intervals(await watcher, seen, actions, at)
    finally:
        if filler is not None:
            await filler.close()
        stack.stop()


def report(storm: Storm, seen, actions, at: datetime, args, floor: float, closed: float | None) -> None:
    fired = [(o - storm.due[no][0]).total_seconds() for no, o, _, _ in seen]
    written = [(r - storm.due[no][0]).total_seconds() for no, _, r, _ in seen]
    limits: dict[str, int] = {}
    for *_, what in seen:
        limits[what] = limits.get(what, 0) + 1
    before = [ms for t, ms, ok in actions if ok and t < at.timestamp()]
    during = [ms for t, ms, ok in actions if ok and t >= at.timestamp()]
    failed = sum(1 for *_, ok in actions if not ok)
    put_off = [(due - storm.points[no]).total_seconds() / 60 for no, (due, _) in storm.due.items()]
    alarms = sorted(due for due, _ in storm.due.values())
    print()
    print(
        f"jiesu timer storm — {os.cpu_count()} CPUs; {len(storm.due):,} reminders whose points fall within {args.spread:g} s "
        f"from {at.isoformat()}; {ratio_line(floor, closed)}; worker's workflow-task slots "
        f"{args.worker_slots or 'default (100)'}"
    )
    print(
        f"  on the timeline: {len({no for no, *_ in seen}):,} of {len(storm.due):,} appeals reminded, {len(seen):,} "
        "reminder events (" + ", ".join(f"{k} {v:,}" for k, v in sorted(limits.items())) + "; a limit whose "
        "policy gives contact and completion the same hours reminds of both at once)"
    )
    if alarms:
        s = summary(put_off)
        print(
            f"  spread: their points fall within {args.spread:g} s; their timers within "
            f"{(alarms[-1] - alarms[0]).total_seconds() / 60:.1f} min (put off p50 {s['p50']:.1f} min, max "
            f"{s['max']:.1f} min; reminders are advisory, limits never move); the busiest minute has "
            f"{busiest_minute(alarms):,} timers"
        )
    for name, lags in (("due → fired (occurred_at)", fired), ("due → written (recorded_at)", written)):
        s = summary(lags)
        print(
            f"  lag {name:<28} p50 {s['p50']:6.1f} s  p99 {s['p99']:6.1f} s  max {s['max']:6.1f} s   target p99 < 60 s"
        )
    for name, ms in (("before the storm", before), ("during the storm", during)):
        s = summary(ms)
        print(
            f"  accepts {name:<18} p50 {s['p50']:6.0f} ms  p95 {s['p95']:6.0f} ms  p99 {s['p99']:6.0f} ms  "
            f"max {s['max']:6.0f} ms  ({int(s['n'])} calls)   target p99 < 300 ms"
        )
    if failed:
        print(f"  {failed} accepts failed")


def print_intervals(samples: list[Sample], seen, actions, at: datetime) -> None:
    """Interval by interval: the timers that fired, the accepts sent and how long they took,
    and where the time went (the worker's workflow tasks: waiting to be taken and executing;
    its cache; the API's updates; the cores each piece kept busy)."""
    if len(samples) < 2:
        return
    fired = sorted(o.timestamp() for _, o, _, _ in seen)
    print(
        "\n  where the time went, interval by interval (minutes from the storm's first point; wft: the worker's workflow "
        "tasks, their wait to be taken and their execution, means; update: the API's UpdateWorkflowExecution, "
        "mean; cores busy of " + str(os.cpu_count()) + ")"
    )
    start = at.timestamp()
    for a, b in zip(samples, samples[1:], strict=False):
        timers = sum(1 for t in fired if a.at <= t < b.at)
        sent = [(ms, ok) for t, ms, ok in actions if a.at <= t < b.at]
        ok_ms = [ms for ms, ok in sent if ok]
        s = summary(ok_ms)
        wait = _mean(
            a.metrics["worker-sdk"], b.metrics["worker-sdk"], "temporal_workflow_task_schedule_to_start_latency"
        )
        run = _mean(a.metrics["worker-sdk"], b.metrics["worker-sdk"], "temporal_workflow_task_execution_latency")
        update = mean_ms_by(a.metrics["api-sdk"], b.metrics["api-sdk"], "temporal_request_latency", "operation").get(
            "UpdateWorkflowExecution", (0.0, 0)
        )[0]
        hits = _delta(a.metrics["worker-sdk"], b.metrics["worker-sdk"], "temporal_sticky_cache_hit")
        misses = _delta(a.metrics["worker-sdk"], b.metrics["worker-sdk"], "temporal_sticky_cache_miss")
        cores = {k: (b.cpu.get(k, 0.0) - a.cpu.get(k, 0.0)) / (b.at - a.at) for k in b.cpu}
        print(
            f"  {(a.at - start) / 60:5.1f} to {(b.at - start) / 60:4.1f} min: {timers / (b.at - a.at):5.1f} timers/s; "
            f"accepts {len(sent):3} p50 {s['p50']:6.0f} ms p99 {s['p99']:6.0f} ms"
            + (f" ({len(sent) - len(ok_ms)} failed)" if len(ok_ms) < len(sent) else "")
            + f"; wft wait {wait * 1000:6.0f} ms, run {run * 1000:5.0f} ms; update {update * 1000:6.0f} ms; "
            f"cache hits {hits / (hits + misses) if hits + misses else 0:4.0%}; cores "
            + ", ".join(f"{k} {v:.2f}" for k, v in sorted(cores.items(), key=lambda kv: -kv[1]) if v >= 0.05)
        )


def _delta(before: Metrics, after: Metrics, name: str) -> float:
    return after.total(name) - before.total(name)


def _mean(before: Metrics, after: Metrics, base: str) -> float:
    """A histogram's mean between two scrapes, whatever its labels (0 when nothing was recorded)."""
    n = _delta(before, after, f"{base}_count")
    return _delta(before, after, f"{base}_sum") / n if n else 0.0


def busiest_minute(times: list[datetime]) -> int:
    """The most of `times` (sorted) within any 60 s."""
    best, j = 0, 0
    for i, t in enumerate(times):
        while (t - times[j]).total_seconds() >= 60:
            j += 1
        best = max(best, i - j + 1)
    return best


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-k", type=int, default=20_000, help="limits falling due together (default 20,000)")
    parser.add_argument("--spread", type=float, default=60, help="seconds over which they fall due (default 60)")
    parser.add_argument("--appeal-type", default="complaint", help="the policy whose contact limit is used")
    parser.add_argument("-c", "--concurrency", type=int, default=16)
    parser.add_argument("--action-rate", type=float, default=2.0, help="staff accepts per second meanwhile")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the last event")
    parser.add_argument(
        "--lead",
        type=float,
        default=None,
        help="seconds from the start of the fill to the storm (default: from its pace)",
    )
    parser.add_argument("--ratio-n", type=int, default=100)
    parser.add_argument(
        "--every", type=float, default=60, help="seconds between readings of where the time went (default 60)"
    )
    parser.add_argument(
        "--worker-slots",
        type=int,
        default=None,
        help="the worker's WORKER_WORKFLOW_TASK_SLOTS (default: the setting's)",
    )
    parser.add_argument("--seed", type=int, default=18)
    asyncio.run(main(parser.parse_args()))

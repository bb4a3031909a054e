"""Prometheus metrics of jiesu's own processes (prometheus_client's default registry).

Three kinds:

- **HTTP**: `jiesu_http_requests_total{method, route, status}` and
  `jiesu_http_request_duration_seconds{method, route}`, by the matched route's template
  (`/appeals/{appeal_no}`), never the raw path: one series per route, not per appeal.
- **Domain gauges** an ops room watches, read from PostgreSQL's projections by a few aggregate
  queries every `METRICS_REFRESH_SECONDS` (`DomainGauges.refresh`) and served from that snapshot
  at scrape time, so a scrape never waits for the database and a label that disappears (a
  district with no overdue order left) disappears from the output too. Labels stay bounded:
  status (11), district (16), and unit only for units holding overdue or supervised orders.
- **Worker loops**: reconciliation rounds by result.

The Temporal SDK's own metrics (`temporal_…`) are served by the SDK's Rust core on their own
port (`sdk_runtime`); `SDK_METRICS` lists the ones the dashboard and alerts use.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa
from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.messages import OPEN_ORDER_STATUSES, OPEN_PARTS
from notify.relay import MAX_ATTEMPTS

log = logging.getLogger("jiesu.metrics")

NONE = "none"  # the label value of a missing district or unit (an order not yet routed)

# --- HTTP ------------------------------------------------------------------------------------

HTTP_REQUESTS = Counter(
    "jiesu_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "jiesu_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

# --- worker loops ----------------------------------------------------------------------------

RECONCILE_ROUNDS = Counter(
    "jiesu_reconcile_rounds",
    "Rounds of the worker's reconciler (lost starts, ended workflows), by result (ok | failed).",
    ["result"],
)

# --- domain gauges ---------------------------------------------------------------------------

_OPEN = sa.text(
    "SELECT status, coalesce(district_code, :none) AS district, count(*) AS n "
    "FROM appeal WHERE status IN :open GROUP BY 1, 2"
).bindparams(sa.bindparam("open", expanding=True))

_FLAGGED = sa.text(
    "SELECT coalesce(district_code, :none) AS district, coalesce(handling_unit_code, :none) AS unit, "
    "count(*) FILTER (WHERE overdue) AS overdue, count(*) FILTER (WHERE supervised) AS supervised "
    "FROM appeal WHERE status IN :open AND (overdue OR supervised) GROUP BY 1, 2"
).bindparams(sa.bindparam("open", expanding=True))

_SCALARS = sa.text(
    "SELECT "
    " (SELECT count(*) FROM appeal_event WHERE kind = 'limit_missed' "
    "   AND occurred_at > now() - interval '1 hour') AS appeal_limits_missed,"
    " (SELECT count(*) FROM appeal_event WHERE kind = 'part_limit_missed' "
    "   AND occurred_at > now() - interval '1 hour') AS part_limits_missed,"
    " (SELECT count(*) FROM appeal_part WHERE overdue AND status IN :open_parts) AS parts_overdue,"
    " (SELECT count(*) FROM notification_outbox WHERE delivered_at IS NULL AND attempts < :max) AS outbox_waiting,"
    " (SELECT count(*) FROM notification_outbox WHERE delivered_at IS NULL AND attempts > 0 "
    "   AND attempts < :max) AS outbox_retrying,"
    " (SELECT count(*) FROM notification_outbox WHERE delivered_at IS NULL AND attempts >= :max) AS outbox_failed,"
    " (SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM notification_outbox "
    "   WHERE delivered_at IS NULL AND attempts < :max) AS outbox_oldest_s,"
    " (SELECT count(*) FROM appeal WHERE projection_failed_at IS NOT NULL) AS projection_failures,"
    " (SELECT count(*) FROM appeal WHERE workflow_ended IS NOT NULL) AS workflows_ended"
).bindparams(sa.bindparam("open_parts", expanding=True))


@dataclass
class Snapshot:
    """The domain gauges' values at one refresh."""

    open: dict[tuple[str, str], int] = field(default_factory=dict)  # (status, district) -> n
    overdue: dict[tuple[str, str], int] = field(default_factory=dict)  # (district, unit) -> n
    supervised: dict[tuple[str, str], int] = field(default_factory=dict)  # (district, unit) -> n
    scalars: dict[str, float] = field(default_factory=dict)
    at: float = 0.0  # Unix time of the refresh; 0 before the first


async def read_snapshot(engine: AsyncEngine) -> Snapshot:
    """Three aggregate queries over the projections, in one read-only transaction."""
    snap = Snapshot()
    async with engine.connect() as conn:
        for status, district, n in await conn.execute(_OPEN, {"none": NONE, "open": list(OPEN_ORDER_STATUSES)}):
            snap.open[(status, district)] = n
        rows = await conn.execute(_FLAGGED, {"none": NONE, "open": list(OPEN_ORDER_STATUSES)})
        for district, unit, overdue, supervised in rows:
            if overdue:
                snap.overdue[(district, unit)] = overdue
            if supervised:
                snap.supervised[(district, unit)] = supervised
        row = (await conn.execute(
            _SCALARS, {"open_parts": [p.value for p in OPEN_PARTS], "max": MAX_ATTEMPTS}
        )).mappings().one()
        snap.scalars = {key: float(value) for key, value in row.items()}
    snap.at = time.time()
    return snap


def _gauge(name: str, doc: str, labels: list[str], values: dict[tuple[str, ...], float]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for key, value in sorted(values.items()):
        family.add_metric(list(key), value)
    return family


class DomainGauges(Collector):
    """Serves the last snapshot; `run` refreshes it. One per process (registered once): every
    app in the process writes the same database's figures into it."""

    def __init__(self) -> None:
        self.snapshot = Snapshot()
        self.failures = 0

    async def refresh(self, engine: AsyncEngine) -> None:
        try:
            self.snapshot = await read_snapshot(engine)
        except Exception:  # PostgreSQL away: keep serving the last figures, say they are old
            self.failures += 1
            log.warning("could not refresh the domain metrics", exc_info=True)

    async def run(self, engine: AsyncEngine, every_s: float) -> None:
        while True:
            await self.refresh(engine)
            await asyncio.sleep(every_s)

    def describe(self) -> Iterable[Metric]:
        return list(_families(Snapshot(at=1.0, scalars=dict.fromkeys(_SCALAR_KEYS, 0.0)), 0))

    def collect(self) -> Iterator[Metric]:
        return _families(self.snapshot, self.failures)


_SCALAR_KEYS = (
    "appeal_limits_missed", "part_limits_missed", "parts_overdue", "outbox_waiting", "outbox_retrying",
    "outbox_failed", "outbox_oldest_s", "projection_failures", "workflows_ended",
)


def _families(s: Snapshot, failures: int) -> Iterator[Metric]:
    yield CounterMetricFamily(
        "jiesu_domain_metrics_refresh_failures",
        "Refreshes of the domain gauges that failed (PostgreSQL unreachable).",
        value=failures,
    )
    if not s.at:
        return  # no figures yet: nothing rather than zeros that look true
    yield GaugeMetricFamily(
        "jiesu_domain_metrics_refreshed_timestamp_seconds",
        "When the domain gauges were last read from PostgreSQL (Unix time).",
        value=s.at,
    )
    yield _gauge("jiesu_appeals_open", "Open orders (not closed, not answered on the spot), by status and district.",
                 ["status", "district"], s.open)
    yield _gauge("jiesu_appeals_overdue", "Open orders past a running limit, by district and handling unit.",
                 ["district", "unit"], s.overdue)
    yield _gauge("jiesu_appeals_supervised", "Open orders escalated to supervision (督办), by district and handling unit.",
                 ["district", "unit"], s.supervised)
    v = s.scalars
    yield _gauge("jiesu_limits_missed_last_hour", "Time limits missed in the last hour, of orders and of their parts.",
                 ["scope"], {("appeal",): v["appeal_limits_missed"], ("part",): v["part_limits_missed"]})
    for name, key, doc in (
        ("jiesu_parts_overdue", "parts_overdue", "Open co-handling and whistle parts past their limit."),
        ("jiesu_outbox_waiting", "outbox_waiting", "Notifications not yet delivered and still tried."),
        ("jiesu_outbox_retrying", "outbox_retrying", "Notifications waiting after at least one failed attempt."),
        ("jiesu_outbox_failed", "outbox_failed", "Notifications given up on (no longer tried; see last_error)."),
        ("jiesu_outbox_oldest_waiting_seconds", "outbox_oldest_s",
         "Age of the oldest notification still waiting; 0 when none waits."),
        ("jiesu_projection_failures", "projection_failures",
         "Appeals whose last projection PostgreSQL refused (the row lags its workflow)."),
        ("jiesu_workflows_ended_open", "workflows_ended",
         "Open appeals whose workflow ended (terminated, failed): nothing escalates them."),
    ):
        yield GaugeMetricFamily(name, doc, value=v[key])


DOMAIN = DomainGauges()
REGISTRY.register(DOMAIN)

#: The Temporal SDK metrics (served by the SDK's own endpoint, prefix `temporal_`) that the
#: dashboard and the alert rules use; tests/test_dashboard.py checks the SDK really serves them.
SDK_METRICS = frozenset({
    "temporal_workflow_task_execution_failed",
    "temporal_workflow_task_schedule_to_start_latency",
    "temporal_activity_schedule_to_start_latency",
    "temporal_activity_execution_failed",
    "temporal_worker_task_slots_available",
    "temporal_worker_task_slots_used",
    "temporal_workflow_failed",
})


def exported_names(registry=REGISTRY) -> set[str]:
    """Every sample name this process's registry can serve (histograms' _bucket, _sum, _count,
    counters' _total), for checking dashboards against."""
    names = set()
    for metric in [*registry.collect(), *DOMAIN.describe()]:
        names.add(metric.name)
        for sample in metric.samples:
            names.add(sample.name)
        if metric.type == "histogram":
            names |= {f"{metric.name}_{s}" for s in ("bucket", "sum", "count")}
        if metric.type == "counter":
            names |= {f"{metric.name}_total", f"{metric.name}_created"}
    return names

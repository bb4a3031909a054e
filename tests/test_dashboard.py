"""The Grafana dashboard and the Prometheus alert rules (deploy/) ask only for metrics the code
exports: a renamed metric would otherwise show as an empty panel, and an alert on it would never
fire.

jiesu's own names come from prometheus_client's registry (infra.metrics); the Temporal SDK's
from `SDK_METRICS`, which a worker on a runtime with the SDK's Prometheus endpoint is checked
to really serve.
"""

from __future__ import annotations

import asyncio
import json
import re
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from temporalio import activity, workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.worker import Worker

from devstack.ports import free_port
from infra.metrics import SDK_METRICS, exported_names
from infra.temporal import sdk_runtime
from settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "deploy/grafana/dashboards/jiesu.json"
ALERTS = ROOT / "deploy/prometheus/alerts.yml"

#: Series Prometheus makes itself for every target.
PROMETHEUS_OWN = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
#: PromQL's words that are not metric names (functions are recognised by their "(").
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or",
            "unless", "inf", "nan"}


def dashboard_queries() -> list[str]:
    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str):
                yield node["expr"]
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    return list(walk(json.loads(DASHBOARD.read_text(encoding="utf-8"))))


def alert_rules() -> list[dict]:
    return [rule for group in yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"] for rule in group["rules"]]


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges, subqueries
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)  # label lists
    expr = re.sub(r"\boffset\s+\w+", "", expr)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", expr):
        if expr[match.end():].lstrip().startswith("("):
            continue  # a function or an aggregation
        if match.group().lower() in KEYWORDS or expr[match.start() - 1:match.start()].isdigit():
            continue  # a keyword, or the unit of a number (5m)
        names.add(match.group())
    return names


def test_metric_names_are_read_from_promql():
    assert metric_names('histogram_quantile(0.95, sum by (le, route) (rate(a_bucket{route!~"/x"}[5m])))') == {"a_bucket"}
    assert metric_names("sum(max without (instance) (b)) - sum(b offset 1h) > 2 * c") == {"b", "c"}


def known_names() -> set[str]:
    sdk = {f"{name}{suffix}" for name in SDK_METRICS for suffix in ("", "_bucket", "_sum", "_count")}
    return exported_names() | sdk | PROMETHEUS_OWN


def test_dashboard_queries_name_exported_metrics():
    queries = dashboard_queries()
    assert len(queries) >= 10, "the dashboard has lost its panels"
    unknown = {q: names for q in queries if (names := metric_names(q) - known_names())}
    assert not unknown, unknown


def test_alert_rules_name_exported_metrics():
    rules = alert_rules()
    wanted = {"WorkflowTaskFailures", "OverdueSpike", "OutboxStuck", "ProjectionFailures", "Api5xx"}
    assert wanted <= {rule["alert"] for rule in rules}
    unknown = {rule["alert"]: names for rule in rules if (names := metric_names(rule["expr"]) - known_names())}
    assert not unknown, unknown
    for rule in rules:
        assert rule["labels"]["severity"] in ("page", "ticket"), rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]


def test_dashboard_covers_what_the_ops_room_watches():
    names = set().union(*map(metric_names, dashboard_queries()))
    for needed in ("jiesu_http_requests_total", "jiesu_http_request_duration_seconds_bucket", "jiesu_appeals_open",
                   "jiesu_appeals_overdue", "jiesu_outbox_waiting", "temporal_worker_task_slots_available",
                   "temporal_workflow_task_schedule_to_start_latency_bucket"):
        assert needed in names, needed


# --- the SDK's endpoint serves the names used --------------------------------------------------


@activity.defn(name="metrics_probe_fails")
async def fails() -> None:
    raise RuntimeError("an activity failure, for the metric")


@workflow.defn(name="MetricsProbe", sandboxed=False)
class Probe:
    @workflow.run
    async def run(self, task_fails: bool) -> None:
        if task_fails:
            raise RuntimeError("a workflow task failure, for the metric")  # retried, never fails the workflow
        await workflow.execute_activity(
            fails, start_to_close_timeout=timedelta(seconds=5), retry_policy=RetryPolicy(maximum_attempts=1)
        )


def scrape(port: int) -> set[str]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}


async def test_the_sdk_serves_the_metrics_the_dashboard_uses(dev_env):
    port = free_port()
    runtime = sdk_runtime(Settings(metrics_host="127.0.0.1"), port)
    assert runtime is not None
    client = await Client.connect(dev_env.client.service_client.config.target_host,
                                  namespace=dev_env.client.namespace, runtime=runtime)
    queue = f"metrics-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[Probe], activities=[fails]):
        with pytest.raises(WorkflowFailureError):
            await client.execute_workflow(Probe.run, False, id=f"probe-{queue}", task_queue=queue)
        failing = await client.start_workflow(Probe.run, True, id=f"probe-task-{queue}", task_queue=queue)
        served: set[str] = set()
        for _ in range(50):
            served = scrape(port)
            if {f"{n}_bucket" if n.endswith("latency") else n for n in SDK_METRICS} <= served:
                break
            await asyncio.sleep(0.2)
        await failing.terminate("probe done")
    missing = {n for n in SDK_METRICS if n not in served and f"{n}_bucket" not in served}
    assert not missing, f"the SDK does not serve {missing}; it serves {sorted(s for s in served if 'temporal' in s)}"


def test_prometheus_scrapes_where_the_processes_serve():
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text(encoding="utf-8"))
    targets = {t for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
    defaults = Settings()
    assert {"api:8000", f"worker:{defaults.metrics_port}", f"worker:{defaults.temporal_metrics_port}",
            f"api:{defaults.api_temporal_metrics_port}"} <= targets
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
    assert compose["api"]["environment"]["METRICS_HOST"] == "0.0.0.0"  # reachable from prometheus
    mounted = {v.split(":")[1] for v in compose["prometheus"]["volumes"] if v.startswith("./")}
    assert set(config["rule_files"]) <= mounted

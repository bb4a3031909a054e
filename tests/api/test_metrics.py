"""`/metrics` after a small scenario through the API: the domain gauges an ops room watches move
with the projections, the route metrics are by template; and the API's log lines are JSON
carrying the request id, never the citizen's data.

The database is the session's, shared with other tests: the gauges are checked as changes
from a scrape before the scenario, on labels the scenario moves.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time

import pytest
import pytest_asyncio
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from api.main import create_app
from infra import logging as logs
from notify.relay import MAX_ATTEMPTS
from tests.api.conftest import serve
from tests.api.test_appeals_e2e import LIU, intake, street_lights, wait_for
from tests.conftest import settings_for

pytestmark = pytest.mark.usefixtures("appeal_worker")


@pytest_asyncio.fixture(scope="module")
async def fast_api(db_url, engine, dev_env):
    """The app with its domain gauges re-read every 0.2 s (15 s by default)."""
    async with serve(create_app(settings_for(db_url, metrics_refresh_seconds=0.2), engine=engine,
                                temporal=dev_env.client)) as client:
        yield client


async def scrape(api) -> dict[tuple[str, frozenset], float]:
    r = await api.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def settled(api, check, timeout: float = 15.0):
    """Scrape until `check(samples)` holds (the gauges follow PostgreSQL within a refresh)."""
    deadline = time.monotonic() + timeout
    while True:
        samples = await scrape(api)
        if check(samples):
            return samples
        assert time.monotonic() < deadline, "the gauges did not get there"
        await asyncio.sleep(0.2)


PLACE = "110111"  # 房山区


async def test_domain_gauges_follow_the_projections(fast_api, tokens, engine):
    api = fast_api
    before = await settled(api, lambda s: value(s, "jiesu_domain_metrics_refreshed_timestamp_seconds") > 0)
    # a district no other test files appeals in: its figures move only with this test's appeal
    # (the outbox, missed limits and projection failures are city-wide: other tests' appeals may
    # add to them meanwhile, so those are checked to move at least as this test moves them)
    dispatched = value(before, "jiesu_appeals_open", status="dispatched", district=PLACE)

    body = await intake(api, tokens, street_lights(content="metrics: 路灯不亮",
                                                   location={"street": "110111-LIANGXIANG", "address": "良乡"}))
    no = body["appeal"]["appeal_no"]
    await wait_for(api, tokens["op"], no, lambda b: b["status"] == "dispatched")
    before = await settled(api, lambda s: value(s, "jiesu_appeals_open", status="dispatched", district=PLACE)
                           == dispatched + 1)

    # the projection's flags as the workflow sets them on a missed limit (a minute at least on
    # the real clock): overdue, supervised, a limit_missed event, a refused projection; and two
    # notifications, one waiting, one given up on (from here on, against the figures with the
    # dispatch projected: it wrote the unit's notification into the outbox)
    unit = dict(district=PLACE, unit="BJ-LIGHTING")
    overdue, supervised = (value(before, f"jiesu_appeals_{k}", **unit) for k in ("overdue", "supervised"))
    missed = value(before, "jiesu_limits_missed_last_hour", scope="appeal")
    failures = value(before, "jiesu_projection_failures")
    waiting, failed = value(before, "jiesu_outbox_waiting"), value(before, "jiesu_outbox_failed")
    async with engine.begin() as conn:
        await conn.execute(sa.text(
            "UPDATE appeal SET overdue = true, supervised = true, projection_failed_at = now() "
            "WHERE appeal_no = :no"), {"no": no})
        await conn.execute(sa.text(
            "INSERT INTO appeal_event (idem_key, appeal_no, seq, kind, detail, occurred_at) "
            "VALUES (:key, :no, 100000, 'limit_missed', '{}', now())"), {"key": f"metrics-test:{no}", "no": no})
        await conn.execute(sa.text(
            "INSERT INTO notification_outbox (idem_key, recipient, topic, payload, created_at, attempts, "
            "next_attempt_at) VALUES (:k1, 'metrics-test', 'test', '{}', now() - interval '10 minutes', 0, "
            "now() + interval '1 day'), (:k2, 'metrics-test', 'test', '{}', now(), :max, now())"),
            {"k1": f"metrics-test:{no}:1", "k2": f"metrics-test:{no}:2", "max": MAX_ATTEMPTS})
    try:
        after = await settled(api, lambda s: value(s, "jiesu_appeals_overdue", **unit) == overdue + 1)
        assert value(after, "jiesu_appeals_supervised", **unit) == supervised + 1
        assert value(after, "jiesu_limits_missed_last_hour", scope="appeal") >= missed + 1
        assert value(after, "jiesu_projection_failures") >= failures + 1
        assert value(after, "jiesu_outbox_waiting") >= waiting + 1
        assert value(after, "jiesu_outbox_failed") >= failed + 1
        assert value(after, "jiesu_outbox_oldest_waiting_seconds") >= 600
        assert value(after, "jiesu_appeals_open", status="dispatched", district=PLACE) == dispatched + 1
    finally:
        async with engine.begin() as conn:
            await conn.execute(sa.text(
                "UPDATE appeal SET overdue = false, supervised = false, projection_failed_at = NULL "
                "WHERE appeal_no = :no"), {"no": no})
            await conn.execute(sa.text("DELETE FROM appeal_event WHERE idem_key = :k"), {"k": f"metrics-test:{no}"})
            await conn.execute(sa.text("DELETE FROM notification_outbox WHERE recipient = 'metrics-test'"))
    # back as before: a unit whose last overdue order is gone leaves the output, not a stale 1
    await settled(api, lambda s: value(s, "jiesu_appeals_overdue", **unit) == overdue)


async def test_requests_are_counted_by_route_template(fast_api, tokens):
    api = fast_api
    body = await intake(api, tokens, street_lights(content="metrics: 路灯不亮 2"))
    no = body["appeal"]["appeal_no"]
    before = await scrape(api)
    read = dict(method="GET", route="/appeals/{appeal_no}", status="200")
    for _ in range(3):
        assert (await api.get(f"/appeals/{no}", headers=tokens["op"])).status_code == 200
    assert (await api.get("/no/such/path")).status_code == 404
    after = await scrape(api)
    assert value(after, "jiesu_http_requests_total", **read) == value(before, "jiesu_http_requests_total", **read) + 3
    assert value(after, "jiesu_http_request_duration_seconds_count", method="GET", route="/appeals/{appeal_no}") >= 3
    assert value(after, "jiesu_http_requests_total", method="GET", route="unmatched", status="404") >= 1
    assert not [key for key in after if no in str(key)], "a raw path became a label"


async def test_metrics_is_outside_the_api_schema(api):
    paths = (await api.get("/openapi.json")).json()["paths"]
    assert "/metrics" not in paths
    assert (await api.get("/metrics")).status_code == 200


@pytest.fixture
def json_log():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter("api"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_log_lines_are_json_with_ids_and_no_personal_data(api, tokens, json_log):
    r = await api.post("/appeals", json=street_lights(content="metrics: 日志"),
                       headers=tokens["op"] | {"X-Request-ID": "req-intake-1"})
    assert r.status_code == 201 and r.headers["x-request-id"] == "req-intake-1"
    no = r.json()["appeal"]["appeal_no"]
    r = await api.get(f"/appeals/{no}/contact", headers=tokens["lighting"] | {"X-Request-ID": "bad id\n{}"})
    assert r.status_code == 200 and LIU["phone"] in r.text  # the unit sees the phone, the logs never do
    generated = r.headers["x-request-id"]
    assert generated != "bad id\n{}" and len(generated) == 32

    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    access = {(line["method"], line["route"]): line for line in lines if line["logger"] == "jiesu.access"}
    intake_line = access[("POST", "/appeals")]
    assert intake_line["request_id"] == "req-intake-1" and intake_line["status"] == 201
    contact = access[("GET", "/appeals/{appeal_no}/contact")]
    assert contact["request_id"] == generated and contact["appeal_no"] == no and contact["unit"] == "BJ-LIGHTING"
    text = json_log.getvalue()
    for personal in (LIU["phone"], LIU["name"], LIU["address"], "方家胡同", "日志"):
        assert personal not in text

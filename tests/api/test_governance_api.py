"""Active governance through the HTTP API, on the Temporal dev server (real Schedules) and real
PostgreSQL: a supervisor's task inspected to closure, who sees what, every refusal, the monthly
theme flow, CSV, and the answers when Temporal or PostgreSQL is down."""

from __future__ import annotations

import asyncio
import csv
import io
import time
import uuid
from datetime import datetime, timedelta

import pytest
import pytest_asyncio
import sqlalchemy as sa
from temporalio.service import RPCError, RPCStatusCode

from api.main import create_app
from db.session import make_engine
from devstack.ports import free_port
from domain.calendar import CHINA_TZ
from domain.governance import MonthlyAnalysisInput, schedule_id
from tests.api.conftest import serve
from tests.api.test_appeals_e2e import intake, street_lights
from tests.conftest import settings_for
from workflows.analysis import MonthlyAnalysisWorkflow

pytestmark = pytest.mark.usefixtures("appeal_worker")


def lights_task(**over) -> dict:
    return {
        "title": "方家胡同路灯反复不亮",
        "description": "三个月内同一胡同路灯不亮诉求反复出现",
        "source": "recurring",
        "category": "MUNI.STREETLIGHT",
        "district": "110101",
        "street": "110101-ANDINGMEN",
        "address": "方家胡同",
        "owner_unit": "BJ-LIGHTING",
        "interval_days": 14,
        "quiet_days": 0,
        "clean_inspections": 1,
    } | over


def garbage_task(**over) -> dict:
    return lights_task(title="朝外垃圾堆积", category="CITY.GARBAGE", district="110105", street="110105-CHAOWAI",
                       address=None, owner_unit="110105-CHAOWAI") | over


async def create(api, headers, body, status=201) -> dict:
    r = await api.post("/governance/tasks", json=body, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


async def wait_task(api, headers, task_id, predicate, timeout=30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = (await api.get(f"/governance/tasks/{task_id}", headers=headers)).json()
        if predicate(body):
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.2)


async def schedule_gone(client, task_id, timeout=20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            await client.get_schedule_handle(schedule_id(task_id)).describe()
        except RPCError as e:
            if e.status == RPCStatusCode.NOT_FOUND:
                return True
            raise
        await asyncio.sleep(0.2)
    return False


async def test_a_supervisors_task_is_inspected_and_closes_when_the_problem_stays_away(api, tokens, dev_env, engine):
    evidence = (await intake(api, tokens, street_lights(content="方家胡同路灯又不亮了")))["appeal"]["appeal_no"]
    created = await create(api, tokens["supervisor"], lights_task(evidence=[evidence, evidence]))
    assert created["status"] == "starting" and created["evidence"] == [evidence]
    assert created["workflow_id"] == f"governance-{created['id']}" and created["inspections"] == []
    tid = created["id"]
    task = await wait_task(api, tokens["analyst"], tid, lambda t: t["status"] == "active")
    assert task["next_inspection"] is not None and task["finding_due"] is None
    # the real Schedule exists, on the task's rhythm
    desc = await dev_env.client.get_schedule_handle(schedule_id(tid)).describe()
    assert desc.schedule.spec.intervals[0].every == timedelta(days=14)

    # nothing to report before the first inspection
    r = await api.post(f"/governance/tasks/{tid}/findings", json={"problem_present": False, "note": "ok"},
                       headers=tokens["lighting"])
    assert r.status_code == 409 and "no inspection is open" in r.json()["error"]["message"]

    r = await api.post(f"/governance/tasks/{tid}/inspections", headers=tokens["supervisor"])
    assert r.status_code == 202, r.text
    task = await wait_task(api, tokens["lighting"], tid,
                           lambda t: t["inspections"] and t["inspections"][0]["new_appeals"] is not None)
    first = task["inspections"][0]
    assert (first["round"], first["outcome"], first["new_appeals"]) == (1, "pending", 0)  # the evidence predates it
    assert task["finding_due"] is not None
    # the owner unit is told, once, though the round was recorded twice (opened, then checked)
    async with engine.connect() as conn:
        told = (await conn.execute(sa.text(
            "SELECT recipient, topic, payload FROM notification_outbox WHERE idem_key LIKE :k"
        ), {"k": f"governance-{tid}-%"})).all()
    assert [(t.recipient, t.topic) for t in told] == [("BJ-LIGHTING", "inspection_opened")]
    assert datetime.fromisoformat(told[0].payload["finding_due"]) == datetime.fromisoformat(task["finding_due"])

    done = await api.post(f"/governance/tasks/{tid}/findings",
                          json={"problem_present": False, "note": "12 盏路灯全部点亮，巡查员 139 0000 1111"},
                          headers=tokens["lighting"])
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["status"], body["closed_by"], body["clean_streak"]) == ("closed", "schedule", 1)
    assert body["inspections"][0]["finding_by"] == "lighting"
    assert await schedule_gone(dev_env.client, tid)  # the schedule went with the task
    task = await wait_task(api, tokens["supervisor"], tid, lambda t: t["status"] == "closed")
    assert task["inspections"][0]["outcome"] == "clean" and task["inspections"][0]["finding_note"] == "12 盏路灯全部点亮，巡查员 〔电话〕"
    assert task["next_inspection"] is None and task["finding_due"] is None

    # an ended task takes no more actions
    r = await api.post(f"/governance/tasks/{tid}/inspections", headers=tokens["supervisor"])
    assert r.status_code == 409
    r = await api.post(f"/governance/tasks/{tid}/cancel", json={"reason": "late"}, headers=tokens["supervisor"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "wrong_state"


async def test_a_supervisor_hands_a_task_to_another_unit(api, tokens, dev_env, engine):
    """The lamps turn out to be on the water group's pumping station: the task goes to it, with the
    open round's finding, and both units hear of it."""
    tid = (await create(api, tokens["supervisor"], lights_task(title="泵站外墙路灯")))["id"]
    await wait_task(api, tokens["supervisor"], tid, lambda t: t["status"] == "active")
    r = await api.post(f"/governance/tasks/{tid}/inspections", headers=tokens["supervisor"])
    assert r.status_code == 202, r.text
    before = await wait_task(api, tokens["lighting"], tid,
                             lambda t: t["inspections"] and t["inspections"][0]["new_appeals"] is not None)

    moved = await api.post(f"/governance/tasks/{tid}/reassign", headers=tokens["supervisor"],
                           json={"unit": "BJ-WATER", "reason": "路灯装在泵站外墙上，由泵站管理"})
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert body["owner_unit"] == "BJ-WATER" and body["finding_due"] == before["finding_due"]
    [handed] = body["reassignments"]
    assert (handed["from_unit"], handed["to_unit"], handed["by"]) == ("BJ-LIGHTING", "BJ-WATER", "supervisor")

    # the row follows: the old unit no longer sees the task, the new one does and owes the finding
    await wait_task(api, tokens["supervisor"], tid, lambda t: t["owner_unit"] == "BJ-WATER" and t["reassignments"])
    assert (await api.get(f"/governance/tasks/{tid}", headers=tokens["lighting"])).status_code == 404
    finding = {"problem_present": False, "note": "泵站已更换灯具"}
    r = await api.post(f"/governance/tasks/{tid}/findings", json=finding, headers=tokens["lighting"])
    assert r.status_code == 404
    r = await api.post(f"/governance/tasks/{tid}/findings", json=finding, headers=tokens["water"])
    assert r.status_code == 200, r.text
    desc = await dev_env.client.get_workflow_handle(f"governance-{tid}").describe()
    assert desc.search_attributes.get("HandlingUnit") == ["BJ-WATER"]

    async with engine.connect() as conn:
        told = (await conn.execute(sa.text(
            "SELECT recipient, topic, payload FROM notification_outbox WHERE idem_key LIKE :k ORDER BY id"
        ), {"k": f"governance-{tid}-reassigned-%"})).all()
    assert [(t.recipient, t.topic) for t in told] == [("BJ-WATER", "task_assigned"), ("BJ-LIGHTING", "task_unassigned")]
    assert datetime.fromisoformat(told[0].payload["finding_due"]) == datetime.fromisoformat(before["finding_due"])


async def test_a_reassignment_names_a_real_other_unit_and_comes_from_a_supervisor(api, tokens):
    tid = (await create(api, tokens["supervisor"], lights_task(title="换单位的规则")))["id"]
    await wait_task(api, tokens["supervisor"], tid, lambda t: t["status"] == "active")
    url = f"/governance/tasks/{tid}/reassign"
    r = await api.post(url, json={"unit": "NO-SUCH-UNIT", "reason": "x"}, headers=tokens["supervisor"])
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "unit"
    r = await api.post(url, json={"unit": "BJ-LIGHTING", "reason": "x"}, headers=tokens["supervisor"])
    assert r.status_code == 409 and "already" in r.json()["error"]["message"]
    r = await api.post(url, json={"unit": "BJ-WATER", "reason": "x"}, headers=tokens["lighting"])
    assert r.status_code == 403
    r = await api.post(url, json={"unit": "BJ-WATER", "reason": ""}, headers=tokens["supervisor"])
    assert r.status_code == 422


@pytest_asyncio.fixture(scope="module")
async def two_tasks(api, tokens) -> tuple[int, int]:
    lights = await create(api, tokens["supervisor"], lights_task(quiet_days=60, clean_inspections=3))
    garbage = await create(api, tokens["supervisor"], garbage_task())
    for t in (lights, garbage):
        await wait_task(api, tokens["supervisor"], t["id"], lambda b: b["status"] == "active")
    return lights["id"], garbage["id"]


async def test_each_caller_sees_only_what_it_may(api, tokens, two_tasks):
    lights, garbage = two_tasks
    for user in ("analyst", "supervisor", "lighting"):
        assert (await api.get(f"/governance/tasks/{lights}", headers=tokens[user])).status_code == 200, user
    # another unit's task, another district's: as if it did not exist
    for user, tid in (("water", lights), ("chaowai", lights), ("lighting", garbage), ("dongcheng-sup", garbage)):
        hidden = await api.get(f"/governance/tasks/{tid}", headers=tokens[user])
        missing = await api.get("/governance/tasks/999999", headers=tokens[user])
        assert hidden.status_code == missing.status_code == 404, user
        assert hidden.json()["error"]["message"].replace(str(tid), "N") == missing.json()["error"]["message"].replace(
            "999999", "N")
    r = await api.post(f"/governance/tasks/{lights}/findings", json={"problem_present": True, "note": "x"},
                       headers=tokens["water"])
    assert r.status_code == 404
    assert (await api.get(f"/governance/tasks/{lights}", headers=tokens["op"])).status_code == 403
    assert (await api.get("/governance/tasks", headers=tokens["op"])).status_code == 403
    assert (await api.get("/governance/tasks")).status_code == 401
    # the lists say the same
    for user, unit in (("lighting", "BJ-LIGHTING"), ("chaowai", "110105-CHAOWAI")):
        page = (await api.get("/governance/tasks", params={"limit": 500, "unit": "BJ-WATER"}, headers=tokens[user])).json()
        assert page["items"] and {t["owner_unit"] for t in page["items"]} == {unit}
    page = (await api.get("/governance/tasks", params={"district": "110105", "limit": 500},
                          headers=tokens["dongcheng-sup"])).json()
    assert {t["district"] for t in page["items"]} == {"110101"}
    ids = {t["id"] for t in (await api.get("/governance/tasks", params={"limit": 500},
                                           headers=tokens["analyst"])).json()["items"]}
    assert {lights, garbage} <= ids


async def test_refusals_name_the_reason_and_never_500(api, tokens, two_tasks):
    lights, _ = two_tasks
    sup = tokens["supervisor"]
    cases = [
        (lights_task(category="NO.SUCH"), 422, "category"),
        (lights_task(owner_unit="NOBODY"), 422, "owner_unit"),
        (lights_task(street="110105-CHAOWAI"), 422, "street"),  # not in 110101
        (lights_task(district="999999", street=None), 422, "district"),
        (lights_task(evidence=["BJ-20000101-999999"]), 422, "evidence"),
        (lights_task(interval_days=0), 422, "interval_days"),
        (lights_task(clean_inspections=99), 422, "clean_inspections"),
        (lights_task(latitude=39.9), 422, "body"),
        (lights_task(source="monthly_problem"), 422, "source"),
        (lights_task(title=""), 422, "title"),
    ]
    for body, status, field in cases:
        r = await api.post("/governance/tasks", json=body, headers=sup)
        assert r.status_code == status, (field, r.text)
        assert field in str(r.json()["error"]["details"]), (field, r.text)
    r = await api.post("/governance/tasks", json=garbage_task(), headers=tokens["dongcheng-sup"])
    assert r.status_code == 403 and "110101" in r.json()["error"]["message"]
    for user in ("analyst", "lighting", "op"):
        assert (await api.post("/governance/tasks", json=lights_task(), headers=tokens[user])).status_code == 403
    r = await api.post(f"/governance/tasks/{lights}/findings", json={"problem_present": False, "note": ""},
                       headers=tokens["lighting"])
    assert r.status_code == 422
    r = await api.post(f"/governance/tasks/{lights}/findings", json={"problem_present": False, "note": "x", "round": 7},
                       headers=tokens["lighting"])
    assert r.status_code == 409
    r = await api.post(f"/governance/tasks/{lights}/cancel", json={"reason": "  "}, headers=sup)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid"
    for params in ({"period": "2026-13"}, {"from": "2026-01-02"}, {"status": "open"}, {"source": "x"}):
        r = await api.get("/governance/tasks", params=params, headers=sup)
        assert r.status_code == 422, params
    for path in ("/governance/tasks/0", "/governance/tasks/abc", "/governance/themes/2026-1",
                 "/governance/themes/candidates?period=2026-W03"):
        assert (await api.get(path, headers=sup)).status_code == 422, path


async def test_a_supervisor_cancels_and_the_schedule_goes(api, tokens, dev_env):
    tid = (await create(api, tokens["dongcheng-sup"], lights_task()))["id"]
    await wait_task(api, tokens["supervisor"], tid, lambda t: t["status"] == "active")
    r = await api.post(f"/governance/tasks/{tid}/cancel", json={"reason": "并入方家胡同整体改造"},
                       headers=tokens["dongcheng-sup"])
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["close_reason"], r.json()["closed_by"]) == (
        "cancelled", "并入方家胡同整体改造", "dongcheng-sup")
    assert await schedule_gone(dev_env.client, tid)
    task = await wait_task(api, tokens["analyst"], tid, lambda t: t["status"] == "cancelled")
    assert task["closed_at"] is not None


async def test_task_lists_have_their_period_and_export_as_csv(api, tokens, two_tasks):
    lights, garbage = two_tasks
    today = datetime.now(CHINA_TZ).date()
    page = (await api.get("/governance/tasks", params={"period": f"{today:%Y-%m}", "limit": 500},
                          headers=tokens["analyst"])).json()
    assert page["period"]["label"] == f"{today:%Y-%m}" and {lights, garbage} <= {t["id"] for t in page["items"]}
    assert (await api.get("/governance/tasks", headers=tokens["analyst"])).json()["period"] is None
    old = (await api.get("/governance/tasks", params={"period": "2020"}, headers=tokens["analyst"])).json()
    assert old["total"] == 0 and old["period"]["grain"] == "year"
    r = await api.get("/governance/tasks", params={"format": "csv", "limit": 500}, headers=tokens["analyst"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert {str(lights), str(garbage)} <= {row["id"] for row in rows}
    assert next(row for row in rows if row["id"] == str(lights))["title"] == "方家胡同路灯反复不亮"


# --- one problem a month -----------------------------------------------------------------------


async def _appeals_in(engine, api, tokens, month: str, n: int, **over) -> list[str]:
    nos = []
    for i in range(n):
        no = (await intake(api, tokens, street_lights(content=f"路灯不亮 {month} #{i}") | over))["appeal"]["appeal_no"]
        async with engine.begin() as conn:
            await conn.execute(sa.text("UPDATE appeal SET received_at = :at WHERE appeal_no = :n"),
                               {"at": datetime.fromisoformat(f"{month}-{10 + i:02d}T09:00:00+08:00"), "n": no})
        nos.append(no)
    return nos


async def test_the_monthly_theme_from_candidates_to_the_years_list(api, tokens, engine, settings, dev_env):
    nos = await _appeals_in(engine, api, tokens, "2019-04", 3)
    await _appeals_in(engine, api, tokens, "2019-03", 1)
    live = (await api.get("/governance/themes/candidates", params={"period": "2019-04"}, headers=tokens["analyst"])).json()
    assert live["source"] == "live" and live["period"]["label"] == "2019-04"
    top = live["candidates"][0]
    assert (top["category"], top["district"], top["count"], top["previous"], top["change"]) == (
        "MUNI.STREETLIGHT", "110101", 3, 1, 2)
    assert set(top["examples"]) <= set(nos) and top["category_name_zh"]

    # the monthly analysis (the session's worker: the real freeze_month) keeps the proposal; from
    # then on the month answers with it
    result = await dev_env.client.execute_workflow(
        MonthlyAnalysisWorkflow.run, MonthlyAnalysisInput(month="2019-04"), id=f"monthly-analysis-{uuid.uuid4().hex[:6]}",
        task_queue=settings.temporal_task_queue)
    assert (result.month, result.frozen_appeals, result.candidates) == ("2019-04", 0, len(live["candidates"]))
    async with engine.connect() as conn:
        frozen_by = await conn.scalar(sa.text("SELECT frozen_by FROM assessment_run WHERE month = '2019-04-01'"))
    assert frozen_by == "schedule"
    kept = (await api.get("/governance/themes/candidates", params={"period": "2019-04"}, headers=tokens["supervisor"])).json()
    assert kept["source"] == "stored" and kept["proposed_at"] and kept["candidates"][0]["count"] == 3
    r = await api.get("/governance/themes/candidates", params={"period": "2019-04", "format": "csv"},
                      headers=tokens["analyst"])
    assert r.status_code == 200 and "MUNI.STREETLIGHT" in r.text and "examples" in r.text.splitlines()[0]
    assert (await api.get("/governance/themes/candidates", headers=tokens["lighting"])).status_code == 403

    theme = {
        "month": "2032-05",
        "title": "路灯照明",
        "description": "背街小巷路灯不亮",
        "problems": [
            {"title": "方家胡同路灯", "category": "MUNI.STREETLIGHT", "street": "110101-ANDINGMEN",
             "owner_unit": "BJ-LIGHTING", "evidence": nos[:2]},
            {"title": "朝外路灯", "category": "MUNI.STREETLIGHT", "district": "110105", "street": "110105-CHAOWAI",
             "owner_unit": "110105-CHAOWAI", "interval_days": 7, "quiet_days": 30, "clean_inspections": 2},
        ],
    }
    assert (await api.post("/governance/themes", json=theme, headers=tokens["dongcheng-sup"])).status_code == 403
    assert (await api.post("/governance/themes", json=theme, headers=tokens["analyst"])).status_code == 403
    one = theme | {"problems": theme["problems"][:1]}
    assert (await api.post("/governance/themes", json=one, headers=tokens["supervisor"])).status_code == 422
    bad = theme | {"problems": [theme["problems"][0], theme["problems"][1] | {"owner_unit": "NOBODY"}]}
    r = await api.post("/governance/themes", json=bad, headers=tokens["supervisor"])
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "problems.1.owner_unit"
    r = await api.post("/governance/themes", json=theme | {"month": "2032-13"}, headers=tokens["supervisor"])
    assert r.status_code == 422

    r = await api.post("/governance/themes", json=theme, headers=tokens["supervisor"])
    assert r.status_code == 201, r.text
    picked = r.json()
    assert [p["position"] for p in picked["problems"]] == [1, 2]
    tasks = [p["task"] for p in picked["problems"]]
    assert [(t["source"], t["month"], t["district"]) for t in tasks] == [
        ("monthly_problem", "2032-05", "110101"), ("monthly_problem", "2032-05", "110105")]
    assert tasks[0]["evidence"] == nos[:2]
    assert (await api.post("/governance/themes", json=theme, headers=tokens["supervisor"])).status_code == 409

    # progress is the tasks': one is cancelled, the other still inspected
    for t in tasks:
        await wait_task(api, tokens["supervisor"], t["id"], lambda b: b["status"] == "active")
    await api.post(f"/governance/tasks/{tasks[1]['id']}/cancel", json={"reason": "merged"}, headers=tokens["supervisor"])
    await wait_task(api, tokens["supervisor"], tasks[1]["id"], lambda b: b["status"] == "cancelled")
    year = (await api.get("/governance/themes", params={"year": 2032}, headers=tokens["analyst"])).json()
    assert (year["year"], year["period"]["label"], year["problems"], year["active"], year["cancelled"], year["closed"]) == (
        2032, "2032", 2, 1, 1, 0)
    assert [t["month"] for t in year["themes"]] == ["2032-05"]
    assert all(p["task"]["inspections"] is None for p in year["themes"][0]["problems"])
    # with rounds=true, each problem's task with its inspection rounds (an analyst's page needs them in one call)
    assert (await api.post(f"/governance/tasks/{tasks[0]['id']}/inspections", headers=tokens["supervisor"])).status_code == 202
    await wait_task(api, tokens["supervisor"], tasks[0]["id"], lambda b: b["inspections"])
    year = (await api.get("/governance/themes", params={"year": 2032, "rounds": "true"}, headers=tokens["analyst"])).json()
    rounds = [[i["round"] for i in p["task"]["inspections"]] for p in year["themes"][0]["problems"]]
    assert rounds == [[1], []]
    month = (await api.get("/governance/themes/2032-05", headers=tokens["analyst"])).json()
    assert month["title"] == "路灯照明" and [p["task"]["status"] for p in month["problems"]] == ["active", "cancelled"]
    assert (await api.get("/governance/themes/2032-06", headers=tokens["analyst"])).status_code == 404
    r = await api.get("/governance/themes", params={"year": 2032, "format": "csv"}, headers=tokens["analyst"])
    rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert [(row["month"], row["problem"], row["status"]) for row in rows] == [
        ("2032-05", "方家胡同路灯", "active"), ("2032-05", "朝外路灯", "cancelled")]
    task = (await api.get(f"/governance/tasks/{tasks[0]['id']}", headers=tokens["lighting"])).json()
    assert task["month"] == "2032-05"


async def test_503_when_temporal_or_postgresql_is_down(api, tokens, settings, engine):
    from infra.temporal import connect

    tid = (await create(api, tokens["supervisor"], lights_task()))["id"]
    # active first (its workflow has projected it), so what follows can only be refused for Temporal
    await wait_task(api, tokens["supervisor"], tid, lambda t: t["status"] == "active")
    nowhere = await connect(settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"}), lazy=True)
    async with serve(create_app(settings, engine=engine, temporal=nowhere)) as broken:
        r = await broken.post(f"/governance/tasks/{tid}/cancel", json={"reason": "x"}, headers=tokens["supervisor"])
        assert r.status_code == 503 and r.json()["error"]["code"] == "temporal_unavailable"
        r = await broken.post(f"/governance/tasks/{tid}/inspections", headers=tokens["supervisor"])
        assert r.status_code == 503
        r = await broken.post("/governance/tasks", json=lights_task(), headers=tokens["supervisor"])
        assert r.status_code == 503 and r.json()["error"]["details"]["task_ids"]
        kept = r.json()["error"]["details"]["task_ids"][0]
        # recorded all the same: the worker's reconciler starts it once Temporal is back
        row = (await api.get(f"/governance/tasks/{kept}", headers=tokens["supervisor"])).json()
        assert row["status"] == "starting"
    dead = settings_for(f"postgresql://postgres@127.0.0.1:{free_port()}/x")
    dead_engine = make_engine(dead)
    try:
        async with serve(create_app(dead, engine=dead_engine, temporal=nowhere)) as broken:
            r = await broken.get("/governance/tasks", headers=tokens["analyst"])
            assert r.status_code == 503 and r.json()["error"]["code"] == "database_unavailable"
    finally:
        await dead_engine.dispose()


async def test_a_lost_start_is_made_good_by_the_reconciler(api, tokens, settings, engine, dev_env):
    from infra.governance import resume_unstarted_tasks
    from infra.temporal import connect

    nowhere = await connect(settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"}), lazy=True)
    async with serve(create_app(settings, engine=engine, temporal=nowhere)) as broken:
        r = await broken.post("/governance/tasks", json=lights_task(), headers=tokens["supervisor"])
    tid = r.json()["error"]["details"]["task_ids"][0]
    started = await resume_unstarted_tasks(engine, dev_env.client, settings.temporal_task_queue, grace=timedelta(0))
    assert tid in started
    await wait_task(api, tokens["supervisor"], tid, lambda t: t["status"] == "active")

"""End to end through the HTTP API, on the Temporal dev server and real PostgreSQL: the seed
stories, objections, an overdue order, idempotent and interrupted intake, and the error answers.

Two appeals run on one-minute limits (set in the policy table for combinations no other test
uses); they are started first and checked last, so the suite waits for them only once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC

import pytest
import pytest_asyncio
import sqlalchemy as sa
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.service import RPCError, RPCStatusCode

from api.main import create_app
from db.session import make_engine
from devstack.ports import free_port
from infra.appeals import resume_unstarted
from tests.api.conftest import serve
from tests.conftest import settings_for

pytestmark = pytest.mark.usefixtures("appeal_worker")

LIU = {"name": "刘先生", "phone": "13812345678", "address": "东城区方家胡同 12 号"}


def street_lights(**over) -> dict:
    return {
        "appeal_type": "complaint",
        "category": "MUNI.STREETLIGHT",
        "location": {"street": "110101-ANDINGMEN", "address": "方家胡同"},
        "content": "胡同里路灯昏暗，晚上经常有人摔跤",
        "citizen": LIU,
    } | over


async def intake(api, tokens, body, key=None, status=201) -> dict:
    headers = tokens["op"] | ({"Idempotency-Key": key} if key else {})
    r = await api.post("/appeals", json=body, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


async def act(api, headers, no, action, body=None, status=200) -> dict:
    r = await api.post(f"/appeals/{no}/{action}", json=body or {}, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


async def wait_for(api, headers, no, predicate, timeout=90) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = (await api.get(f"/appeals/{no}", headers=headers)).json()
        if predicate(body):
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.5)


# --- appeals on one-minute limits, started before everything else ---------------------------

SHORT = {
    ("emergency", "help"): "contact_limit = 1, contact_limit_unit = 'minutes'",
    ("ordinary", "suggestion"): "objection_window = 1, objection_window_unit = 'minutes'",
}


@pytest_asyncio.fixture(scope="module")
async def slow_appeals(api, tokens, engine):
    async with engine.begin() as conn:
        saved = (await conn.execute(sa.text("SELECT * FROM time_limit_policy"))).mappings().all()
        for (urgency, appeal_type), change in SHORT.items():
            await conn.execute(
                sa.text(f"UPDATE time_limit_policy SET {change} WHERE urgency = :u AND appeal_type = :t"),
                {"u": urgency, "t": appeal_type},
            )
    try:
        overdue = await intake(
            api, tokens,
            {"appeal_type": "help", "category": "UTIL.WATER.OUTAGE", "urgency": "emergency",
             "location": {"street": "110105-CHAOWAI"}, "content": "整栋楼停水，老人在家"},
        )
        late = await intake(api, tokens, street_lights(appeal_type="suggestion"))
    finally:
        async with engine.begin() as conn:
            for row in saved:
                await conn.execute(
                    sa.text(
                        "UPDATE time_limit_policy SET contact_limit_unit = :contact_limit_unit, contact_limit = :contact_limit, "
                        "objection_window = :objection_window, objection_window_unit = :objection_window_unit "
                        "WHERE urgency = :urgency AND appeal_type = :appeal_type"
                    ),
                    dict(row),
                )
    return {"overdue": overdue["appeal"]["appeal_no"], "late": late["appeal"]["appeal_no"]}


async def test_short_limit_appeals_are_dispatched(api, tokens, slow_appeals):
    body = (await api.get(f"/appeals/{slow_appeals['overdue']}", headers=tokens["op"])).json()
    assert body["handling_unit"] == "BJ-WATER" and body["status"] == "dispatched"


# --- the seed stories ---------------------------------------------------------------------


async def test_street_lights_story(api, tokens, dev_env):
    """安定门 hutong lights: dispatched to the lighting centre, done, the citizen is unsatisfied
    (the lamps do not suit the hutong), re-handled, satisfied."""
    created = await intake(api, tokens, street_lights())
    appeal, citizen = created["appeal"], {"X-Citizen-Token": created["citizen_token"]}
    no = appeal["appeal_no"]
    assert no.startswith("BJ-") and appeal["status"] == "dispatched"
    assert appeal["handling_unit"] == "BJ-LIGHTING"
    assert set(appeal["limits"]) == {"objection", "contact", "completion"}

    lighting = tokens["lighting"]
    await act(api, lighting, no, "accept")
    await act(api, lighting, no, "contact", {"note": "visited the hutong with Mr Liu"})
    done = await act(api, lighting, no, "complete", {"result": "replaced 33 street lights"})
    assert done["status"] == "awaiting_evaluation" and done["limits"]["completion"]["met_in_time"] is True

    # the citizen evaluates with the token from intake: lit, but not in keeping with the hutong
    back = await act(api, citizen, no, "evaluation",
                     {"resolved": False, "satisfaction": "unsatisfied", "comment": "灯和胡同环境不搭"})
    assert back["status"] == "rehandling" and back["rehandle_count"] == 1 and back["resolved"] is None

    await act(api, lighting, no, "contact", {"note": "agreed an arm-lamp design with the residents"})
    await act(api, lighting, no, "complete", {"result": "fitted arm lamps lighting downwards"})
    final = await act(api, tokens["op"], no, "evaluation", {"resolved": True, "satisfaction": "satisfied"})
    assert (final["status"], final["outcome"], final["resolved"]) == ("closed", "resolved", True)

    detail = (await api.get(f"/appeals/{no}", headers=citizen)).json()
    assert detail["rehandle_count"] == 1 and detail["outcome"] == "resolved"
    timeline = (await api.get(f"/appeals/{no}/timeline", headers=tokens["op"])).json()
    kinds = [e["kind"] for e in timeline]
    assert kinds == ["received", "dispatched", "accepted", "contacted", "reported_done", "evaluated",
                     "rehandling", "contacted", "reported_done", "evaluated", "closed"]
    by_kind = {e["kind"]: e for e in timeline}
    assert by_kind["accepted"]["actor"] == "lighting" and by_kind["accepted"]["unit"] == "BJ-LIGHTING"
    assert by_kind["received"]["actor"] == "op"
    # the citizen sees units, not the names of the staff
    seen_by_citizen = (await api.get(f"/appeals/{no}/timeline", headers=citizen)).json()
    assert all(e["actor"] in (None, "citizen") for e in seen_by_citizen)

    assert by_kind["dispatched"]["detail"]["how"] == "by the dispatch catalogue"
    handle = dev_env.client.get_workflow_handle(f"appeal-{no}")
    assert (await handle.describe()).status.name == "COMPLETED"
    # the intake routed with the catalogue it holds: the workflow did not ask for it again
    markers = [e.marker_recorded_event_attributes.SerializeToString()
               for e in (await handle.fetch_history()).events if e.HasField("marker_recorded_event_attributes")]
    assert any(b"load_terms" in m for m in markers) and not any(b"route_appeal" in m for m in markers)

    # the projection feeds the three rates: in this month's base for the lighting centre,
    # contacted in time, resolved, satisfied
    drilled = await api.get("/assessment/appeals", headers=tokens["analyst"],
                            params={"unit": "BJ-LIGHTING", "measure": "satisfied", "limit": 5000})
    assert drilled.status_code == 200, drilled.text
    mine = [i for i in drilled.json()["items"] if i["appeal_no"] == no]
    assert mine and (mine[0]["contacted_in_time"], mine[0]["outcome"]) == (True, "resolved")


async def test_upheld_objection_redispatches_to_the_suggested_unit(api, tokens):
    created = await intake(
        api, tokens,
        {"appeal_type": "complaint", "category": "CITY.GARBAGE", "location": {"street": "110105-CHAOWAI"},
         "content": "小区门口垃圾堆积"},
    )
    no = created["appeal"]["appeal_no"]
    assert created["appeal"]["handling_unit"] == "110105-CHAOWAI"
    raised = await act(api, tokens["chaowai"], no, "objection",
                       {"reason": "the land is the developer's, managed by the district", "suggested_unit": "110105-CGW"})
    assert raised["status"] == "objection_raised"
    upheld = await act(api, tokens["op"], no, "objection-review", {"uphold": True, "comment": "agreed"})
    assert upheld["handling_unit"] == "110105-CGW" and upheld["units"] == ["110105-CHAOWAI", "110105-CGW"]
    assert upheld["limits"]["contact"]["started_at"] > created["appeal"]["limits"]["contact"]["started_at"]
    wrong = await act(api, tokens["chaowai"], no, "accept", status=409)
    assert wrong["error"]["code"] == "wrong_unit"
    assert (await act(api, tokens["cgw"], no, "accept"))["status"] == "accepted"
    # the former unit still sees the appeal it once held; a unit never involved does not
    assert (await api.get(f"/appeals/{no}", headers=tokens["chaowai"])).status_code == 200
    assert (await api.get(f"/appeals/{no}", headers=tokens["water"])).status_code == 404


async def test_idempotent_retry_returns_the_same_appeal_and_one_workflow(api, tokens, engine, dev_env):
    key = f"intake-{uuid.uuid4().hex}"
    first = await intake(api, tokens, street_lights(), key=key)
    again = await intake(api, tokens, street_lights(), key=key, status=200)
    assert first["appeal"]["appeal_no"] == again["appeal"]["appeal_no"]
    assert first["citizen_token"] == again["citizen_token"]
    no = first["appeal"]["appeal_no"]
    async with engine.connect() as conn:
        assert await conn.scalar(sa.text("SELECT count(*) FROM appeal WHERE idempotency_key = :k"), {"k": key}) == 1
    runs = [w async for w in dev_env.client.list_workflows(f"WorkflowId = 'appeal-{no}'")]
    assert len(runs) == 1
    conflict = await intake(api, tokens, street_lights(content="另一件事"), key=key, status=409)
    assert conflict["error"]["code"] == "idempotency_conflict"


async def test_lost_start_is_recovered_by_a_retry_and_never_duplicated(api, tokens, engine, dev_env, monkeypatch):
    import api.intake as intake_module

    async def temporal_down(*args, **kwargs):
        raise RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")

    key = f"intake-{uuid.uuid4().hex}"
    monkeypatch.setattr(intake_module, "start_appeal_with_view", temporal_down)
    failed = await intake(api, tokens, street_lights(), key=key, status=503)
    no = failed["error"]["details"]["appeal_no"]
    monkeypatch.undo()
    with pytest.raises(RPCError):  # recorded, but no workflow yet
        await dev_env.client.get_workflow_handle(f"appeal-{no}").describe()

    retried = await intake(api, tokens, street_lights(), key=key, status=200)
    assert retried["appeal"]["appeal_no"] == no and retried["appeal"]["status"] == "dispatched"
    async with engine.connect() as conn:
        assert await conn.scalar(sa.text("SELECT count(*) FROM appeal WHERE idempotency_key = :k"), {"k": key}) == 1


async def test_without_a_key_a_failed_start_leaves_nothing_recorded(api, tokens, engine, monkeypatch):
    import api.intake as intake_module

    async def temporal_down(*args, **kwargs):
        raise RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")

    async with engine.connect() as conn:
        before = await conn.scalar(sa.text("SELECT count(*) FROM appeal"))
    monkeypatch.setattr(intake_module, "start_appeal_with_view", temporal_down)
    failed = await intake(api, tokens, street_lights(), status=503)
    assert failed["error"]["code"] == "temporal_unavailable"
    async with engine.connect() as conn:
        assert await conn.scalar(sa.text("SELECT count(*) FROM appeal")) == before
        assert await conn.scalar(sa.text("SELECT count(*) FROM citizen_contact c LEFT JOIN appeal a USING (appeal_no) WHERE a.appeal_no IS NULL")) == 0


async def test_crash_between_database_and_start_is_resumed_by_the_reconciler(api, tokens, engine, dev_env, settings, monkeypatch):
    """The process dies after the commit and before the start: the worker's reconciler starts
    the workflow, once."""
    import api.intake as intake_module

    class Crash(BaseException):
        pass

    async def crash(*args, **kwargs):
        raise Crash()

    key = f"intake-{uuid.uuid4().hex}"
    monkeypatch.setattr(intake_module, "start_appeal_with_view", crash)
    with pytest.raises(Crash):
        await api.post("/appeals", json=street_lights(), headers=tokens["op"] | {"Idempotency-Key": key})
    monkeypatch.undo()
    async with engine.connect() as conn:
        no = await conn.scalar(sa.text("SELECT appeal_no FROM appeal WHERE idempotency_key = :k"), {"k": key})
    assert no is not None

    from datetime import timedelta

    started = await resume_unstarted(engine, dev_env.client, settings.temporal_task_queue, grace=timedelta(0))
    assert no in started
    body = await wait_for(api, tokens["op"], no, lambda b: b["status"] == "dispatched")
    assert body["handling_unit"] == "BJ-LIGHTING"
    assert no not in await resume_unstarted(engine, dev_env.client, settings.temporal_task_queue, grace=timedelta(0))
    runs = [w async for w in dev_env.client.list_workflows(f"WorkflowId = 'appeal-{no}'")]
    assert len(runs) == 1


async def test_intake_outcomes_other_than_dispatch(api, tokens):
    answered = await intake(api, tokens, {"appeal_type": "consultation", "category": "GOV.CONSULT", "decision": "answer",
                                          "answer": "携带身份证到社区服务中心办理", "content": "怎么办理居住证"})
    assert answered["appeal"]["status"] == "answered" and answered["appeal"]["handling_unit"] is None
    refused = await intake(api, tokens, street_lights(decision="not_accepted", not_accepted_reason="petition"))
    assert (refused["appeal"]["status"], refused["appeal"]["outcome"]) == ("closed", "not_accepted")
    emergency = await intake(api, tokens, street_lights(decision="emergency", emergency_service="119"))
    assert emergency["appeal"]["outcome"] == "emergency_transferred"
    held = await intake(api, tokens, street_lights(decision="hold"))
    no = held["appeal"]["appeal_no"]
    dispatched = await act(api, tokens["op"], no, "dispatch", {"unit": "110101-GOV"})
    assert dispatched["handling_unit"] == "110101-GOV"


async def test_list_filters_and_paging(api, tokens):
    created = await intake(api, tokens, street_lights(content="路灯坏了 unique-marker-7731"))
    no = created["appeal"]["appeal_no"]
    page = (await api.get("/appeals", params={"q": "unique-marker-7731"}, headers=tokens["op"])).json()
    assert [a["appeal_no"] for a in page["items"]] == [no] and page["total"] == 1
    for params in ({"unit": "BJ-LIGHTING"}, {"district": "110101"}, {"street": "110101-ANDINGMEN"},
                   {"category": "MUNI"}, {"status": "dispatched"}, {"overdue": "false"}):
        page = (await api.get("/appeals", params=params | {"limit": 200}, headers=tokens["op"])).json()
        assert no in [a["appeal_no"] for a in page["items"]], params
    page = (await api.get("/appeals", params={"limit": 1}, headers=tokens["op"])).json()
    assert len(page["items"]) == 1 and page["total"] > 1
    # unit staff see only what is, or was, theirs
    mine = (await api.get("/appeals", params={"limit": 200}, headers=tokens["water"])).json()
    assert all("BJ-WATER" in a["units"] for a in mine["items"])


async def test_dispatch_by_the_catalogue_needs_the_place_even_where_a_city_wide_rule_applies(api, tokens):
    """The lighting centre takes street lights anywhere in the city, but an order that does not
    say where it is cannot be dispatched (nor counted for a district)."""
    body = street_lights() | {"location": {"address": "somewhere"}}
    r = await api.post("/appeals", json=body, headers=tokens["op"])
    assert r.status_code == 422, r.text
    assert "needs at least the district" in r.json()["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path", "who", "body", "status", "code"),
    [
        ("get", "/appeals/BJ-20000101-999999", "op", None, 404, "not_found"),
        ("post", "/appeals/BJ-20000101-999999/accept", "lighting", {}, 404, "not_found"),
        ("post", "/appeals", "op", {"appeal_type": "complaint"}, 422, "validation_error"),
        ("post", "/appeals", "op", {"appeal_type": "rumour", "category": "MUNI", "content": "x"}, 422, "validation_error"),
        ("post", "/appeals", "op", {"appeal_type": "complaint", "category": "NOPE", "content": "x"}, 422, "validation_error"),
        ("post", "/appeals", "op", {"appeal_type": "complaint", "category": "MUNI", "content": "x",
                                    "location": {"street": "110105-CHAOWAI", "district": "110101"}}, 422, "validation_error"),
        ("post", "/appeals", "op", {"appeal_type": "complaint", "category": "MUNI", "content": "x",
                                    "decision": "answer"}, 422, "validation_error"),
        ("post", "/appeals", "lighting", {"appeal_type": "complaint", "category": "MUNI", "content": "x"}, 403, "forbidden"),
        ("post", "/appeals", None, {"appeal_type": "complaint", "category": "MUNI", "content": "x"}, 401, "unauthorized"),
        ("get", "/appeals?from=2026-12-01T00:00:00%2B08:00&to=2026-11-01T00:00:00%2B08:00", "op", None, 422, "validation_error"),
    ],
)
async def test_errors_have_one_shape_and_the_right_status(api, tokens, method, path, who, body, status, code):
    kwargs = {"headers": tokens[who] if who else {}}
    if body is not None:
        kwargs["json"] = body
    r = await getattr(api, method)(path, **kwargs)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code


async def test_action_errors(api, tokens):
    no = (await intake(api, tokens, street_lights()))["appeal"]["appeal_no"]
    wrong_state = await act(api, tokens["lighting"], no, "complete", {"result": "x"}, status=409)
    assert wrong_state["error"]["details"][0]["status"] in ("dispatched", "received")
    assert "dispatched" in wrong_state["error"]["message"]
    missing = await act(api, tokens["lighting"], no, "objection", {"reason": "x"}, status=422)
    assert missing["error"]["details"][0]["field"] == "suggested_unit"
    unknown = await act(api, tokens["lighting"], no, "objection", {"reason": "x", "suggested_unit": "NOPE"}, status=422)
    assert unknown["error"]["details"][0]["field"] == "suggested_unit"
    assert (await act(api, tokens["op"], no, "accept", status=403))["error"]["code"] == "forbidden"
    bad_token = await api.post(f"/appeals/{no}/evaluation", json={"resolved": True, "satisfaction": "satisfied"},
                               headers={"X-Citizen-Token": "x" * 32})
    assert bad_token.status_code == 404


async def test_503_when_temporal_or_postgresql_is_down(api, tokens, settings, engine):
    no = (await intake(api, tokens, street_lights()))["appeal"]["appeal_no"]
    from infra.temporal import connect

    nowhere = await connect(settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"}), lazy=True)
    async with serve(create_app(settings, engine=engine, temporal=nowhere)) as broken:
        r = await broken.post(f"/appeals/{no}/accept", json={}, headers=tokens["lighting"])
        assert r.status_code == 503 and r.json()["error"]["code"] == "temporal_unavailable"
        r = await broken.post("/appeals", json=street_lights(), headers=tokens["op"])
        assert r.status_code == 503
    dead = settings_for(f"postgresql://postgres@127.0.0.1:{free_port()}/x")
    dead_engine = make_engine(dead)
    try:
        async with serve(create_app(dead, engine=dead_engine, temporal=nowhere)) as broken:
            r = await broken.get("/appeals", headers=tokens["op"])
            assert r.status_code == 503 and r.json()["error"]["code"] == "database_unavailable"
    finally:
        await dead_engine.dispose()


async def test_admin_queries_find_appeals_in_the_temporal_ui(api, tokens, dev_env):
    no = (await intake(api, tokens, street_lights()))["appeal"]["appeal_no"]
    query = ("WorkflowType = 'AppealWorkflow' AND ExecutionStatus = 'Running' AND AppealStatus = 'dispatched' "
             "AND HandlingUnit = 'BJ-LIGHTING'")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = [w.id async for w in dev_env.client.list_workflows(query)]
        if f"appeal-{no}" in found:
            break
        await asyncio.sleep(0.5)
    assert f"appeal-{no}" in found
    handle = dev_env.client.get_workflow_handle(f"appeal-{no}")
    # the list's summary names category, unit and place as the directory does
    summary = await (await handle.describe()).static_summary()
    assert summary == "路灯不亮/路灯故障 · 北京市城市照明管理中心 · 东城区安定门街道"
    # the current details (served by the worker): the unit by name, Beijing times, no citizen
    details = (await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)).current_details
    assert "北京市城市照明管理中心 (BJ-LIGHTING)" in details and "+08:00" in details
    assert not any(personal in details for personal in (LIU["name"], LIU["phone"], "方家胡同", "摔跤"))


# --- last: the one-minute limits have run out ---------------------------------------------


async def test_overdue_order_is_escalated(api, tokens, slow_appeals, dev_env):
    no = slow_appeals["overdue"]
    body = await wait_for(api, tokens["op"], no, lambda b: b["overdue"], timeout=120)
    assert body["supervised"] and body["limits"]["contact"]["missed"] and body["status"] == "dispatched"
    kinds = [e["kind"] for e in (await api.get(f"/appeals/{no}/timeline", headers=tokens["op"])).json()]
    assert kinds.index("reminder") < kinds.index("limit_missed") < kinds.index("escalated")
    overdue_list = (await api.get("/appeals", params={"overdue": "true", "limit": 200}, headers=tokens["op"])).json()
    assert no in [a["appeal_no"] for a in overdue_list["items"]]
    found = [w.id async for w in dev_env.client.list_workflows(f"WorkflowId = 'appeal-{no}' AND Overdue = true")]
    assert found == [f"appeal-{no}"]


async def test_late_objection_is_refused_with_the_reason(api, tokens, slow_appeals):
    no = slow_appeals["late"]
    body = (await api.get(f"/appeals/{no}", headers=tokens["op"])).json()
    due = body["limits"]["objection"]["due"]
    from datetime import datetime

    wait = (datetime.fromisoformat(due) - datetime.now(UTC)).total_seconds() + 1
    if wait > 0:
        await asyncio.sleep(wait)
    refused = await act(api, tokens["lighting"], no, "objection",
                        {"reason": "not ours", "suggested_unit": "110101-CGW"}, status=409)
    assert refused["error"]["code"] == "window_passed" and "closed at" in refused["error"]["message"]

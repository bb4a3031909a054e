"""Many hands end to end through the HTTP API on the dev server: the broken road of 亚运村 and
the grass that grew back, supervision, transfers in and out."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from domain.calendar import CHINA_TZ
from tests.api.test_appeals_e2e import act, intake

pytestmark = pytest.mark.usefixtures("appeal_worker")

DEPARTMENTS = {"cgw": "110105-CGW", "zjw": "110105-ZJW", "yllh": "110105-YLLH", "dlyh": "110105-DLYH"}


async def part(api, headers, no, segment, unit, action, body=None, status=200):
    r = await api.post(f"/appeals/{no}/{segment}/{unit}/{action}", json=body or {}, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


async def eventually(check, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert time.monotonic() < deadline, "condition not met"
        await asyncio.sleep(0.3)


async def test_broken_road_story(api, tokens, engine, dev_env):
    """A road closed for 12 years: the street summons four departments, they report in, each
    reports done, the street completes and rates them, the citizen evaluates."""
    created = await intake(api, tokens, {
        "appeal_type": "help", "category": "MUNI.DEADENDROAD", "location": {"street": "110105-YAYUNCUN"},
        "content": "北辰西路断头路十二年未通", "citizen": {"name": "黄女士", "phone": "13900001111"}})
    no, citizen = created["appeal"]["appeal_no"], {"X-Citizen-Token": created["citizen_token"]}
    assert created["appeal"]["handling_unit"] == "110105-YAYUNCUN"
    street = tokens["yayuncun"]
    before = await whistle_figures(api, tokens, "110105-ZJW")
    await act(api, street, no, "accept")
    await act(api, street, no, "contact", {"note": "met the residents"})
    view = await act(api, street, no, "whistle", {"units": list(DEPARTMENTS.values()), "task": "open the road",
                                                  "limit_working_days": 10, "report_in_hours": 24})
    assert {p["unit"] for p in view["parts"].values()} == set(DEPARTMENTS.values())

    # administrators find the appeal waiting on a summoned department
    query = "WorkflowType = 'CoHandlingWorkflow' AND ExecutionStatus = 'Running' AND HandlingUnit = '110105-ZJW'"
    waiting = await eventually(lambda: _ids(dev_env, query))
    assert f"appeal-{no}/whistle/110105-ZJW" in waiting
    parts = await eventually(lambda: _ids(dev_env, f"ParentWorkflowId = 'appeal-{no}'"))
    assert len(parts) == 4

    for user, unit in DEPARTMENTS.items():
        reported = await part(api, tokens[user], no, "whistle", unit, "report-in", {"plan": f"{unit}: its share"})
        assert reported["status"] == "accepted"
    refused = await part(api, tokens["cgw"], no, "whistle", "110105-ZJW", "report", {"result": "x"}, status=409)
    assert refused["error"]["code"] == "wrong_unit"
    for user, unit in DEPARTMENTS.items():
        await part(api, tokens[user], no, "whistle", unit, "report", {"result": "done"})
    await eventually(lambda: _all_parts_done(api, street, no))
    for unit, rating in zip(DEPARTMENTS.values(), (5, 4, 5, 3)):
        await act(api, street, no, "parts/rate", {"unit": unit, "rating": rating})
    done = await act(api, street, no, "complete", {"result": "road opened after four months"})
    assert done["status"] == "awaiting_evaluation"
    final = await act(api, citizen, no, "evaluation", {"resolved": True, "satisfaction": "satisfied"})
    assert final["outcome"] == "resolved"

    timeline = [e["kind"] for e in (await api.get(f"/appeals/{no}/timeline", headers=tokens["op"])).json()]
    assert timeline.count("part_reported_in") == 4 and timeline.count("department_rated") == 4
    async with engine.connect() as conn:
        rows = dict((await conn.execute(sa.text(
            "SELECT unit_code, rating FROM appeal_part WHERE appeal_no = :n AND kind = 'whistle'"), {"n": no})).all())
    assert rows == dict(zip(DEPARTMENTS.values(), (5, 4, 5, 3)))
    # a summoned department sees the appeal it helped with; the citizen's token still works
    assert (await api.get(f"/appeals/{no}", headers=tokens["dlyh"])).status_code == 200

    # the dual assessment: the housing commission reported in and was done in time, rated 4
    after = await whistle_figures(api, tokens, "110105-ZJW")
    assert after["name_zh"] == "朝阳区住房和城乡建设委员会"
    grew = {k: after["counts"][k] - before["counts"][k] for k in after["counts"]}
    assert grew == {"parts": 1, "reported_in": 1, "reported_in_in_time": 1, "awaiting_report_in": 0,
                    "report_in_base": 1, "done": 1, "done_in_time": 1, "not_done": 0, "pending": 0, "done_base": 1,
                    "rated": 1}
    rated_before, average_before = before["counts"]["rated"], before["rates"]["rating"] or 0
    assert after["rates"]["rating"] == pytest.approx((rated_before * average_before + 4) / (rated_before + 1), abs=1e-5)
    params = whistle_period() | {"unit": "110105-ZJW", "street": "110105-YAYUNCUN", "measure": "done_in_time",
                                 "limit": 5000}
    r = await api.get("/assessment/whistles/parts", params=params, headers=tokens["supervisor"])
    assert r.status_code == 200, r.text
    [mine] = [i for i in r.json()["items"] if i["appeal_no"] == no]
    assert (mine["street"], mine["district"], mine["status"], mine["rating"]) == ("110105-YAYUNCUN", "110105", "done", 4)
    assert mine["reported_in_in_time"] is True and mine["done_in_time"] is True
    for at in ("requested_at", "report_in_due", "reported_in_at", "due", "done_at"):
        assert mine[at].endswith("+08:00"), (at, mine[at])
    requested, reported_in, report_in_due = (datetime.fromisoformat(mine[k]) for k in
                                             ("requested_at", "reported_in_at", "report_in_due"))
    assert requested <= reported_in <= report_in_due == requested + timedelta(hours=24)
    r = await api.get("/assessment/whistles/parts", params=params | {"format": "csv"}, headers=tokens["supervisor"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    [line] = [row for row in r.text.splitlines() if row.startswith(f"{no},")]
    assert line.startswith(f"{no},110105-ZJW,朝阳区住房和城乡建设委员会,110105,110105-YAYUNCUN,") and line.endswith(",true,4")


def whistle_period() -> dict[str, str]:
    """Around today in Beijing, so the story stays in it even across midnight."""
    today = datetime.now(CHINA_TZ).date()
    return {"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}


async def whistle_figures(api, tokens, unit: str) -> dict:
    """One department's whistle figures for Yayuncun's summonses around today (as an analyst
    reads them); zeros when it has none yet."""
    params = whistle_period() | {"unit": unit, "street": "110105-YAYUNCUN"}
    r = await api.get("/assessment/whistles", params=params, headers=tokens["analyst"])
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert [x["unit"] for x in rows] in ([], [unit])
    return rows[0] if rows else {"counts": r.json()["total"]["counts"], "rates": r.json()["total"]["rates"]}


async def test_grass_story(api, tokens):
    """Weeds cleared within two days; a month later they grow back: the new appeal is linked to
    the old one as related, and handled on its own."""
    body = {"appeal_type": "complaint", "category": "GREEN.WEEDS", "content": "街边有破坏植被的杂草",
            "location": {"street": "110105-CHAOWAI", "address": "吉祥里社区东侧绿地"}}
    old = (await intake(api, tokens, body))["appeal"]
    assert old["handling_unit"] == "110105-YLLH"
    greening = tokens["yllh"]
    await act(api, greening, old["appeal_no"], "accept")
    await act(api, greening, old["appeal_no"], "contact")
    await act(api, greening, old["appeal_no"], "complete", {"result": "weeds cleared"})
    await act(api, tokens["op"], old["appeal_no"], "evaluation", {"resolved": True, "satisfaction": "satisfied"})

    new = (await intake(api, tokens, body | {"content": "杂草又长出来了"}))["appeal"]
    assert (await api.get(f"/appeals/{new['appeal_no']}/duplicates", headers=tokens["op"])).json() == []
    refused = await act(api, tokens["op"], new["appeal_no"], "link", {"master_no": old["appeal_no"], "kind": "duplicate"},
                        status=422)
    assert "related" in refused["error"]["message"]
    linked = await act(api, tokens["op"], new["appeal_no"], "link", {"master_no": old["appeal_no"], "kind": "related"})
    assert (linked["master_no"], linked["link_kind"], linked["status"]) == (old["appeal_no"], "related", "dispatched")
    # a second, open appeal on the same spot is suggested as a duplicate and follows the new one
    third = (await intake(api, tokens, body | {"content": "同一片杂草"}))["appeal"]
    candidates = (await api.get(f"/appeals/{third['appeal_no']}/duplicates", headers=tokens["op"])).json()
    assert new["appeal_no"] in [c["appeal_no"] for c in candidates]
    follows = await act(api, tokens["op"], third["appeal_no"], "link", {"master_no": new["appeal_no"], "kind": "duplicate"})
    assert follows["status"] == "linked"


async def test_supervision_list_and_actions(api, tokens):
    no = (await intake(api, tokens, {"appeal_type": "complaint", "category": "MUNI.STREETLIGHT",
                                     "location": {"street": "110101-ANDINGMEN"}, "content": "路灯不亮"}))["appeal"]["appeal_no"]
    assert (await act(api, tokens["op"], no, "supervise", {"note": "x"}, status=403))["error"]["code"] == "forbidden"
    supervised = await act(api, tokens["dongcheng-sup"], no, "supervise", {"note": "please hurry", "escalate": True})
    assert supervised["supervised"] and supervised["supervision_level"] == "municipal"
    listed = (await api.get("/supervision", params={"limit": 200}, headers=tokens["dongcheng-sup"])).json()
    assert no in [a["appeal_no"] for a in listed["items"]]
    assert all(a["district"] == "110101" for a in listed["items"])
    other = await intake(api, tokens, {"appeal_type": "complaint", "category": "CITY.GARBAGE",
                                       "location": {"street": "110105-CHAOWAI"}, "content": "垃圾"})
    r = await api.post(f"/appeals/{other['appeal']['appeal_no']}/supervise", json={"note": "x"}, headers=tokens["dongcheng-sup"])
    assert r.status_code == 404  # outside the supervisor's district


async def test_transfers_in_and_out(api, tokens):
    came = await intake(api, tokens, {"appeal_type": "complaint", "category": "MUNI.STREETLIGHT", "channel": "transfer_in",
                                      "origin": {"hotline": "hebei", "external_no": "HB-2026-778"},
                                      "location": {"street": "110101-ANDINGMEN"}, "content": "转来的诉求"})
    assert came["appeal"]["origin"] == {"hotline": "hebei", "external_no": "HB-2026-778"}
    assert came["appeal"]["handling_unit"] == "BJ-LIGHTING"  # normal intake after that
    missing = await api.post("/appeals", json={"appeal_type": "complaint", "category": "MUNI", "channel": "transfer_in",
                                               "content": "x"}, headers=tokens["op"])
    assert missing.status_code == 422
    out = await act(api, tokens["op"], came["appeal"]["appeal_no"], "transfer", {"hotline": "tianjin", "reason": "in Wuqing"})
    assert (out["status"], out["outcome"]) == ("closed", "transferred_out")


async def test_whistle_only_from_a_street(api, tokens):
    no = (await intake(api, tokens, {"appeal_type": "complaint", "category": "MUNI.STREETLIGHT",
                                     "location": {"street": "110101-ANDINGMEN"}, "content": "路灯"}))["appeal"]["appeal_no"]
    await act(api, tokens["lighting"], no, "accept")
    refused = await act(api, tokens["lighting"], no, "whistle", {"units": ["110105-CGW"], "task": "t"}, status=403)
    assert "street" in refused["error"]["message"]
    unknown = await act(api, tokens["lighting"], no, "co-handling", {"units": ["NOPE"], "task": "t"}, status=422)
    assert unknown["error"]["details"][0]["field"] == "units"


async def _ids(dev_env, query):
    return [w.id async for w in dev_env.client.list_workflows(query)]


async def _all_parts_done(api, headers, no):
    parts = (await api.get(f"/appeals/{no}", headers=headers)).json()["parts"]
    return all(p["status"] == "done" for p in parts.values())


async def test_a_long_closing_reason_is_recorded_and_the_appeal_goes_on(api, tokens, engine):
    """A 600-character reason for closing a part (the API takes 2,000) used to exceed its column:
    every projection of the appeal then failed and was retried forever, the request answered 503
    and the appeal froze. It is recorded whole, and the lead can complete."""
    created = await intake(api, tokens, {
        "appeal_type": "complaint", "category": "MUNI.DEADENDROAD", "location": {"street": "110105-YAYUNCUN"},
        "content": "断头路", "citizen": {"name": "黄女士", "phone": "13900001111"}})
    no, street = created["appeal"]["appeal_no"], tokens["yayuncun"]
    await act(api, street, no, "accept")
    await act(api, street, no, "contact", {"note": "met the residents"})
    await act(api, street, no, "co-handling", {"units": ["110105-ZJW"], "task": "check the permits"})
    reason = "住建委已口头答复，不再需要书面意见。" * 35  # 630 characters
    closed = await act(api, street, no, "parts/close", {"unit": "110105-ZJW", "reason": reason})
    assert closed["parts"]["co_handling:110105-ZJW"]["closed_reason"] == reason and not closed["projection_failed"]
    done = await act(api, street, no, "complete", {"result": "road opened"})
    assert done["status"] == "awaiting_evaluation"
    async with engine.connect() as conn:
        stored = await conn.scalar(sa.text(
            "SELECT closed_reason FROM appeal_part WHERE appeal_no = :n AND unit_code = '110105-ZJW'"), {"n": no})
    assert stored == reason


async def supervision_list(api, headers, **params) -> list[dict]:
    """Every page of GET /supervision, in the order given."""
    items, offset = [], 0
    while True:
        r = await api.get("/supervision", params=params | {"limit": 200, "offset": offset}, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        items += page["items"]
        offset += 200
        if offset >= page["total"]:
            return items


async def test_supervision_lists_what_needs_supervising_now_oldest_first_and_honours_filters(api, tokens):
    sup = tokens["dongcheng-sup"]
    lights = {"appeal_type": "complaint", "category": "MUNI.STREETLIGHT", "location": {"street": "110101-ANDINGMEN"}}
    older, closed, newer = [
        (await intake(api, tokens, lights | {"content": f"路灯不亮 {i}"}))["appeal"]["appeal_no"] for i in range(3)
    ]
    for no in (older, closed, newer):
        await act(api, sup, no, "supervise", {"note": "please hurry"})
    out = await act(api, tokens["op"], closed, "transfer", {"hotline": "tianjin", "reason": "in Wuqing"})
    assert out["status"] == "closed"

    listed = await supervision_list(api, sup)
    numbers = [a["appeal_no"] for a in listed]
    assert closed not in numbers  # supervised, but nothing is left to supervise
    assert numbers.index(older) < numbers.index(newer)  # supervisors work oldest first
    received = [a["received_at"] for a in listed]
    assert received == sorted(received)
    assert all(a["status"] != "closed" and a["district"] == "110101" for a in listed)

    asked_closed = [a["appeal_no"] for a in await supervision_list(api, sup, status="closed")]
    assert closed in asked_closed and older not in asked_closed
    dispatched = await supervision_list(api, sup, status="dispatched")
    assert older in [a["appeal_no"] for a in dispatched] and {a["status"] for a in dispatched} == {"dispatched"}
    assert older not in [a["appeal_no"] for a in await supervision_list(api, sup, overdue="true")]
    assert older in [a["appeal_no"] for a in await supervision_list(api, sup, overdue="false")]
    assert older not in [a["appeal_no"] for a in await supervision_list(api, sup, unit="110101-CGW")]
    # a district supervisor stays in the district whatever it asks
    assert all(a["district"] == "110101" for a in await supervision_list(api, sup, district="110105"))
    bad = await api.get("/supervision", params={"status": "nonsense"}, headers=sup)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"

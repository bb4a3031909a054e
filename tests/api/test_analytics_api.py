"""The analytics API as an analyst or a supervisor uses it: figures with their periods, every
figure drilled down to the appeals behind it, CSV, refusals with a reason.

The appeals are written straight into the session's database in March 2031 (and February, the
month before), a period no other test's appeals fall in:
  street lights (MUNI.STREETLIGHT) at Andingmen, Dongcheng: 4 in March (weeks 10, 10, 11, 13),
      1 in February; one of March's comes back after AN-L0 was resolved there
  rubbish (CITY.GARBAGE) at Chaowai, Chaoyang: 2 in March, 3 in February
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
import pytest_asyncio

from analytics import recurring, topics
from domain.calendar import CHINA_TZ
from tests.analytics.conftest import add_appeal
from tests.api.test_appeals_e2e import intake, street_lights

pytestmark = pytest.mark.usefixtures("appeal_worker")

MARCH = {"period": "2031-03"}
LIGHTS, RUBBISH, AND, CHAOWAI = "MUNI.STREETLIGHT", "CITY.GARBAGE", "110101-ANDINGMEN", "110105-CHAOWAI"
ADDR = "安定门东大街99号(analytics)"


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


ROWS = [
    # number, category, district, street, address, content, received, closed, outcome
    ("AN-L0", LIGHTS, "110101", AND, ADDR, "路灯不亮", bj(2031, 1, 20, 9), bj(2031, 2, 20, 9), "resolved"),
    ("AN-L1", LIGHTS, "110101", AND, None, "路灯坏了", bj(2031, 2, 10, 9), None, None),
    ("AN-L2", LIGHTS, "110101", AND, ADDR, "路灯又不亮了", bj(2031, 3, 3, 9), None, None),
    ("AN-L3", LIGHTS, "110101", AND, None, "胡同里路灯不亮", bj(2031, 3, 5, 9), None, None),
    ("AN-L4", LIGHTS, "110101", AND, None, "路灯闪烁", bj(2031, 3, 12, 9), None, None),
    ("AN-L5", LIGHTS, "110101", AND, None, "路灯杆歪了", bj(2031, 3, 27, 9), None, None),
    ("AN-R1", RUBBISH, "110105", CHAOWAI, None, "垃圾桶满了没人清运", bj(2031, 3, 4, 9), None, None),
    ("AN-R2", RUBBISH, "110105", CHAOWAI, None, "垃圾堆放", bj(2031, 3, 6, 9), None, None),
    ("AN-R3", RUBBISH, "110105", CHAOWAI, None, "垃圾没人管", bj(2031, 2, 6, 9), None, None),
    ("AN-R4", RUBBISH, "110105", CHAOWAI, None, "垃圾站有异味", bj(2031, 2, 7, 9), None, None),
    ("AN-R5", RUBBISH, "110105", CHAOWAI, None, "垃圾清运不及时", bj(2031, 2, 8, 9), None, None),
]


@pytest_asyncio.fixture(scope="module")
async def data(engine):
    async with engine.begin() as conn:
        for no, category, district, street, address, content, received, closed, outcome in ROWS:
            await add_appeal(conn, no, unit="110101-CGW", category=category, district=district, street=street,
                             address=address, content=content, received_at=received, closed_at=closed,
                             outcome=outcome)
        numbers = [r[0] for r in ROWS]
        await topics.fill_topics(conn, numbers)
        await recurring.fill_returns(conn, numbers)


async def get(api, headers, path, **params):
    r = await api.get(path, params=params or None, headers=headers)  # a drilldown link keeps its query
    assert r.status_code == 200, r.text
    return r.json()


async def test_high_frequency_counts_with_the_month_before_and_their_drilldown(api, tokens, data):
    body = await get(api, tokens["analyst"], "/analytics/hotspots", **MARCH)
    assert body["period"] == {"label": "2031-03", "grain": "month", "from": "2031-03-01", "to": "2031-03-31"}
    assert body["previous"]["label"] == "2031-02"
    cells = {(i["category"]["code"], i["place"]["code"]): i for i in body["items"]}
    lights, rubbish = cells[(LIGHTS, "110101")], cells[(RUBBISH, "110105")]
    assert (lights["count"], lights["previous"], lights["change"], lights["change_pct"]) == (4, 1, 3, 3.0)
    assert (rubbish["count"], rubbish["previous"], rubbish["change"]) == (2, 3, -1)
    assert lights["place"]["name_zh"] == "东城区" and lights["category"]["name_en"] == "Street light out or faulty"
    assert body["total"]["count"] == 6 and body["total"]["previous"] == 4

    now = await get(api, tokens["analyst"], lights["drilldown"])
    assert now["total"] == 4
    assert [a["appeal_no"] for a in now["items"]] == ["AN-L5", "AN-L4", "AN-L3", "AN-L2"]  # latest first
    before = await get(api, tokens["analyst"], lights["drilldown_previous"])
    assert [a["appeal_no"] for a in before["items"]] == ["AN-L1"]
    page = await get(api, tokens["analyst"], lights["drilldown"] + "&limit=2&offset=2")
    assert [a["appeal_no"] for a in page["items"]] == ["AN-L3", "AN-L2"] and page["total"] == 4


async def test_weekly_series_per_street_add_up_and_drill_down(api, tokens, data):
    body = await get(api, tokens["supervisor"], "/analytics/hotspots", place="street", bucket="week",
                     category=LIGHTS, **MARCH)
    [lights] = body["items"]
    assert lights["place"]["code"] == AND
    series = {p["bucket"]: p["count"] for p in lights["series"]}
    # 2031-03-01 is a Saturday: the first week starts in February, counted from 1 March
    assert series == {"2031-W09": 0, "2031-W10": 2, "2031-W11": 1, "2031-W12": 0, "2031-W13": 1, "2031-W14": 0}
    first = lights["series"][0]
    assert (first["from"], first["to"]) == ("2031-03-01", "2031-03-02")
    assert sum(series.values()) == lights["count"]
    w10 = next(p for p in lights["series"] if p["bucket"] == "2031-W10")
    assert [a["appeal_no"] for a in (await get(api, tokens["supervisor"], w10["drilldown"]))["items"]] == [
        "AN-L3", "AN-L2"]


async def test_themes_roll_the_catalogue_up(api, tokens, data):
    body = await get(api, tokens["analyst"], "/analytics/hotspots", category_level="theme", **MARCH)
    cells = {(i["category"]["code"], i["place"]["code"]): i["count"] for i in body["items"]}
    assert cells[("MUNI", "110101")] == 4 and cells[("CITY", "110105")] == 2
    muni = next(i for i in body["items"] if i["category"]["code"] == "MUNI")
    assert "subcategories=true" in muni["drilldown"]
    assert (await get(api, tokens["analyst"], muni["drilldown"]))["total"] == 4


async def test_rising_problems_with_examples(api, tokens, data):
    body = await get(api, tokens["analyst"], "/analytics/rising", **MARCH)
    assert [(i["category"]["code"], i["place"]["code"]) for i in body["items"]][:1] == [(LIGHTS, "110101")]
    assert all(i["change"] > 0 and i["count"] >= 3 for i in body["items"])
    assert body["items"][0]["examples"] == ["AN-L5", "AN-L4", "AN-L3"]
    assert RUBBISH not in {i["category"]["code"] for i in body["items"]}  # falling


async def test_topics_group_the_text_and_drill_down(api, tokens, data):
    body = await get(api, tokens["analyst"], "/analytics/topics", **MARCH)
    got = {i["topic"]: i for i in body["items"]}
    assert (got["路灯"]["count"], got["路灯"]["previous"]) == (4, 1)
    assert (got["垃圾"]["count"], got["垃圾"]["previous"]) == (2, 3)
    assert got["路灯"]["label_en"] == "street lights" and got["路灯"]["share"] == round(4 / 6, 4)
    assert body["appeals"] == 6
    drill = await get(api, tokens["analyst"], got["路灯"]["drilldown"])
    assert {a["appeal_no"] for a in drill["items"]} == {"AN-L2", "AN-L3", "AN-L4", "AN-L5"}


async def test_recurring_problems_with_their_history(api, tokens, data):
    body = await get(api, tokens["analyst"], "/analytics/recurring", **MARCH)
    ours = [i for i in body["items"] if i["history"][0]["appeal_no"].startswith("AN-")]
    assert len(ours) == 1
    [problem] = ours
    assert [a["appeal_no"] for a in problem["history"]] == ["AN-L0", "AN-L2"]
    assert problem["history"][0]["outcome"] == "resolved"
    assert problem["history"][1]["after"] == "AN-L0" and problem["history"][1]["came_back_after_days"] == 11.0
    assert (problem["street"]["code"], problem["address"], problem["matched_by"]) == (AND, ADDR, ["address"])
    assert body["within_days"] == 90 and body["radius_m"] == 200
    shorter = await get(api, tokens["analyst"], "/analytics/recurring", within_days=10, **MARCH)
    assert not [i for i in shorter["items"] if i["history"][0]["appeal_no"].startswith("AN-")]


async def test_csv_exports(api, tokens, data):
    for path, params, column in (
        ("/analytics/hotspots", {"bucket": "month"}, "bucket_count"),
        ("/analytics/rising", {}, "examples"),
        ("/analytics/topics", {}, "share"),
        ("/analytics/recurring", {}, "appeals"),
        ("/analytics/drilldown", {"category": LIGHTS}, "appeal_no"),
    ):
        r = await api.get(path, params=MARCH | params | {"format": "csv"}, headers=tokens["analyst"])
        assert r.status_code == 200, (path, r.text)
        assert r.headers["content-type"].startswith("text/csv")
        assert "2031-03" in r.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
        assert rows and column in rows[0], path
    r = await api.get("/analytics/hotspots", params=MARCH | {"format": "csv"}, headers=tokens["analyst"])
    lights = next(row for row in csv.DictReader(io.StringIO(r.text.lstrip("\ufeff")))
                  if row["category_code"] == LIGHTS and row["place_code"] == "110101")
    assert (lights["count"], lights["previous"], lights["place_zh"]) == ("4", "1", "东城区")


async def test_who_may_read(api, tokens, data):
    for user in ("op", "lighting"):
        r = await api.get("/analytics/hotspots", params=MARCH, headers=tokens[user])
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert (await api.get("/analytics/topics", params=MARCH)).status_code == 401


async def test_a_district_supervisor_sees_the_district_only(api, tokens, data):
    sup = tokens["dongcheng-sup"]
    body = await get(api, sup, "/analytics/hotspots", **MARCH)
    assert {i["place"]["code"] for i in body["items"]} == {"110101"}
    drill = await get(api, sup, "/analytics/drilldown", **MARCH)
    assert {a["district"] for a in drill["items"]} == {"110101"}
    r = await api.get("/analytics/drilldown", params=MARCH | {"district": "110105"}, headers=sup)
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/analytics/hotspots", {"period": "2031-13"}, "period"),
        ("/analytics/hotspots", {"from": "2031-03-10", "to": "2031-03-01"}, "period"),
        ("/analytics/hotspots", {"period": "2031-03", "from": "2031-03-01"}, "period"),
        ("/analytics/hotspots", {"category": "NO.SUCH"}, "category"),
        ("/analytics/hotspots", {"district": "999999"}, "district"),
        ("/analytics/hotspots", {"street": "110101-GOV"}, "street"),  # a district government, not a street
        ("/analytics/hotspots", {"place": "city"}, "place"),
        ("/analytics/rising", {"min_count": 0}, "min_count"),
        ("/analytics/recurring", {"within_days": 366}, "within_days"),
        ("/analytics/drilldown", {"limit": 0}, "limit"),
    ],
)
async def test_bad_input_is_refused_with_the_field_at_fault(api, tokens, path, params, field):
    r = await api.get(path, params=params, headers=tokens["analyst"])
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    details = error["details"]
    fields = {d["field"] for d in details} if isinstance(details, list) else {details["field"]}
    assert any(field in f for f in fields), error


async def test_intake_gives_the_appeal_its_topics_and_finds_that_it_came_back(api, tokens, engine):
    place = "安定门东大街98号(analytics intake)"
    yesterday = datetime.now(CHINA_TZ).replace(microsecond=0)
    async with engine.begin() as conn:
        await add_appeal(conn, "AN-I0", unit="BJ-LIGHTING", category=LIGHTS, district="110101", street=AND,
                         address=place, received_at=yesterday.replace(year=yesterday.year - 1),
                         closed_at=yesterday.replace(day=1) if yesterday.day > 1 else yesterday, outcome="resolved")
    body = street_lights(content="路灯坏了，晚上一片漆黑", location={"street": AND, "address": place})
    no = (await intake(api, tokens, body))["appeal"]["appeal_no"]
    drill = await get(api, tokens["analyst"], "/analytics/drilldown", topic="路灯", street=AND)
    assert no in [a["appeal_no"] for a in drill["items"]]
    history = await get(api, tokens["analyst"], "/analytics/recurring", street=AND)
    assert ["AN-I0", no] in [[a["appeal_no"] for a in i["history"]] for i in history["items"]]

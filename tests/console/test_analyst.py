"""The analyst's pages in a real browser: the three rates with their trend chart drawn, a figure
drilled down to its appeals and on to one appeal, the CSV, the rankings with last month's rank,
hot spots with the district map drawn, the other evidence pages, and a month's theme with its
task's inspection round.

The appeals are written straight into the session's database (as the projection leaves them)
in January–May 2018, months no other test's appeals fall in. Closed in May 2018 (Beijing), the
handling unit being the street itself:
  安定门 (110101-ANDINGMEN): resolved·satisfied, resolved·basically satisfied (both contacted in
      time), unresolved·unsatisfied (late), one never evaluated  → base 3, composite 65.3%
  东华门 (110101-DONGHUAMEN): two resolved·satisfied in time      → 100.0%
  朝外 (110105-CHAOWAI): two resolved·satisfied, one unresolved  → 70.0%
and in April: 安定门 100%, 朝外 55%, 东华门 0%, so May's ranks 东华门 1 (▲2), 朝外 2 (–), 安定门 3 (▼2).
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
from datetime import datetime, timedelta

import pytest
import pytest_asyncio

from analytics import recurring, topics
from domain.calendar import CHINA_TZ
from tests.analytics.conftest import add_appeal

pytestmark = pytest.mark.usefixtures("appeal_worker")

AND, DHM, CW = "110101-ANDINGMEN", "110101-DONGHUAMEN", "110105-CHAOWAI"
LIGHTS, GARBAGE = "MUNI.STREETLIGHT", "CITY.GARBAGE"
ADDR = "安定门内大街1号(analyst)"
MAY = "2018-05"


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


# number, street (= unit), closed, outcome, satisfaction, contacted in time, address
CLOSED = [
    ("AT-0501", AND, bj(2018, 5, 10, 10), "resolved", "satisfied", True, ADDR),
    ("AT-0502", AND, bj(2018, 5, 12, 10), "resolved", "basically_satisfied", True, None),
    ("AT-0503", AND, bj(2018, 5, 14, 10), "unresolved", "unsatisfied", False, None),
    ("AT-0504", AND, bj(2018, 5, 16, 10), "not_evaluated", None, True, None),
    ("AT-0505", DHM, bj(2018, 5, 11, 10), "resolved", "satisfied", True, None),
    ("AT-0506", DHM, bj(2018, 5, 13, 10), "resolved", "satisfied", True, None),
    ("AT-0507", CW, bj(2018, 5, 9, 10), "resolved", "satisfied", True, None),
    ("AT-0508", CW, bj(2018, 5, 15, 10), "resolved", "satisfied", True, None),
    ("AT-0509", CW, bj(2018, 5, 20, 10), "unresolved", "unsatisfied", True, None),
    ("AT-0401", AND, bj(2018, 4, 10, 10), "resolved", "satisfied", True, ADDR),
    ("AT-0402", AND, bj(2018, 4, 12, 10), "resolved", "satisfied", True, None),
    ("AT-0403", DHM, bj(2018, 4, 11, 10), "unresolved", "unsatisfied", False, None),
    ("AT-0404", CW, bj(2018, 4, 13, 10), "resolved", "satisfied", True, None),
    ("AT-0405", CW, bj(2018, 4, 14, 10), "unresolved", "unsatisfied", True, None),
    ("AT-0101", AND, bj(2018, 1, 10, 10), "resolved", "satisfied", True, None),
    ("AT-0102", CW, bj(2018, 1, 11, 10), "resolved", "basically_satisfied", False, None),
    ("AT-0201", AND, bj(2018, 2, 10, 10), "unresolved", "unsatisfied", False, None),
    ("AT-0202", DHM, bj(2018, 2, 12, 10), "resolved", "satisfied", True, None),
    ("AT-0301", AND, bj(2018, 3, 10, 10), "resolved", "satisfied", True, None),
    ("AT-0302", CW, bj(2018, 3, 12, 10), "resolved", "basically_satisfied", True, None),
]
# still open, received in May: more street lights in Dongcheng
OPEN = [(f"AT-05{10 + i}", AND, bj(2018, 5, 3 + i, 9)) for i in range(3)]


@pytest_asyncio.fixture(scope="module")
async def data(engine):
    async with engine.begin() as conn:
        for no, street, closed, outcome, satisfaction, in_time, address in CLOSED:
            district = street[:6]
            lights = district == "110101"
            await add_appeal(
                conn,
                no,
                unit=street,
                category=LIGHTS if lights else GARBAGE,
                district=district,
                street=street,
                address=address,
                content="路灯不亮" if lights else "垃圾没人清运",
                received_at=closed - timedelta(days=2),
                closed_at=closed,
                outcome=outcome,
                satisfaction=satisfaction,
                contacted_in_time=in_time,
            )
        for no, street, received in OPEN:
            await add_appeal(
                conn,
                no,
                unit=street,
                category=LIGHTS,
                district="110101",
                street=street,
                content="胡同里路灯坏了",
                received_at=received,
            )
        numbers = [r[0] for r in CLOSED] + [r[0] for r in OPEN]
        await topics.fill_topics(conn, numbers)
        await recurring.fill_returns(conn, numbers)


CANVAS_INK = """el => {
    const canvas = el.querySelector('canvas');
    if (!canvas) return {width: 0, height: 0, ink: 0};
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let ink = 0;
    for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 0 && (data[i] < 240 || data[i + 1] < 240 || data[i + 2] < 240)) ink++;
    }
    return {width: canvas.width, height: canvas.height, ink: ink};
}"""


async def drawn(person, selector: str) -> dict:
    """The chart's canvas once ECharts has drawn it (console.js marks it data-drawn=2)."""
    chart = person.page.locator(selector)
    await person.page.wait_for_selector(f'{selector}[data-drawn="2"]', timeout=10_000)
    await person.page.wait_for_timeout(400)  # the series' entry animation
    return await chart.evaluate(CANVAS_INK)


def row_of(rows: list[list[str]], text: str) -> list[str]:
    return next(r for r in rows if any(text in cell for cell in r))


async def table(person, selector: str) -> list[list[str]]:
    return await person.page.locator(f"{selector} tbody tr").evaluate_all(
        "trs => trs.map(tr => [...tr.cells].map(td => td.innerText.trim()))"
    )


async def test_the_rates_page_draws_its_trend_and_drills_down_to_the_appeals(person, data, api, tokens):
    analyst = await person("analyst")
    response = await analyst.goto(f"/console/analytics/rates?period={MAY}&group=unit&unit_class=street")
    assert response.status == 200
    canvas = await drawn(analyst, "#trend-chart")
    assert canvas["width"] > 300 and canvas["height"] > 200 and canvas["ink"] > 2000, canvas

    rows = await table(analyst, "#rates-table")
    andingmen = row_of(rows, "安定门")
    # base 3 (one not evaluated), response 2/3, resolution 2/3, satisfaction 1.9/3, composite 65.3%
    assert andingmen[4] == "3" and andingmen[5].startswith("66.7%") and andingmen[8] == "65.3%", andingmen
    assert andingmen[9] == "100.0%" and andingmen[10] == "-34.7", andingmen  # April: 100%
    # the page shows what the API says
    api_rows = (
        await api.get("/assessment/rates", params={"period": MAY, "unit_class": "street"}, headers=tokens["analyst"])
    ).json()["rows"]
    assert {r["key"] for r in api_rows} >= {AND, DHM, CW}
    assert round(next(r for r in api_rows if r["key"] == CW)["rates"]["composite"] * 100, 1) == 70.0
    assert row_of(rows, "朝外")[8] == "70.0%"
    await analyst.shot("analyst-rates")

    # the trend of one street: its own line
    await analyst.page.locator("#rates-table tr", has_text="安定门").locator("a.trend-link").click()
    await analyst.page.wait_for_load_state()
    assert f"entity={AND}" in analyst.page.url
    assert "安定门" in await analyst.page.locator("#trend h2").inner_text()
    assert (await drawn(analyst, "#trend-chart"))["ink"] > 2000

    # the base of 安定门 drills down to its three appeals, each a link to the appeal
    await analyst.page.locator("#rates-table tr", has_text="安定门").locator("td").nth(4).locator("a").click()
    await analyst.page.wait_for_load_state()
    assert "/console/analytics/appeals" in analyst.page.url and "measure=base" in analyst.page.url
    numbers = [r[0] for r in await table(analyst, "#drill-table")]
    assert sorted(numbers) == ["AT-0501", "AT-0502", "AT-0503"]
    await analyst.shot("analyst-drill")
    async with analyst.page.expect_navigation():
        await analyst.page.locator("#drill-table a", has_text="AT-0503").click()
    assert analyst.page.url.endswith("/console/appeals/AT-0503")
    assert "AT-0503" in await analyst.page.locator("h1").inner_text()
    assert analyst.errors == []


async def test_the_overview_maps_the_districts_composite(person, data):
    analyst = await person("analyst")
    await analyst.goto(f"/console/analytics?period={MAY}")
    canvas = await drawn(analyst, "#overview-map")
    assert canvas["width"] > 300 and canvas["ink"] > 5000, canvas
    option = await analyst.page.locator("#overview-map").evaluate("el => JSON.parse(el.dataset.chart)")
    values = {d["name"]: d["value"] for d in option["series"][0]["data"]}
    # Dongcheng: 安定门 and 东华门 together, base 5: (0.1 × 4 + 0.5 × 4 + 0.4 × 3.9) / 5 = 79.2%
    assert values["东城区"] == 79.2 and values["朝阳区"] == 70.0 and values["海淀区"] == 0
    await analyst.shot("analyst-overview")
    assert analyst.errors == []


async def test_every_table_downloads_as_csv(person, data):
    analyst = await person("analyst")
    await analyst.goto(f"/console/analytics/rates?period={MAY}&group=unit&unit_class=street")
    async with analyst.page.expect_download() as caught:
        await analyst.page.locator("form.filters a", has_text="CSV").click()
    download = await caught.value
    assert download.suggested_filename == f"rates-unit-{MAY}.csv"
    text = (await download.path()).read_text(encoding="utf-8-sig")
    rows = {r["key"]: r for r in csv.DictReader(io.StringIO(text))}
    assert set(rows) == {AND, DHM, CW} and rows[AND]["base"] == "3" and rows[AND]["name_zh"]

    # a drill-down's CSV lists the same appeals as its page
    await analyst.goto(f"/console/analytics/appeals?period={MAY}&measure=resolved&district=110101")
    async with analyst.page.expect_download() as caught:
        await analyst.page.locator("p.meta a", has_text="CSV").click()
    text = (await (await caught.value).path()).read_text(encoding="utf-8-sig")
    assert sorted(r["appeal_no"] for r in csv.DictReader(io.StringIO(text))) == [
        "AT-0501",
        "AT-0502",
        "AT-0505",
        "AT-0506",
    ]
    # only the API's lists, and the API's refusal with its reason
    assert (await analyst.goto("/console/analytics/export/users.csv")).status == 404
    response = await analyst.goto("/console/analytics/export/rates.csv?period=2018-13")
    assert response.status == 422 and "2018-13" in await analyst.page.content()


async def test_rankings_show_last_months_rank_and_how_far_each_moved(person, data):
    analyst = await person("analyst")
    await analyst.goto(f"/console/analytics/rankings?period={MAY}&unit_class=street")
    rows = await table(analyst, "#rankings-table")
    ranked = {r[2].split()[0]: (r[0], r[1], r[8]) for r in rows}  # name: rank, move, last rank
    assert ranked["东华门街道"] == ("1", "▲ 2", "3")
    assert ranked["朝外街道"] == ("2", "–", "2")
    assert ranked["安定门街道"] == ("3", "▼ 2", "1")
    await analyst.shot("analyst-rankings")
    assert analyst.errors == []


async def test_hot_spots_with_the_district_map_and_the_other_evidence(person, data):
    analyst = await person("analyst")
    await analyst.goto(f"/console/analytics/hotspots?period={MAY}")
    rows = await table(analyst, "#hotspots-table")
    lights = row_of(rows, "路灯")
    assert "东城区" in lights[2] and lights[3] == "9" and lights[4] == "3", lights  # 6 closed + 3 open; April 3
    canvas = await drawn(analyst, "#hotspots-map")
    assert canvas["width"] > 300 and canvas["ink"] > 5000, canvas
    option = await analyst.page.locator("#hotspots-map").evaluate("el => JSON.parse(el.dataset.chart)")
    dongcheng = next(d for d in option["series"][0]["data"] if d["name"] == "东城区")
    assert dongcheng["value"] == 9 and "district=110101" in dongcheng["href"]
    await analyst.shot("analyst-hotspots")
    # the count drills down to the appeals received
    await analyst.page.locator("#hotspots-table tr", has_text="路灯").locator("td").nth(3).locator("a").click()
    await analyst.page.wait_for_load_state()
    assert len(await table(analyst, "#drill-table")) == 9

    await analyst.goto(f"/console/analytics/topics?period={MAY}")
    assert "路灯" in row_of(await table(analyst, "#topics-table"), "路灯")[1]
    assert (await drawn(analyst, "#topics-chart"))["ink"] > 1000
    await analyst.shot("analyst-topics")

    await analyst.goto(f"/console/analytics/rising?period={MAY}")
    assert row_of(await table(analyst, "#rising-table"), "路灯")[5] == "+6"
    await analyst.goto(f"/console/analytics/recurring?period={MAY}")
    recurring_rows = await table(analyst, "#recurring-table")
    assert row_of(recurring_rows, "路灯")[3] == "1"  # AT-0501 came back after AT-0401 was resolved there
    await analyst.page.locator("#recurring-table details summary").first.click()
    assert "AT-0401" in await analyst.page.locator("#recurring-table details").first.inner_text()
    await analyst.shot("analyst-recurring")
    assert analyst.errors == []


async def test_the_years_problems_of_the_month_with_their_rounds(person, data, api, tokens):
    theme = {
        "month": MAY,
        "title": "背街小巷路灯",
        "description": "路灯不亮反复出现",
        "problems": [
            {"title": "安定门路灯", "category": LIGHTS, "street": AND, "owner_unit": AND, "evidence": ["AT-0501"]},
            {"title": "朝外垃圾清运", "category": GARBAGE, "district": "110105", "street": CW, "owner_unit": CW},
        ],
    }
    r = await api.post("/governance/themes", json=theme, headers=tokens["supervisor"])
    assert r.status_code == 201, r.text
    first = r.json()["problems"][0]["task"]["id"]
    deadline = time.monotonic() + 30
    while (await api.get(f"/governance/tasks/{first}", headers=tokens["supervisor"])).json()["status"] != "active":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    assert (await api.post(f"/governance/tasks/{first}/inspections", headers=tokens["supervisor"])).status_code == 202
    while not (await api.get(f"/governance/tasks/{first}", headers=tokens["supervisor"])).json()["inspections"]:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)

    analyst = await person("analyst")
    await analyst.goto("/console/analytics/themes?year=2018")
    section = analyst.page.locator(f"#theme-{MAY}")
    assert "背街小巷路灯" in await section.locator("h2").inner_text()
    problems = section.locator("article.an-problem")
    assert await problems.count() == 2
    rounds = await problems.first.locator("table.rounds tbody tr").evaluate_all(
        "trs => trs.map(tr => tr.cells[0].innerText.trim())"
    )
    assert rounds == ["1"]
    assert await problems.nth(1).locator("table.rounds").count() == 0
    await analyst.shot("analyst-themes")
    assert analyst.errors == []

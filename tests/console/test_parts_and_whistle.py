"""The parts inbox in a real browser: a street blows the whistle (吹哨) on a road it cannot open
alone, summoning two departments; each finds the summons in its parts inbox, nearest limit first
with the time left, opens the appeal and reports in, then reports done, with the part's own
actions the appeal page offers. The city's supervisor sees every unit's parts."""

from __future__ import annotations

import pytest

from tests.api.test_appeals_e2e import act, intake
from tests.api.test_many_hands_e2e import eventually

pytestmark = pytest.mark.usefixtures("appeal_worker")

SUMMONED = {"zjw": "110105-ZJW", "yllh": "110105-YLLH"}


async def parts_of(api, tokens, no: str) -> dict:
    return (await api.get(f"/appeals/{no}", headers=tokens["yayuncun"])).json()["parts"]


async def test_a_whistle_with_two_departments_reporting_in_and_done_from_their_parts_inbox(person, api, tokens):
    created = await intake(
        api,
        tokens,
        {
            "appeal_type": "help",
            "category": "MUNI.DEADENDROAD",
            "location": {"street": "110105-YAYUNCUN"},
            "content": "北辰西路断头路多年未通，居民绕行",
            "citizen": {"name": "黄女士", "phone": "13900001111"},
        },
    )
    no = created["appeal"]["appeal_no"]
    await act(api, tokens["yayuncun"], no, "accept")
    await act(api, tokens["yayuncun"], no, "contact", {"note": "met the residents"})

    # the street blows the whistle from the appeal page
    street = await person("yayuncun")
    await street.goto(f"/console/appeals/{no}")
    await street.act(
        "whistle",
        {
            "units": ", ".join(SUMMONED.values()),
            "task": "打通北辰西路",
            "limit_working_days": "10",
            "report_in_hours": "24",
        },
    )
    assert "done=whistle" in street.page.url
    await eventually(lambda: _all(api, tokens, no, {"requested"}))

    for user, unit in SUMMONED.items():
        dept = await person(user)
        await dept.goto("/console/parts")
        row = dept.page.locator(f'#parts-list tr[data-appeal="{no}"]')
        await row.wait_for()
        assert await row.get_attribute("data-kind") == "whistle" and await row.get_attribute("data-unit") == unit
        text = await row.inner_text()
        assert "吹哨报到" in text and "报到时限" in text and "亚运村" in text  # the lead street, by name
        assert "小时" in await row.locator(".left").inner_text()  # 24 hours to report in
        assert await row.locator(".left.ok").count() == 1
        # only its own unit's parts, and they update themselves
        units = await dept.page.locator("#parts-list tbody tr").evaluate_all("rows => rows.map(r => r.dataset.unit)")
        assert set(units) == {unit}
        assert await dept.page.locator("#parts-list").get_attribute("hx-trigger") == "every 15s"
        if user == "zjw":
            await dept.shot("parts-inbox-department")

        async with dept.page.expect_navigation():
            await row.locator("a.open-appeal").click()
        assert dept.page.url.endswith(f"/console/appeals/{no}")
        part = f"whistle:{unit}"
        await dept.act("report-in", {"plan": f"{unit}：负责本部门手续"}, part=part)
        assert "done=report-in" in dept.page.url
        offered = await dept.page.locator(f'details.action[data-part="{part}"]').evaluate_all(
            "els => els.map(e => e.dataset.action)"
        )
        assert "report" in offered and "report-in" not in offered
        if user == "zjw":
            await dept.shot("parts-appeal-reported-in")
        await dept.act("report", {"result": f"{unit}：已完成"}, part=part)
        assert "done=report" in dept.page.url

        if user == "zjw":  # done: no longer among the open parts, listed among the done ones
            await dept.goto("/console/parts")
            assert await dept.page.locator(f'#parts-list tr[data-appeal="{no}"]').count() == 0
            await dept.goto("/console/parts?status=done&kind=whistle")
            assert await dept.page.locator(f'#parts-list tr[data-appeal="{no}"]').count() == 1
        assert dept.errors == []

    await eventually(lambda: _all(api, tokens, no, {"done"}))
    timeline = [e["kind"] for e in (await api.get(f"/appeals/{no}/timeline", headers=tokens["op"])).json()]
    assert timeline.count("part_reported_in") == 2 and timeline.count("part_done") == 2


async def test_the_city_supervisor_sees_every_units_parts_and_the_rows_refresh(person, api, tokens):
    created = await intake(
        api,
        tokens,
        {
            "appeal_type": "complaint",
            "category": "MUNI.DEADENDROAD",
            "location": {"street": "110105-YAYUNCUN"},
            "content": "小区门口道路破损",
        },
    )
    no = created["appeal"]["appeal_no"]
    await act(api, tokens["yayuncun"], no, "accept")
    await act(api, tokens["yayuncun"], no, "co-handling", {"units": ["110105-DLYH"], "task": "修补路面"})
    await eventually(lambda: _all(api, tokens, no, {"requested"}))

    supervisor = await person("supervisor")
    await supervisor.goto("/console/parts?unit=110105-DLYH&kind=co_handling")
    row = supervisor.page.locator(f'#parts-list tr[data-appeal="{no}"]')
    await row.wait_for()
    assert "朝阳区道路养护中心" in await row.inner_text()  # the unit asked, by name
    units = await supervisor.page.locator("#parts-list tbody tr").evaluate_all("rows => rows.map(r => r.dataset.unit)")
    assert set(units) == {"110105-DLYH"}
    # what the page asks every 15 s: the rows alone, as they are now
    fragment = await supervisor.page.evaluate(
        """url => fetch(url, {headers: {"HX-Request": "true"}}).then(r => r.text())""",
        "/console/parts?unit=110105-DLYH&kind=co_handling",
    )
    assert fragment.lstrip().startswith('<section id="parts-list"') and no in fragment and "<html" not in fragment
    await supervisor.shot("parts-inbox-supervisor")
    assert supervisor.errors == []


async def _all(api, tokens, no: str, statuses: set[str]) -> bool:
    parts = await parts_of(api, tokens, no)
    return bool(parts) and {p["status"] for p in parts.values()} <= statuses

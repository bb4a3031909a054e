"""The supervisor's page in a real browser: an overdue order found in the list (oldest first,
counted by district and unit), supervised from its row — a note, a new completion limit,
escalation to the city — and a refusal shown by its field; a district supervisor sees the
district only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from domain.calendar import CHINA_TZ
from tests.api.test_appeals_e2e import act, intake, street_lights, wait_for

pytestmark = pytest.mark.usefixtures("appeal_worker")


async def overdue_appeal(api, tokens, content: str) -> str:
    """An order past its completion limit within seconds: a supervisor's new limit two seconds
    away (the API's own way to move the limit), then the limit passes."""
    no = (await intake(api, tokens, street_lights(content=content)))["appeal"]["appeal_no"]
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    await act(api, tokens["dongcheng-sup"], no, "supervise", {"note": "今天办结", "new_due": soon})
    await wait_for(api, tokens["op"], no, lambda body: body["overdue"], timeout=30)
    return no


async def test_a_supervisor_supervises_an_overdue_order_from_the_list(person, api, tokens):
    no = await overdue_appeal(api, tokens, "路灯不亮三天了，督办测试")
    sup = await person("supervisor")
    await sup.goto("/console/supervision?district=110101&overdue=true")
    item = sup.page.locator(f'tbody.sup-item[data-appeal="{no}"]')
    await item.wait_for()
    assert "已超期" in await item.inner_text() and "北京市城市照明管理中心" in await item.inner_text()
    assert await item.locator("tr.overdue .left.red").count() == 1
    # oldest first
    received = await sup.page.locator("tbody.sup-item").evaluate_all(
        "items => items.map(i => i.querySelector('td:nth-child(6)').textContent)"
    )
    assert received == sorted(received)
    # counted by district and by unit, and on the district map
    district = sup.page.locator('#counts-by-district tr[data-district="110101"]')
    overdue = int(await district.locator(".overdue-n").inner_text())
    assert overdue >= 1
    assert int(await sup.page.locator('#counts-by-unit tr[data-unit="BJ-LIGHTING"] .overdue-n').inner_text()) >= 1
    drawn = sup.page.locator('#overdue-map[data-drawn="2"] canvas')
    await drawn.wait_for()
    option = json.loads(await sup.page.locator("#overdue-map").get_attribute("data-chart"))
    assert {"name": "东城区", "value": overdue, "label": {"show": False}} in [
        {k: v for k, v in d.items() if k != "href"} for d in option["series"][0]["data"]
    ]
    await sup.shot("supervisor-overdue-list")

    # a refusal comes back by its field, with what was typed
    form = item.locator('details[data-action="supervise"]')
    await form.locator("summary").click()
    await form.locator('[name="note"]').fill("请本周内办结")
    await form.locator('[name="new_due"]').fill("2020-01-01T10:00")
    async with sup.page.expect_navigation():
        await form.locator("button[type=submit]").click()
    form = sup.page.locator(f'tbody.sup-item[data-appeal="{no}"] details[data-action="supervise"]')
    error = form.locator(".has-error .field-error")
    await error.wait_for()
    assert "past" in await error.inner_text()
    assert await form.locator('[name="new_due"]').evaluate("e => e.closest('.field').classList.contains('has-error')")
    assert await form.locator('[name="note"]').input_value() == "请本周内办结"
    await sup.shot("supervisor-field-error")

    # a new limit three days on, escalated to the city
    new_due = (datetime.now(CHINA_TZ) + timedelta(days=3)).replace(second=0, microsecond=0)
    await form.locator('[name="new_due"]').fill(new_due.strftime("%Y-%m-%dT%H:%M"))
    await form.locator('[name="escalate"]').check()
    async with sup.page.expect_navigation():
        await form.locator("button[type=submit]").click()
    assert "done=" in sup.page.url and "district=110101" in sup.page.url  # back to the list as it was filtered
    assert no in await sup.page.locator(".flash").inner_text()
    body = await wait_for(api, tokens["op"], no, lambda b: b["supervision_level"] == "municipal")
    assert body["supervised"] and not body["overdue"]
    assert datetime.fromisoformat(body["limits"]["completion"]["due"]) == new_due
    timeline = (await api.get(f"/appeals/{no}/timeline", headers=tokens["op"])).json()
    assert [e["detail"]["note"] for e in timeline if e["kind"] == "supervised"][-1] == "请本周内办结"
    # no longer overdue: gone from the overdue list; escalation is not offered twice
    assert await sup.page.locator(f'tbody.sup-item[data-appeal="{no}"]').count() == 0
    await sup.goto("/console/supervision?district=110101")
    item = sup.page.locator(f'tbody.sup-item[data-appeal="{no}"]')
    assert "市级督办" in await item.inner_text()
    assert await item.locator('[name="escalate"]').count() == 0
    await sup.shot("supervisor-supervised")
    assert [e for e in sup.errors if "status of 422" not in e] == []  # the refusal's page answered 422


async def test_a_district_supervisor_sees_the_district_only(person, api, tokens):
    await overdue_appeal(api, tokens, "路灯不亮，区级督办测试")
    sup = await person("dongcheng-sup")
    await sup.goto("/console/supervision?district=110105")  # asks for another district: held to its own
    districts = await sup.page.locator("#counts-by-district tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.district)"
    )
    assert districts == ["110101"]
    shown = await sup.page.locator("tbody.sup-item td:nth-child(4)").all_inner_texts()
    assert shown and all(place.startswith("东城区") for place in shown)
    assert await sup.page.locator('#supervision-filters select[name="district"]').count() == 0
    await sup.shot("supervisor-district")

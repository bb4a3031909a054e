"""The operator's pages in a real browser: the street-lights story entirely through the pages
(the operator records it seeing the catalogue's choice, the lighting centre handles it, the
return visit finds it unresolved, it is handled again, the citizen evaluates it on a phone), a
jurisdiction objection reviewed from the queue, a refusal by its field, and a double submit
recorded once."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import httpx
import pytest

from tests.api.test_appeals_e2e import act, intake, street_lights

pytestmark = pytest.mark.usefixtures("appeal_worker")


async def status_of(api, tokens, no: str) -> dict:
    r = await api.get(f"/appeals/{no}", headers=tokens["op"])
    assert r.status_code == 200, r.text
    return r.json()


async def fill_street_lights(op, content: str) -> None:
    """The new order as an operator types it, the keyboard only (Tab from field to field)."""
    page = op.page
    await op.goto("/console/intake")
    assert await page.evaluate("document.activeElement.id") == "appeal_type"  # autofocus
    await page.select_option("#appeal_type", "complaint")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "category"
    await page.keyboard.type("路灯")
    # the list offers the leaf with its parent's name; the operator takes it
    option = page.locator('#categories option[value$=" MUNI.STREETLIGHT"]')
    assert "市政设施" in (await option.text_content())
    await page.fill("#category", await option.get_attribute("value"))
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "content"
    await page.keyboard.type(content)
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "location-district"
    await page.select_option("#location-district", "110101")
    # only the district's streets are offered
    assert await page.locator('#location-street option[data-district="110105"]:not([hidden])').count() == 0
    await page.select_option("#location-street", "110101-ANDINGMEN")
    await page.fill("#location-address", "方家胡同")
    await page.fill("#citizen-name", "刘先生")
    await page.fill("#citizen-phone", "13812345678")


async def test_street_lights_story_through_the_pages(person, api, tokens):
    mark = f"console-story-{uuid.uuid4().hex[:6]}"
    # a neighbour called about the same lane earlier today
    earlier = (await intake(api, tokens, street_lights(content="方家胡同东口路灯不亮")))["appeal"]["appeal_no"]
    op = await person("op")
    await fill_street_lights(op, f"胡同里路灯昏暗，晚上经常有人摔跤（{mark}）")
    # before saving: the catalogue's choice, by name and code, and the open appeal at the same place
    route = op.page.locator('#preview-route .unit[data-unit="BJ-LIGHTING"]')
    await route.wait_for()
    assert "城市照明管理中心" in await route.text_content()
    await op.page.locator(f'#preview-similar a[href="/console/appeals/{earlier}"]').wait_for()
    await op.shot("operator-new-order")

    # Enter saves (from the address field)
    await op.page.focus("#location-address")
    async with op.page.expect_navigation():
        await op.page.keyboard.press("Enter")
    assert re.search(r"/console/intake/BJ-\d{8}-\d+/saved", op.page.url), op.page.url
    no = (await op.page.text_content("#saved-no")).strip()
    assert "BJ-LIGHTING" in await op.page.text_content("#saved-unit")
    assert (await status_of(api, tokens, no))["status"] == "dispatched"
    link = await op.page.input_value("#citizen-link")
    assert link.startswith(op.base + f"/console/citizen/{no}?t=")
    assert await op.page.evaluate("document.activeElement.id") == "next-order"
    await op.shot("operator-saved")

    # the lighting centre accepts, records the contact and reports the result from the appeal page
    lighting = await person("lighting")
    await lighting.goto(f"/console/appeals/{no}")
    await lighting.act("accept")
    await lighting.act("contact", {"note": "已电话联系刘先生，约定今晚查看"})
    await lighting.act("complete", {"result": "已更换灯泡"})
    assert (await status_of(api, tokens, no))["status"] == "awaiting_evaluation"
    await lighting.shot("operator-story-unit-completed")

    # the operator's return-visit queue shows it; the citizen says it is not resolved
    await op.goto("/console/queues?queue=return_visits")
    assert int(await op.page.get_attribute("#tab-return_visits .count", "data-count")) >= 1
    await op.page.fill("#queue-q", no)
    async with op.page.expect_navigation():
        await op.page.press("#queue-q", "Enter")
    row = op.page.locator(f'table[data-queue="return_visits"] a[href="/console/appeals/{no}"]')
    await row.wait_for()
    await op.shot("operator-return-visits")
    async with op.page.expect_navigation():
        await row.click()
    await op.act("evaluation", {"resolved": False, "satisfaction": "unsatisfied", "contacted": "yes"})
    appeal = await status_of(api, tokens, no)
    assert appeal["status"] == "rehandling" and appeal["rehandle_count"] == 1
    await op.shot("operator-return-visit-unresolved")

    # handled again
    await lighting.goto(f"/console/appeals/{no}")
    await lighting.act("contact", {"note": "再次联系，线路故障已排除"})
    await lighting.act("complete", {"result": "更换了整段线缆，路灯恢复"})
    assert (await status_of(api, tokens, no))["status"] == "awaiting_evaluation"

    # the citizen opens the link on a phone and evaluates: satisfied, closed
    citizen = await person(phone=True)
    parts = urlsplit(link)
    await citizen.goto(f"{parts.path}?{parts.query}")
    assert await citizen.page.get_attribute("body", "class") == "phone citizen"
    assert "城市照明管理中心" in await citizen.page.text_content("#citizen-unit")
    timeline = await citizen.page.text_content("#citizen-timeline")
    assert re.search(r"退回 \S*城市照明管理中心 重新办理", timeline) and "更换了整段线缆" in timeline
    await citizen.shot("citizen-before-evaluation")
    await citizen.page.check('input[name=resolved][value="true"]')
    await citizen.page.check('input[name=satisfaction][value="satisfied"]')
    await citizen.page.check('input[name=contacted][value="yes"]')
    await citizen.page.fill("#comment", "谢谢，路灯亮了")
    async with citizen.page.expect_navigation():
        await citizen.page.click("#evaluation-submit")
    await citizen.page.locator("#thanks").wait_for()
    assert await citizen.page.get_attribute("#status", "data-status") == "closed"
    assert await citizen.page.locator("#evaluation-form").count() == 0
    appeal = await status_of(api, tokens, no)
    assert appeal["status"] == "closed" and appeal["satisfaction"] == "satisfied" and appeal["resolved"] is True
    # the citizen's page names units, never the staff who acted
    shown = await citizen.page.text_content("main")
    assert "lighting" not in shown.lower() and "Lighting centre" not in shown
    await citizen.shot("citizen-evaluated")
    assert op.errors == lighting.errors == citizen.errors == []


async def test_a_jurisdiction_objection_reviewed_from_the_queue(person, api, tokens):
    mark = f"console-objection-{uuid.uuid4().hex[:6]}"
    no = (await intake(api, tokens, street_lights(content=f"路灯不亮（{mark}）")))["appeal"]["appeal_no"]
    lighting = await person("lighting")
    await lighting.goto(f"/console/appeals/{no}")
    await lighting.act("objection", {"reason": "该路段路灯由街道自管", "suggested_unit": "110101-ANDINGMEN"})
    assert (await status_of(api, tokens, no))["status"] == "objection_raised"

    op = await person("op")
    await op.goto("/console/queues?queue=objections")
    await op.page.fill("#queue-q", mark)
    async with op.page.expect_navigation():
        await op.page.press("#queue-q", "Enter")
    table = op.page.locator('table[data-queue="objections"]')
    assert "该路段路灯由街道自管" in await table.text_content()
    assert "安定门街道" in await table.text_content()
    await op.shot("operator-objection-queue")
    async with op.page.expect_navigation():
        await table.locator(f'a[href="/console/appeals/{no}"]').click()
    await op.act("objection-review", {"uphold": True, "comment": "核实为街道自管路灯"})
    appeal = await status_of(api, tokens, no)
    assert appeal["status"] == "dispatched" and appeal["handling_unit"] == "110101-ANDINGMEN"
    await op.shot("operator-objection-upheld")
    await op.goto("/console/queues?queue=objections&q=" + mark)
    assert await op.page.locator(f'a[href="/console/appeals/{no}"]').count() == 0


async def test_a_refusal_is_shown_by_its_field_and_what_was_typed_is_kept(person, api, tokens):
    op = await person("op")
    await fill_street_lights(op, "咨询路灯报修电话")
    await op.page.select_option("#appeal_type", "consultation")
    await op.page.select_option("#decision", "answer")
    assert await op.page.is_visible("#answer") and not await op.page.is_visible("#unit")
    await op.page.fill("#citizen-phone", "not a phone")
    await op.page.focus("#decision")
    async with op.page.expect_navigation():  # Enter saves from a choice too
        await op.page.keyboard.press("Enter")
    page = op.page
    # both reasons by their fields: the phone's (pydantic's) and the answer's (the intake rule's)
    assert await page.locator("#err-citizen-phone").count() == 1
    assert await page.input_value("#citizen-phone") == "not a phone"
    assert await page.input_value("#content") == "咨询路灯报修电话"
    assert await page.input_value("#location-street") == "110101-ANDINGMEN"
    assert (await page.input_value("#category")).endswith("MUNI.STREETLIGHT")
    await op.shot("operator-field-error")
    await page.fill("#citizen-phone", "13812345678")
    async with page.expect_navigation():
        await page.click("#intake-submit")
    assert await page.locator("#err-answer").count() == 1  # the answer is required for this decision
    await page.fill("#answer", "路灯报修请拨打 12345 或 96199")
    async with page.expect_navigation():
        await page.click("#intake-submit")
    no = (await page.text_content("#saved-no")).strip()
    assert (await status_of(api, tokens, no))["status"] == "answered"


async def test_a_double_submit_records_once(person, console_url, api, tokens):
    mark = f"console-double-{uuid.uuid4().hex[:6]}"
    op = await person("op")
    await op.goto("/console/intake")
    csrf = await op.page.get_attribute('meta[name="csrf-token"]', "content")
    key = await op.page.get_attribute('input[name="idempotency_key"]', "value")
    form = {
        "csrf": csrf,
        "idempotency_key": key,
        "appeal_type": "complaint",
        "category": "路灯不亮/路灯故障 MUNI.STREETLIGHT",
        "location.street": "110101-ANDINGMEN",
        "content": f"路灯不亮（{mark}）",
        "decision": "dispatch",
    }
    cookies = {c["name"]: c["value"] for c in await op.context.cookies()}
    async with httpx.AsyncClient(base_url=console_url, cookies=cookies) as client:
        first = await client.post("/console/intake", data=form)
        second = await client.post("/console/intake", data=form)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    found = (await api.get("/appeals", params={"q": mark}, headers=tokens["op"])).json()
    assert found["total"] == 1


async def test_a_unit_cannot_use_the_operators_pages(person):
    lighting = await person("lighting")
    for path in ("/console/intake", "/console/queues"):
        response = await lighting.goto(path)
        assert response.status == 403, path


async def test_the_preview_names_an_unknown_category_and_similar_open_appeals(person, api, tokens):
    mark = f"console-similar-{uuid.uuid4().hex[:6]}"
    earlier = (await intake(api, tokens, street_lights(content=f"路灯不亮（{mark}）")))["appeal"]["appeal_no"]
    op = await person("op")
    await op.goto("/console/intake")
    await op.page.fill("#category", "没有这种类别")
    await op.page.locator("#preview-category").wait_for()
    await op.page.fill("#category", "路灯不亮/路灯故障 MUNI.STREETLIGHT")
    await op.page.select_option("#location-street", "110101-ANDINGMEN")  # the street sets its district
    assert await op.page.input_value("#location-district") == "110101"
    link = op.page.locator(f'#preview-similar a[href="/console/appeals/{earlier}"]')
    await link.wait_for()
    assert await link.get_attribute("target") == "_blank"


async def test_an_extension_request_reviewed_from_the_queue_which_refreshes_itself(person, api, tokens):
    mark = f"console-extension-{uuid.uuid4().hex[:6]}"
    no = (await intake(api, tokens, street_lights(content=f"整条胡同路灯不亮（{mark}）")))["appeal"]["appeal_no"]
    await act(api, tokens["lighting"], no, "accept")
    op = await person("op")
    await op.goto(f"/console/queues?queue=extensions&q={mark}")
    assert await op.page.locator(f'a[href="/console/appeals/{no}"]').count() == 0
    # the unit asks for more time; the open queue's panel shows it at its next refresh
    await act(api, tokens["lighting"], no, "extension", {"reason": "需更换整段地下线缆"})
    refresh = await op.page.get_attribute("#queue-panel", "hx-get")
    assert await op.page.get_attribute("#queue-panel", "hx-trigger") == "every 15s"
    await op.page.evaluate("htmx.trigger('#queue-panel', 'every 15s')")  # what the timer fires
    await op.page.locator(f'#queue-panel a[href="/console/appeals/{no}"]').wait_for()
    assert mark in refresh and "queue=extensions" in refresh
    assert int(await op.page.get_attribute("#tab-extensions .count", "data-count")) >= 1
    await op.shot("operator-extension-queue")
    async with op.page.expect_navigation():
        await op.page.click(f'#queue-panel a[href="/console/appeals/{no}"]')
    await op.act("extension-review", {"approve": True, "comment": "同意延期"})
    appeal = await status_of(api, tokens, no)
    assert appeal["extension"] == "approved" and appeal["urgency"] == "complex"
    assert op.errors == []


async def test_the_operator_finds_an_order_by_its_number_in_the_appeal_list(person, api, tokens):
    """The list's filters are the page's own query (not refused as undeclared API parameters)."""
    no = (await intake(api, tokens, street_lights()))["appeal"]["appeal_no"]
    op = await person("op")
    response = await op.goto(f"/console/appeals?q={no}&status=dispatched")
    assert response.status == 200
    await op.page.locator(f'#appeal-list a[href="/console/appeals/{no}"]').wait_for()

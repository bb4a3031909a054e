"""The console's frame, in a real browser: logging in (an HttpOnly, SameSite cookie), the
Content-Security-Policy, the actions a page offers (exactly the API's), a form error by its
field, a unit that cannot open another unit's order by its address, CSRF, logging out."""

from __future__ import annotations

import csv
import io
import re
import uuid

import httpx
import pytest

from tests.api.test_appeals_e2e import intake, street_lights

pytestmark = pytest.mark.usefixtures("appeal_worker")


async def test_login_sets_a_shift_cookie_and_every_page_has_a_strict_csp(person, console_url):
    lighting = await person("lighting")
    cookie = next(c for c in await lighting.context.cookies() if c["name"] == "jiesu_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/console"
    response = await lighting.goto("/console/inbox")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    html = await lighting.page.content()
    # no inline script anywhere: every <script> loads a file of the app
    assert all(re.search(r'src="/console/static/', tag) for tag in re.findall(r"<script[^>]*>", html)), html
    assert lighting.errors == []
    await lighting.shot("core-inbox")


async def test_a_unit_accepts_from_the_appeal_page_and_sees_only_what_the_api_offers(person, api, tokens):
    no = (await intake(api, tokens, street_lights()))["appeal"]["appeal_no"]
    lighting = await person("lighting")
    await lighting.goto(f"/console/appeals/{no}")
    offered = {a["route"] for a in (await api.get(f"/appeals/{no}/actions", headers=tokens["lighting"])).json()}
    shown = set(await lighting.page.locator("details.action").evaluate_all("els => els.map(e => e.dataset.action)"))
    assert shown == offered and "accept" in shown and "objection" in shown
    await lighting.act("accept")
    assert "done=accept" in lighting.page.url
    assert (await api.get(f"/appeals/{no}", headers=tokens["lighting"])).json()["status"] == "accepted"
    shown = set(await lighting.page.locator("details.action").evaluate_all("els => els.map(e => e.dataset.action)"))
    assert "accept" not in shown and "contact" in shown
    await lighting.shot("core-appeal-accepted")


async def test_a_refusal_is_shown_by_its_field(person, api, tokens):
    no = (await intake(api, tokens, street_lights()))["appeal"]["appeal_no"]
    lighting = await person("lighting")
    await lighting.goto(f"/console/appeals/{no}")
    await lighting.act("objection", {"reason": "不是本单位职责", "suggested_unit": "BJ-LIGHTING"})
    error = lighting.page.locator('details[data-action="objection"] .has-error .field-error')
    await error.wait_for()
    assert "suggested" in (await error.text_content()) or "单位" in (await error.text_content())
    # what was typed is kept
    assert await lighting.page.locator('details[data-action="objection"] textarea[name=reason]').input_value() == "不是本单位职责"
    await lighting.shot("core-field-error")


async def test_a_unit_cannot_open_another_units_order_by_its_address(person, api, tokens):
    no = (await intake(api, tokens, street_lights()))["appeal"]["appeal_no"]
    water = await person("water")
    response = await water.goto(f"/console/appeals/{no}")
    assert response.status == 404
    text = await water.page.content()
    assert "胡同里路灯" not in text and "BJ-LIGHTING" not in text
    await water.shot("core-other-units-order")


async def test_a_form_without_its_csrf_token_is_refused(person, console_url, api, tokens):
    no = (await intake(api, tokens, street_lights()))["appeal"]["appeal_no"]
    lighting = await person("lighting")
    cookies = {c["name"]: c["value"] for c in await lighting.context.cookies()}
    async with httpx.AsyncClient(base_url=console_url, cookies=cookies) as client:
        r = await client.post(f"/console/appeals/{no}/act", data={"action_path": f"/appeals/{no}/accept"})
    assert r.status_code == 403
    assert (await api.get(f"/appeals/{no}", headers=tokens["lighting"])).json()["status"] == "dispatched"


async def test_logging_out_ends_the_session(person):
    lighting = await person("lighting")
    await lighting.goto("/console/inbox")
    async with lighting.page.expect_navigation():
        await lighting.page.click("#logout")
    assert "/console/login" in lighting.page.url
    await lighting.goto("/console/inbox")
    assert "/console/login" in lighting.page.url


async def test_a_list_downloads_as_csv_with_what_the_list_shows(person, api, tokens):
    """The inbox's CSV button: the file the API writes (names beside codes, Beijing times), under
    the list's own name, with the list's filters; the unit's appeals only."""
    mark = f"csvinbox-{uuid.uuid4().hex[:8]}"
    no = (await intake(api, tokens, street_lights(content=f"{mark} 路灯昏暗")))["appeal"]["appeal_no"]
    lighting = await person("lighting")
    await lighting.goto(f"/console/inbox?q={mark}")
    async with lighting.page.expect_download() as caught:
        await lighting.page.locator("a.button", has_text="CSV").click()
    download = await caught.value
    assert download.suggested_filename == "inbox.csv"
    rows = list(csv.DictReader(io.StringIO((await download.path()).read_text(encoding="utf-8-sig"))))
    assert [r["appeal_no"] for r in rows] == [no]
    row = rows[0]
    assert row["handling_unit"] == "BJ-LIGHTING" and row["category_name"] == "路灯不亮/路灯故障"
    # the contact limit or the objection window, whichever is due first (by the hour of the run)
    assert (row["next_limit"], row["next_limit_name"]) in {("contact", "联系时限"), ("objection", "异议时限")}
    assert row["received_at"].endswith("+08:00") and row["next_due"].endswith("+08:00")
    # another unit's inbox file has none of it
    water = await person("water")
    await water.goto(f"/console/inbox?q={mark}")
    async with water.page.expect_download() as caught:
        await water.page.locator("a.button", has_text="CSV").click()
    text = (await (await caught.value).path()).read_text(encoding="utf-8-sig")
    assert list(csv.DictReader(io.StringIO(text))) == []

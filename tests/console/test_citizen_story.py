"""The citizen's page, on a phone-sized browser: no login, the appeal as the API shows it to its
token, the evaluation only when it is due (and only with the page's own form token), and one
plain 404 for a wrong link."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

import httpx
import pytest

from tests.api.test_appeals_e2e import intake, street_lights

pytestmark = pytest.mark.usefixtures("appeal_worker")


def citizen_path(saved: dict) -> str:
    no = saved["appeal"]["appeal_no"]
    return f"/console/citizen/{no}?" + urlencode({"t": saved["citizen_token"]})


async def test_a_wrong_link_is_one_plain_404(person, api, tokens):
    mark = f"citizen-404-{uuid.uuid4().hex[:6]}"
    saved = await intake(api, tokens, street_lights(content=f"路灯不亮（{mark}）"))
    no = saved["appeal"]["appeal_no"]
    citizen = await person(phone=True)
    pages = []
    for path in (
        f"/console/citizen/{no}?t=" + "x" * 32,  # a wrong token
        f"/console/citizen/{no}",  # none
        f"/console/citizen/{no}?t=" + "x" * 300,  # absurd
        "/console/citizen/BJ-19990101-000001?" + urlencode({"t": saved["citizen_token"]}),  # another appeal's
    ):
        response = await citizen.goto(path)
        assert response.status == 404, path
        text = await citizen.page.text_content("main")
        assert mark not in text and "BJ-LIGHTING" not in text and "照明" not in text and no not in text
        pages.append(text)
    assert len(set(pages)) == 1  # the same page, whatever was wrong
    await citizen.shot("citizen-wrong-link")


async def test_the_citizen_evaluates_an_answered_consultation_on_a_phone(person, console_url, api, tokens):
    # dispatched and being handled: the page says so, and offers no evaluation yet
    handled = await intake(api, tokens, street_lights())
    citizen = await person(phone=True)
    await citizen.goto(citizen_path(handled))
    assert await citizen.page.get_attribute("#status", "data-status") == "dispatched"
    assert await citizen.page.locator("#evaluation-form").count() == 0
    assert "城市照明管理中心" in await citizen.page.text_content("#citizen-unit")

    # a consultation answered on the spot: the citizen may evaluate the answer
    answered = await intake(
        api,
        tokens,
        street_lights(appeal_type="consultation", decision="answer", answer="路灯报修请拨打 96199，24 小时受理"),
    )
    no = answered["appeal"]["appeal_no"]
    await citizen.goto(citizen_path(answered))
    assert "96199" in await citizen.page.text_content("#citizen-timeline")
    form = citizen.page.locator("#evaluation-form")
    await form.wait_for()
    await citizen.shot("citizen-answered")

    # the form's token is bound to the citizen's: a post without it changes nothing
    async with httpx.AsyncClient(base_url=console_url) as client:
        r = await client.post(
            f"/console/citizen/{no}",
            data={"t": answered["citizen_token"], "resolved": "true", "satisfaction": "satisfied", "csrf": "forged"},
        )
    assert r.status_code == 403
    assert (await api.get(f"/appeals/{no}", headers=tokens["op"])).json()["status"] == "answered"

    # a question left unanswered is named by the API, shown by its question
    await citizen.page.evaluate(
        "document.querySelectorAll('#evaluation-form [required]').forEach(e => e.removeAttribute('required'))"
    )
    await citizen.page.check('input[name=satisfaction][value="basically_satisfied"]')
    await citizen.page.fill("#comment", "回答很清楚")
    async with citizen.page.expect_navigation():
        await citizen.page.click("#evaluation-submit")
    error = citizen.page.locator("fieldset.has-error .field-error")
    await error.wait_for()
    assert await citizen.page.is_checked('input[name=satisfaction][value="basically_satisfied"]')
    assert await citizen.page.input_value("#comment") == "回答很清楚"
    await citizen.shot("citizen-evaluation-refused")

    await citizen.page.check('input[name=resolved][value="true"]')
    async with citizen.page.expect_navigation():
        await citizen.page.click("#evaluation-submit")
    await citizen.page.locator("#thanks").wait_for()
    appeal = (await api.get(f"/appeals/{no}", headers=tokens["op"])).json()
    assert appeal["status"] == "closed" and appeal["satisfaction"] == "basically_satisfied"
    assert appeal["citizen_contacted"] == "not_asked"  # left unanswered: the unit's record counts
    # the page in English, the link kept
    async with citizen.page.expect_navigation():
        await citizen.page.click("header button.link")
    assert "t=" in citizen.page.url and await citizen.page.text_content("h1") == f"My appeal Order {no}"
    # no script failed (the refused form's own answer, a 422, is the only resource "failed")
    assert [e for e in citizen.errors if "422" not in e] == []
